"""`genpersona ingest online-retail PATH --brand NAME`: the UCI Online Retail parquet.

Loads the catalog (stock code, cleaned description, typical price, theme),
customers (rows without CustomerID are guest checkouts: their sales count for
popularity but they are not customers), purchase and return events, then
derives profiles, memory facts and the recommender.

Guarantees: the whole file is validated before anything is written (a bad row
gets an error naming it); all SQL writes are one transaction, so a failure
leaves the previous data intact; re-running replaces this brand's
online-retail events and keeps customer choices (consent, chat memories).
Demo consent: the UCI data records no consent, so new customers get
personalization, email and chat-memory consent (``demo_consent=False`` turns that off).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from genpersona.data.catalog import (
    build_catalog,
    catalog_vectors,
    is_uci_product_code,
    old_descriptions,
    write_catalog,
)
from genpersona.data.derive import derive
from genpersona.data.ingest_load import (
    Loader,
    delete_events,
    diff_events,
    overlong,
    write_events,
)
from genpersona.data.locales import locale_for_country
from genpersona.data.progress import steps
from genpersona.data.repo import get_or_create_brand
from genpersona.data.tables import Brand, Customer, IngestRun
from genpersona.data.themes import assign_themes
from genpersona.data.tombstones import erased_among
from genpersona.db.base import utcnow
from genpersona.db.engine import session_factory
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import IngestError
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import CATALOG, VectorStore
from genpersona.vectors.factory import get_vector_store

SOURCE = "online-retail"
COLUMNS = {
    "InvoiceNo": "order id",
    "StockCode": "stock code",
    "Description": "description",
    "Quantity": "quantity",
    "InvoiceDate": "invoice date",
    "UnitPrice": "unit price",
    "CustomerID": "customer id",
    "Country": "country",
}


#: fits and saves the brand's recommender after an ingest; passed in by the caller
#: (``genpersona.recs.store.fit_recommender``) because recs sits above data
RecsFitter = Callable[[Session, Brand, VectorStore, Settings], Path | None]


class IngestReport(BaseModel):
    brand: str
    source: str
    path: str
    rows: int
    customers: int
    new_customers: int
    skipped_erased: int = 0  # customers erased before, whose rows were not imported again
    guest_rows: int
    products: int
    events: dict[str, int] = Field(default_factory=dict)
    themes: dict[str, int] = Field(default_factory=dict)
    events_written: int = 0
    events_removed: int = 0
    profiles: int = 0
    memory_facts: int = 0
    memory_facts_new: int = 0
    recommender: str | None = None
    seconds: dict[str, float] = Field(default_factory=dict)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bad_row(path: Path, mask: pd.Series, column: str, problem: str, frame: pd.DataFrame) -> None:
    if not mask.any():
        return
    pos = int(np.flatnonzero(mask.to_numpy())[0])
    raise IngestError(
        f"{path}: row {pos + 1} (0-based index {pos}) has {problem} in column {column!r}: "
        f"{frame[column].iloc[pos]!r}",
        fix=f"correct or remove that row ({mask.sum()} row(s) have this problem) and re-run the "
        "ingest; nothing was written",
        path=str(path),
        row=pos + 1,
        column=column,
        rows_affected=int(mask.sum()),
    )


def read_online_retail(path: Path) -> pd.DataFrame:
    """Validate the parquet and return normalized transaction lines (one per file row)."""
    if not path.exists():
        raise IngestError(
            f"{path} does not exist",
            fix="pass the path of online_retail.parquet (e.g. ../shared/data/online_retail.parquet)",
            path=str(path),
        )
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:
        raise IngestError(
            f"{path} is not a readable parquet file: {exc}",
            fix="pass the UCI Online Retail parquet; for CSV/JSONL use `genpersona ingest events`",
            path=str(path),
        ) from exc
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(
            f"{path} lacks column(s) {', '.join(missing)}",
            fix="use the UCI Online Retail parquet with its original column names "
            f"({', '.join(COLUMNS)})",
            path=str(path),
            missing=missing,
        )
    for col in ("InvoiceNo", "StockCode", "Country"):
        text = raw[col].astype("string").str.strip()
        _bad_row(path, text.isna() | (text == ""), col, "an empty value", raw)
    qty = pd.to_numeric(raw["Quantity"], errors="coerce")
    _bad_row(path, qty.isna() | (qty != qty.round()), "Quantity", "a non-integer quantity", raw)
    price = pd.to_numeric(raw["UnitPrice"], errors="coerce")
    _bad_row(path, price.isna(), "UnitPrice", "a non-numeric price", raw)
    ts = pd.to_datetime(raw["InvoiceDate"], errors="coerce")
    _bad_row(path, ts.isna(), "InvoiceDate", "a missing or unparseable date", raw)
    cust = pd.to_numeric(raw["CustomerID"], errors="coerce")
    _bad_row(path, cust.isna() & raw["CustomerID"].notna(), "CustomerID", "a non-numeric id", raw)
    order = raw["InvoiceNo"].astype(str).str.strip()
    code = raw["StockCode"].astype(str).str.strip().str.upper()
    country = raw["Country"].astype(str).str.strip()
    for col, values, width_of in (
        ("InvoiceNo", order, "order_id"),
        ("StockCode", code, "stock_code"),
        ("Country", country, "country"),
    ):
        if (hit := overlong(values, width_of)) is not None:
            _bad_row(path, hit[0], col, f"a value longer than {hit[1]} characters", raw)
    known = cust.notna()
    customer = pd.Series(None, index=raw.index, dtype=object)
    customer[known] = cust[known].astype(np.int64).astype(str)
    return pd.DataFrame(
        {
            "row": np.arange(len(raw)),
            "order_id": order,
            "stock_code": code,
            "description": raw["Description"],
            "quantity": qty.astype(np.int64),
            "ts": ts,
            "unit_price": price.astype(float),
            "customer": customer,
            "country": country,
            "cancelled": order.str.upper().str.startswith("C"),
        }
    )


def upsert_customers(
    session, brand: Brand, countries: pd.Series, *, source: str, consent: dict[str, bool]
) -> tuple[dict[str, int], int]:
    """Insert customers we have not seen; keep existing rows (and their consent choices)."""
    existing = dict(
        session.execute(
            select(Customer.external_id, Customer.id).where(Customer.brand_id == brand.id)
        ).all()
    )
    now = utcnow()
    new_rows = []
    for ext, country in countries.items():
        if ext in existing:
            continue
        loc = locale_for_country(country)
        new_rows.append(
            {
                "brand_id": brand.id,
                "external_id": ext,
                "country": country,
                "locale": loc.locale,
                "timezone": loc.timezone,
                "consent_personalization": consent.get("personalization", False),
                "consent_email": consent.get("email", False),
                "consent_chat_memory": consent.get("chat_memory", False),
                "consent_updated_at": now if any(consent.values()) else None,
                "learning_since": None,
                "source": source,
                "created_at": now,
                "updated_at": now,
            }
        )
    if new_rows:
        ids = session.execute(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True), new_rows
        ).scalars()
        existing.update(zip([r["external_id"] for r in new_rows], ids, strict=True))
    return existing, len(new_rows)


def ingest_online_retail(
    path: Path | str,
    brand: str,
    *,
    brand_name: str | None = None,
    demo_consent: bool = True,
    fit_recs: RecsFitter | None = None,
    show_progress: bool = False,
    settings: Settings | None = None,
    loader: Loader = "bulk",
) -> IngestReport:
    """Ingest the parquet; ``loader="rows"`` is the old event writer (benchmark baseline)."""
    settings = settings or get_settings()
    path = Path(path)
    started = utcnow()
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    tx = read_online_retail(path)
    lap("read_validate")
    embedder = get_embedder(settings=settings)
    store = get_vector_store(settings)
    factory = session_factory(settings)
    catalog = build_catalog(tx, is_uci_product_code)
    products = catalog[catalog["is_product"]].reset_index(drop=True)
    with factory() as session:
        existing_brand = session.scalar(select(Brand.id).where(Brand.slug == brand))
        previous = old_descriptions(session, existing_brand)
    with steps(show_progress) as st:
        vectors = catalog_vectors(
            brand, products, previous, embedder, store, progress=st.task("embed catalog")
        )
        assignment = assign_themes(products, vectors)
        lap("catalog_themes")

        is_return = tx["cancelled"] | (tx["quantity"] < 0)
        is_customer = tx["customer"].notna()
        countries = (
            tx[is_customer]
            .groupby(["customer", "country"])
            .size()
            .reset_index(name="n")
            .sort_values(["customer", "n", "country"], ascending=[True, False, True])
            .drop_duplicates("customer")
            .set_index("customer")["country"]
        )
        with factory() as session, session.begin():
            brand_row = get_or_create_brand(session, brand, brand_name)
            write_catalog(session, brand_row, catalog, assignment)
            erased = erased_among(session, brand, countries.index)
            if erased:  # erased customers stay erased: drop their rows, not just their link
                tx = tx[~tx["customer"].isin(erased)]
                is_return, is_customer = is_return[tx.index], is_customer[tx.index]
                countries = countries.drop(index=list(erased))
            consent = dict.fromkeys(("personalization", "email", "chat_memory"), demo_consent)
            id_of, n_new = upsert_customers(
                session, brand_row, countries, source=SOURCE, consent=consent
            )
            cust_ids = tx["customer"].map(id_of)
            ev = pd.DataFrame(
                {
                    "brand_id": brand_row.id,
                    "customer_id": cust_ids.astype("object").where(cust_ids.notna(), None),
                    "type": np.where(is_return, "return", "purchase"),
                    "ts": tx["ts"],
                    "stock_code": tx["stock_code"],
                    "quantity": tx["quantity"].abs(),
                    "unit_price": tx["unit_price"],
                    "order_id": tx["order_id"],
                    "country": tx["country"],
                    "payload": None,
                    "source": SOURCE,
                    "source_key": tx["order_id"] + ":" + tx["row"].astype(str),
                }
            )
            lap("prepare")
            fresh, vanished = diff_events(session, brand_row.id, SOURCE, ev)
            delete_events(session, vanished)
            written = write_events(
                session, fresh, loader=loader, advance=st.task("write events", total=len(fresh))
            )
            lap("write_events")
            stats, pending = derive(
                session, brand_row, embedder, progress=st.task("profiles and memories")
            )
            lap("profiles_memories")
            seconds.update({f"derive_{k}": v for k, v in stats.seconds.items()})
            session.add(
                IngestRun(
                    brand_id=brand_row.id,
                    kind=SOURCE,
                    path=str(path.resolve()),
                    sha256=file_sha256(path),
                    stats={"rows": len(tx), "new_customers": n_new},
                    started_at=started,
                    finished_at=utcnow(),
                )
            )
        lap("commit")
        store.upsert(
            CATALOG,
            [f"item:{brand}:{c}" for c in products["stock_code"]],
            vectors,
            [
                {"brand": brand, "stock_code": c, "theme": assignment.primary.get(c, "")}
                for c in products["stock_code"]
            ],
        )
        pending.apply(factory, store)
        lap("vectors")
        rec_path = None
        if fit_recs is not None:
            with factory() as session:
                brand_row = session.scalars(select(Brand).where(Brand.slug == brand)).one()
                rec_path = fit_recs(session, brand_row, store, settings)
            lap("recommender")
    counts = pd.Series(np.where(is_return, "return", "purchase")).value_counts()
    return IngestReport(
        brand=brand,
        source=SOURCE,
        path=str(path),
        rows=len(tx),
        customers=len(id_of),
        new_customers=n_new,
        skipped_erased=len(erased),
        guest_rows=int((~is_customer).sum()),
        products=len(products),
        events={k: int(v) for k, v in counts.items()},
        themes=assignment.stats,
        profiles=stats.profiles,
        memory_facts=stats.facts,
        memory_facts_new=stats.new_facts,
        events_written=written,
        events_removed=len(vanished),
        recommender=str(rec_path) if rec_path else None,
        seconds=seconds,
    )
