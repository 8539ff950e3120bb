"""`genpersona ingest events PATH --brand NAME`: your own events as CSV or JSON Lines.

Schema (one event per row / line; column names are exact, extra columns ignored):

| column        | required | meaning                                                     |
|---------------|----------|-------------------------------------------------------------|
| customer_id   | yes      | your customer id (string); empty = guest (counts for popularity only) |
| type          | yes      | purchase, return, view, email_open, click or chat           |
| ts            | yes      | ISO 8601 timestamp, e.g. 2024-11-02T09:30:00                |
| stock_code    | purchase/return | item id; also allowed on view and click              |
| quantity      | no       | integer >= 1, default 1                                     |
| unit_price    | no       | price per item (number >= 0)                                |
| order_id      | no       | groups lines into one order; default: customer + timestamp  |
| country       | no       | sets a new customer's country, locale and time zone         |
| description   | no       | item description; adds or updates the item in the catalog   |
| event_id      | no       | your unique id; makes re-runs skip this event exactly       |
| text          | no       | free text (chat message, campaign name), stored as payload  |

Re-running the same file is idempotent: each event is keyed by ``event_id`` or,
without one, by a hash of its fields (plus its repeat count for identical
rows), so only new events are added. The whole file is validated first (the
error names the line and column); writes are one transaction.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from genpersona.data.catalog import (
    build_catalog,
    catalog_vectors,
    old_descriptions,
    write_catalog,
)
from genpersona.data.derive import derive
from genpersona.data.ingest_load import Loader, diff_events, overlong, write_events
from genpersona.data.ingest_online_retail import (
    IngestReport,
    RecsFitter,
    file_sha256,
    upsert_customers,
)
from genpersona.data.progress import steps
from genpersona.data.repo import get_or_create_brand
from genpersona.data.tables import EVENT_TYPES, Brand, CatalogItem, IngestRun
from genpersona.data.themes import assign_themes
from genpersona.data.tombstones import erased_among
from genpersona.db.base import utcnow
from genpersona.db.engine import session_factory
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import IngestError
from genpersona.settings import Settings, get_settings
from genpersona.vectors.base import CATALOG
from genpersona.vectors.factory import get_vector_store

REQUIRED = ("customer_id", "type", "ts")
OPTIONAL = (
    "stock_code", "quantity", "unit_price", "order_id", "country", "description", "event_id", "text",
)  # fmt: skip
CONSENT_PURPOSES = ("personalization", "email", "chat_memory")


def _read(path: Path, fmt: str | None) -> tuple[pd.DataFrame, int]:
    """The raw table (all strings) and the offset from row index to file line number."""
    if not path.exists():
        raise IngestError(f"{path} does not exist", fix="pass an existing CSV or JSONL file")
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt in ("csv", "txt"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False), 2
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise IngestError(
                f"{path} is not valid CSV: {exc}",
                fix="save the file as UTF-8 CSV with a header line",
                path=str(path),
            ) from exc
    if fmt in ("jsonl", "ndjson", "json"):
        records = []
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IngestError(
                        f"{path}: line {lineno} is not valid JSON: {exc.msg}",
                        fix="write one JSON object per line (JSON Lines)",
                        path=str(path),
                        row=lineno,
                    ) from exc
                if not isinstance(obj, dict):
                    raise IngestError(
                        f"{path}: line {lineno} is not a JSON object",
                        fix="write one JSON object per line",
                        path=str(path),
                        row=lineno,
                    )
                records.append({k: "" if v is None else str(v) for k, v in obj.items()})
        return pd.DataFrame.from_records(records).fillna(""), 1
    raise IngestError(
        f"cannot tell the format of {path}",
        fix="use a .csv or .jsonl file, or pass --format csv|jsonl",
        path=str(path),
    )


def _fail(
    path: Path, mask: pd.Series, column: str, problem: str, line0: int, raw: pd.DataFrame
) -> None:
    if not mask.any():
        return
    pos = int(np.flatnonzero(mask.to_numpy())[0])
    raise IngestError(
        f"{path}: line {pos + line0} has {problem} in column {column!r}: {raw[column].iloc[pos]!r}",
        fix=f"fix that line ({int(mask.sum())} line(s) have this problem) and re-run; nothing was "
        "written",
        path=str(path),
        row=pos + line0,
        column=column,
    )


def read_events(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """Validate and normalize an events file to the events-table columns."""
    raw, line0 = _read(path, fmt)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise IngestError(
            f"{path} lacks required column(s) {', '.join(missing)}",
            fix="columns are customer_id, type, ts (+ optional " + ", ".join(OPTIONAL) + ")",
            path=str(path),
            missing=missing,
        )
    for col in OPTIONAL:
        if col not in raw.columns:
            raw[col] = ""
    raw = raw.astype(str).apply(lambda s: s.str.strip())
    kind = raw["type"].str.lower()
    _fail(path, ~kind.isin(EVENT_TYPES), "type", "an unknown event type", line0, raw)
    ts = pd.to_datetime(raw["ts"], errors="coerce", utc=True, format="ISO8601").dt.tz_convert(None)
    _fail(path, ts.isna(), "ts", "a missing or unparseable timestamp", line0, raw)
    needs_item = kind.isin(["purchase", "return"])
    _fail(path, needs_item & (raw["stock_code"] == ""), "stock_code", "no stock code", line0, raw)
    qty = pd.to_numeric(raw["quantity"].replace("", "1"), errors="coerce")
    _fail(path, qty.isna() | (qty < 1) | (qty != qty.round()), "quantity",
          "a quantity that is not a whole number >= 1", line0, raw)  # fmt: skip
    price = pd.to_numeric(raw["unit_price"].replace("", np.nan), errors="coerce")
    _fail(path, (raw["unit_price"] != "") & (price.isna() | (price < 0)), "unit_price",
          "a price that is not a number >= 0", line0, raw)  # fmt: skip
    dup = (raw["event_id"] != "") & raw["event_id"].duplicated(keep="first")
    _fail(path, dup, "event_id", "a duplicate event_id", line0, raw)
    customer = raw["customer_id"].where(raw["customer_id"] != "", None)
    code = raw["stock_code"].str.upper().where(raw["stock_code"] != "", None)
    order = raw["order_id"].where(
        raw["order_id"] != "", raw["customer_id"].fillna("guest") + "@" + ts.astype(str)
    )
    frame = pd.DataFrame(
        {
            "line": np.arange(len(raw)) + line0,
            "customer": customer,
            "type": kind,
            "ts": ts,
            "stock_code": code,
            "quantity": qty.astype(int),
            "unit_price": price,
            "order_id": order,
            "country": raw["country"].where(raw["country"] != "", None),
            "description": raw["description"],
            "text": raw["text"],
            "event_id": raw["event_id"],
        }
    )
    cols = ["customer", "type", "ts", "stock_code", "quantity", "unit_price", "order_id", "text"]
    content = pd.Series(
        ["|".join(map(str, t)) for t in frame[cols].itertuples(index=False)], index=frame.index
    )
    hashed = content.map(lambda s: hashlib.sha1(s.encode()).hexdigest()[:32])
    hashed = hashed + "#" + hashed.groupby(hashed).cumcount().astype(str)
    frame["source_key"] = np.where(frame["event_id"] != "", "id:" + frame["event_id"], hashed)
    for col, values, width_of in (
        ("customer_id", frame["customer"], "customer"),
        ("stock_code", frame["stock_code"], "stock_code"),
        ("order_id", frame["order_id"], "order_id"),  # default: customer_id@ts
        ("country", frame["country"], "country"),
        ("event_id", frame["source_key"], "source_key"),  # stored as "id:" + event_id
    ):
        if (hit := overlong(values, width_of)) is not None:
            _fail(path, hit[0], col, f"a value too long to store (limit {hit[1]} characters)",
                  line0, raw)  # fmt: skip
    return frame


def ingest_events(
    path: Path | str,
    brand: str,
    *,
    source: str | None = None,
    fmt: str | None = None,
    consent: tuple[str, ...] = (),
    fit_recs: RecsFitter | None = None,
    show_progress: bool = False,
    settings: Settings | None = None,
    loader: Loader = "bulk",
) -> IngestReport:
    """Load an events file; new customers get the consent purposes listed in ``consent``.

    ``loader="rows"`` is the old dict-per-event writer, kept as the benchmark baseline.
    """
    settings = settings or get_settings()
    path = Path(path)
    bad = [p for p in consent if p not in CONSENT_PURPOSES]
    if bad:
        raise IngestError(
            f"unknown consent purpose(s) {', '.join(bad)}",
            fix=f"use any of {', '.join(CONSENT_PURPOSES)}",
        )
    source = source or f"file:{path.stem}"
    started = utcnow()
    clock = time.perf_counter()
    ev = read_events(path, fmt)
    seconds = {"read_validate": round(time.perf_counter() - clock, 2)}
    embedder = get_embedder(settings=settings)
    store = get_vector_store(settings)
    factory = session_factory(settings)

    with factory() as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.slug == brand))
        previous = old_descriptions(session, brand_id)
        erased = erased_among(session, brand, ev["customer"].dropna().unique())
        stored = (
            session.execute(select(CatalogItem).where(CatalogItem.brand_id == brand_id))
            .scalars()
            .all()
            if brand_id
            else []
        )
        old_rows = pd.DataFrame(
            [
                {"stock_code": i.stock_code, "description": i.description, "unit_price": i.price or 0.0,
                 "quantity": 1, "order_id": None, "customer": None}
                for i in stored
            ]
        )  # fmt: skip
    if erased:  # erased customers stay erased: their rows are not imported again
        ev = ev[~ev["customer"].isin(erased)]
    # catalog = stored items + items seen in this file (file descriptions win)
    sales = ev[ev["stock_code"].notna()].assign(
        description=lambda f: f["description"].where(f["description"] != "", None),
        unit_price=lambda f: f["unit_price"].fillna(0.0),
    )
    sales = sales.assign(
        quantity=np.where(sales["type"] == "purchase", sales["quantity"], 0),
        description=sales["description"].fillna(sales["stock_code"].map(previous)),
    )
    frames = [f for f in (old_rows, sales) if not f.empty]
    catalog = (
        build_catalog(pd.concat(frames, ignore_index=True), lambda _c: True)
        if frames
        else pd.DataFrame()
    )
    if not catalog.empty:
        catalog["is_product"] = True
        catalog["price"] = catalog["price"].fillna(0.0)
    with steps(show_progress) as st:
        vectors = (
            catalog_vectors(
                brand, catalog, previous, embedder, store, progress=st.task("embed catalog")
            )
            if not catalog.empty
            else np.zeros((0, embedder.dim), np.float32)
        )
        assignment = assign_themes(catalog, vectors) if not catalog.empty else None
        with factory() as session, session.begin():
            brand_row = get_or_create_brand(session, brand)
            if assignment is not None:
                write_catalog(session, brand_row, catalog, assignment)
            known = ev[ev["customer"].notna()]
            countries = (
                known.assign(country=known["country"].fillna(""))
                .sort_values("line")
                .groupby("customer")["country"]
                .agg(lambda s: next((c for c in s if c), None))
            )
            # a customer whose rows name no country: pandas turns the None into NaN
            countries = countries.astype(object).where(countries.notna(), None)
            id_of, n_new = upsert_customers(
                session, brand_row, countries, source=source,
                consent={p: p in consent for p in CONSENT_PURPOSES},
            )  # fmt: skip
            table = pd.DataFrame(
                {
                    "brand_id": brand_row.id,
                    "customer_id": ev["customer"].map(id_of),
                    "type": ev["type"],
                    "ts": ev["ts"],
                    "stock_code": ev["stock_code"],
                    "quantity": ev["quantity"],
                    "unit_price": ev["unit_price"],
                    "order_id": ev["order_id"],
                    "country": ev["country"],
                    "payload": [({"text": t} if t else None) for t in ev["text"]],
                    "source": source,
                    "source_key": ev["source_key"],
                }
            )
            load_start = time.perf_counter()
            fresh, _ = diff_events(session, brand_row.id, source, table)
            written = write_events(
                session, fresh, loader=loader, advance=st.task("write events", total=len(fresh))
            )
            seconds["write_events"] = round(time.perf_counter() - load_start, 2)
            stats, pending = derive(
                session, brand_row, embedder, progress=st.task("profiles and memories")
            )
            seconds.update({f"derive_{k}": v for k, v in stats.seconds.items()})
            session.add(
                IngestRun(
                    brand_id=brand_row.id, kind="events", path=str(path.resolve()),
                    sha256=file_sha256(path), stats={"rows": len(ev), "written": written},
                    started_at=started, finished_at=utcnow(),
                )
            )  # fmt: skip
        if assignment is not None:
            store.upsert(
                CATALOG,
                [f"item:{brand}:{c}" for c in catalog["stock_code"]],
                vectors,
                [{"brand": brand, "stock_code": c, "theme": assignment.primary.get(c, "")}
                 for c in catalog["stock_code"]],
            )  # fmt: skip
        pending.apply(factory, store)
        rec_path = None
        if fit_recs is not None:
            with factory() as session:
                rec_path = fit_recs(
                    session,
                    session.scalars(select(Brand).where(Brand.slug == brand)).one(),
                    store,
                    settings,
                )
    seconds["total"] = round(time.perf_counter() - clock, 2)
    counts = ev["type"].value_counts()
    return IngestReport(
        brand=brand,
        source=source,
        path=str(path),
        rows=len(ev),
        customers=int(ev["customer"].nunique()),
        new_customers=n_new,
        skipped_erased=len(erased),
        guest_rows=int(ev["customer"].isna().sum()),
        products=len(catalog),
        events={k: int(v) for k, v in counts.items()},
        events_written=written,
        themes=assignment.stats if assignment else {},
        profiles=stats.profiles,
        memory_facts=stats.facts,
        memory_facts_new=stats.new_facts,
        recommender=str(rec_path) if rec_path else None,
        seconds=seconds,
    )
