"""Registry of per-module erase and export hooks for customer data.

The customer data layer owns customers, events, memories and profiles; other
modules (drafts, reviews, audit log, exemplars, outcomes...) store derived data
about customers in their own tables. Each registers an eraser (and ideally an
exporter) here, so ``erase_customer`` removes every row about the customer and
``export_customer`` returns everything held, without this module importing theirs.

    from genpersona.customers.erasure import CustomerRef, register_eraser

    def erase_drafts(session: Session, ref: CustomerRef) -> int:
        return session.execute(delete(Draft).where(...)).rowcount

    register_eraser(erase_drafts, name="drafts")

Erasers run inside the erase transaction, before the customer row is deleted,
and must not commit. They return the number of rows they removed.

Caches on disk that may hold data derived from a customer, but cannot tell whose
entries are whose (e.g. the click model's embeddings, keyed by a hash of whatever
text was embedded), register a dropper with ``register_derived_cache``: erase
drops them whole after the rows are gone (it is a cache: the next user rebuilds it).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

import genpersona


@dataclass(frozen=True)
class CustomerRef:
    brand: str  # brand slug
    brand_id: int
    customer_pk: int  # customers.id
    external_id: str  # the brand's customer id, e.g. "17850"


Eraser = Callable[[Session, CustomerRef], int]
Exporter = Callable[[Session, CustomerRef], Any]
#: (session, vector ids) -> the ids whose rows still exist (the rest are orphans)
LiveIds = Callable[[Session, list[str]], set[str]]
#: (home directory) -> files removed: drops a cache derived from customers' data
DropCache = Callable[[Path], int]


@dataclass(frozen=True)
class VectorCollection:
    """A collection holding vectors derived from customers' data: rebuilt after erasures."""

    name: str
    live: LiveIds | None = None
    metadata_keys: frozenset[str] | None = None  # None: keep every key


_ERASERS: dict[str, Eraser] = {}
_EXPORTERS: dict[str, Exporter] = {}
_COLLECTIONS: dict[str, VectorCollection] = {}
_DERIVED_CACHES: dict[str, DropCache] = {}
_LOCK = threading.Lock()


def _name(fn: Callable[..., Any], name: str | None) -> str:
    return name or f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"


def register_eraser(fn: Eraser, name: str | None = None) -> Eraser:
    """Register (idempotently, by name) a callback that deletes a customer's rows."""
    with _LOCK:
        _ERASERS[_name(fn, name)] = fn
    return fn


def register_exporter(fn: Exporter, name: str | None = None) -> Exporter:
    """Register a callback returning JSON-serializable data held about a customer."""
    with _LOCK:
        _EXPORTERS[_name(fn, name)] = fn
    return fn


def register_vector_collection(
    name: str, live: LiveIds | None = None, metadata_keys: frozenset[str] | None = None
) -> None:
    """Declare a vector collection whose deleted vectors must be scrubbed after an erase."""
    with _LOCK:
        _COLLECTIONS[name] = VectorCollection(name, live, metadata_keys)


def register_derived_cache(name: str, drop: DropCache) -> None:
    """Declare an on-disk cache under the home that erase drops whole (see the module doc)."""
    with _LOCK:
        _DERIVED_CACHES[name] = drop


def derived_caches() -> dict[str, DropCache]:
    with _LOCK:
        return dict(_DERIVED_CACHES)


def vector_collections() -> dict[str, VectorCollection]:
    with _LOCK:
        return dict(_COLLECTIONS)


def erasers() -> dict[str, Eraser]:
    with _LOCK:
        return dict(_ERASERS)


def exporters() -> dict[str, Exporter]:
    with _LOCK:
        return dict(_EXPORTERS)


def unregister(name: str) -> None:
    with _LOCK:
        _ERASERS.pop(name, None)
        _EXPORTERS.pop(name, None)


_HOOK_MODULE_NAMES = ("erasure", "privacy", "tables")
_discovered = False


def discover() -> None:
    """Import every ``genpersona.<pkg>.{tables,erasure,privacy}`` module once.

    Registration happens at import time, and a CLI process running
    ``customer erase`` may never have imported the review queue; discovery
    makes sure every module's hooks (and ORM tables) are known before erasing.
    """
    global _discovered
    if _discovered:
        return
    for info in pkgutil.iter_modules(genpersona.__path__):
        if not info.ispkg:
            continue
        for name in _HOOK_MODULE_NAMES:
            module = f"genpersona.{info.name}.{name}"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
    _discovered = True
