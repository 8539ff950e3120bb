"""What a customer was recently sent, readable by the chat and hero paths.

Why a reader registry: the message ledger is the delivery layer's exposure log, and the
agent (which writes chat answers and heroes) may not import delivery (delivery imports
campaigns, which import the agent). Delivery registers its reader here when it is
imported (the API app always imports it); with no reader registered the ledger is empty,
so a process that never delivers anything simply has nothing to show.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from genpersona.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentMessage:
    campaign: str
    channel: str
    #: the copy the customer was given (subject / headline), as approved
    text: str
    sent_at: datetime


LedgerReader = Callable[[str, str, Settings], list[SentMessage]]
_READER: list[LedgerReader] = []
_LOCK = threading.Lock()


def register_ledger_reader(reader: LedgerReader) -> None:
    with _LOCK:
        _READER[:] = [reader]


def sent_messages(brand: str, customer_id: str, settings: Settings) -> list[SentMessage]:
    """Newest first; [] when no reader is registered or it fails (a chat answer must not
    fail because the ledger could not be read; the failure is logged)."""
    with _LOCK:
        readers = list(_READER)
    if not readers:
        return []
    try:
        return readers[0](brand, customer_id, settings)
    except Exception:
        log.exception("ledger reader failed for %s/%s", brand, customer_id)
        return []
