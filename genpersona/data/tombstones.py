"""Remembering that a customer was erased without remembering who they were.

Bulk imports (the retail parquet, CSV/JSONL event files) skip customers on this
list, so re-running an import after an erasure does not bring them back. Only a
SHA-256 digest of (brand, customer id) is stored. Customer ids are often short
numbers, so the digest is a pseudonym rather than anonymous data — the usual
trade-off of a suppression list, which exists to honour the erasure. A customer
who later signs up again through the API (``create_customer=True``) is a new,
knowing relationship: that clears the entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from genpersona.data.tables import ErasedCustomer


def digest(brand: str, external_id: str) -> str:
    return hashlib.sha256(f"{brand}\x1f{external_id}".encode()).hexdigest()


def add_tombstone(session: Session, brand: str, external_id: str) -> None:
    key = digest(brand, external_id)
    exists = session.scalar(
        select(ErasedCustomer.id).where(ErasedCustomer.brand == brand, ErasedCustomer.digest == key)
    )
    if exists is None:
        session.add(ErasedCustomer(brand=brand, digest=key))


def clear_tombstone(session: Session, brand: str, external_id: str) -> None:
    session.execute(
        delete(ErasedCustomer).where(
            ErasedCustomer.brand == brand, ErasedCustomer.digest == digest(brand, external_id)
        )
    )


def erased_among(session: Session, brand: str, external_ids: Iterable[str]) -> set[str]:
    """Which of these ids were erased before (one query for the brand's whole list)."""
    known = set(session.scalars(select(ErasedCustomer.digest).where(ErasedCustomer.brand == brand)))
    if not known:
        return set()
    return {e for e in external_ids if digest(brand, e) in known}
