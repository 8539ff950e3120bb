"""After-commit hooks on recorded events, so higher layers can react without this layer importing them.

The campaigns layer registers its trigger handler here (explicitly, from the
API app and the CLI; importing genpersona registers nothing). A hook runs after
the event is committed and must not raise into the caller: an event that was
stored stays stored even if a flow's bookkeeping fails, and the failure is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedEvent:
    brand: str
    customer_id: str
    type: str
    event_id: int
    ts: datetime
    stock_code: str | None
    order_id: str | None


EventHook = Callable[[RecordedEvent], None]
_HOOKS: dict[str, EventHook] = {}
_LOCK = threading.Lock()


def register_event_hook(name: str, hook: EventHook) -> None:
    with _LOCK:
        _HOOKS[name] = hook


def unregister_event_hook(name: str) -> None:
    with _LOCK:
        _HOOKS.pop(name, None)


def notify(event: RecordedEvent) -> None:
    with _LOCK:
        hooks = list(_HOOKS.items())
    for name, hook in hooks:
        try:
            hook(event)
        except Exception:  # a flow's failure must not undo or fail the stored event
            log.exception("event hook %s failed for event %s", name, event.event_id)
