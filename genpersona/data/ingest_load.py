"""The event-load stage of both ingests: diff against stored events, then bulk write.

Why a module of its own: the first loader built one dict per event and sent the
list through SQLAlchemy's ``insert(Event)``, which spends its time in Python per
row and per value (≈17k events/s on SQLite for the UCI file; far less on
PostgreSQL). A retailer's history is millions of events, so here the columns
are converted once, vectorised, and handed to the driver directly:

* SQLite: ``executemany`` of tuples, in chunks, inside the caller's transaction;
* PostgreSQL: ``COPY events (...) FROM STDIN`` through psycopg 3 ``cursor.copy``,
  on the connection of the caller's transaction.

Both write exactly the values the old path wrote (timestamps in SQLAlchemy's
SQLite text format, JSON payloads as ``json.dumps`` text, ``null`` included), so the two loaders
give identical rows; ``loader="rows"`` keeps the old path as the baseline the
benchmark and the equivalence tests compare against. The ingest stays one
transaction: a failure anywhere (a driver error here, or a later step) rolls
back every event written so far. Idempotency is unchanged: events are keyed by
(brand, source, source_key) and ``diff_events`` skips keys already stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from genpersona.data.tables import Customer, Event
from genpersona.errors import IngestError

#: "bulk": executemany / COPY of column-converted tuples; "rows": the original dict-per-row
#: insert through SQLAlchemy (kept as the benchmark baseline and for equivalence tests)
Loader = Literal["bulk", "rows"]
LOADERS: tuple[Loader, ...] = ("bulk", "rows")
#: events per executemany call / per progress tick; bounds the Python tuples alive at once
CHUNK = 50_000
#: the events-table columns an ingest writes, in COPY / INSERT order
EVENT_COLUMNS = (
    "brand_id", "customer_id", "type", "ts", "stock_code", "quantity", "unit_price",
    "order_id", "country", "payload", "source", "source_key",
)  # fmt: skip

Advance = Callable[..., None]
NULL_JSON = json.dumps(None)


def column_width(table: Any, column: str) -> int | None:
    """The declared VARCHAR width of a column (PostgreSQL enforces it, SQLite does not)."""
    return cast(Table, table.__table__).c[column].type.length  # type: ignore[attr-defined]


#: widths an input value must fit, by events-table column (customer ids by the customers table)
WIDTHS = {
    "stock_code": column_width(Event, "stock_code"),
    "order_id": column_width(Event, "order_id"),
    "country": column_width(Event, "country"),
    "source_key": column_width(Event, "source_key"),
    "customer": column_width(Customer, "external_id"),
}


def overlong(values: pd.Series, column: str) -> tuple[pd.Series, int] | None:
    """Rows whose value is wider than ``column`` allows, and the width; None when all fit.

    Checked before anything is written so that a long value gets an error naming
    its row instead of a bare driver error from PostgreSQL (and SQLite, which
    would store it, does not silently accept what PostgreSQL would refuse).
    """
    width = WIDTHS[column]
    if width is None:
        return None
    mask = values.astype("string").str.len().fillna(0) > width
    return (mask, width) if bool(mask.any()) else None


def diff_events(
    session: Session, brand_id: int, source: str, frame: pd.DataFrame
) -> tuple[pd.DataFrame, list[int]]:
    """Rows whose key is new, and ids of stored events of this source no longer in the file.

    Events are identified by (source, source_key); keeping the ones already
    stored keeps their ids stable, so memory-fact evidence survives a re-run.
    """
    pairs = session.execute(
        select(Event.source_key, Event.id).where(Event.brand_id == brand_id, Event.source == source)
    ).all()
    if not pairs:
        return frame, []
    # plain Python sets: pandas' ``isin`` on Arrow-backed strings loops in Python over the
    # values (≈40 s for 200k keys on a busy machine); set lookups take ≈0.1 µs each
    stored = {p[0] for p in pairs}
    keys = frame["source_key"].tolist()
    new = np.fromiter((k not in stored for k in keys), dtype=bool, count=len(keys))
    wanted = set(keys)
    return frame[new], [int(p[1]) for p in pairs if p[0] not in wanted]


def delete_events(session: Session, ids: list[int]) -> None:
    for start in range(0, len(ids), 900):
        session.execute(delete(Event).where(Event.id.in_(ids[start : start + 900])))


def _nullable(values: pd.Series, kind: type) -> list[Any]:
    """Python values (int/float/str) with None for NaN/None, as the drivers expect."""
    present = values.notna().to_numpy()
    if kind is int:
        out = values.where(values.notna(), 0).astype(np.int64).tolist()
    elif kind is float:
        out = values.astype(float).tolist()
    else:
        out = values.tolist()
    if present.all():
        return out
    return [v if ok else None for v, ok in zip(out, present, strict=True)]


def _timestamps(values: pd.Series) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS.ffffff``: SQLAlchemy's SQLite storage format, which
    PostgreSQL's COPY parses into the same timestamp the old loader sent."""
    stamps = np.datetime_as_string(values.to_numpy(dtype="datetime64[us]"), unit="us")
    return list(np.char.replace(stamps, "T", " "))


def _payloads(values: pd.Series) -> list[str]:
    """JSON text; a missing payload is JSON ``null``, as SQLAlchemy's JSON type stores None."""
    return [NULL_JSON if v is None else json.dumps(v) for v in values]


def event_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """The frame's events columns as driver-ready Python lists, in ``EVENT_COLUMNS`` order."""
    n = len(frame)

    def scalar(column: str) -> list[Any]:
        first = frame[column].iloc[0]
        if (frame[column] == first).all():
            return [first.item() if hasattr(first, "item") else first] * n
        return _nullable(frame[column], type(first))

    return [
        scalar("brand_id"),
        _nullable(frame["customer_id"], int),
        _nullable(frame["type"], str),
        _timestamps(frame["ts"]),
        _nullable(frame["stock_code"], str),
        _nullable(frame["quantity"], int),
        _nullable(frame["unit_price"], float),
        _nullable(frame["order_id"], str),
        _nullable(frame["country"], str),
        _payloads(frame["payload"]),
        scalar("source"),
        _nullable(frame["source_key"], str),
    ]


def _write_sqlite(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    sql = (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _write_postgres(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    sql = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(sql) as copy:  # a psycopg 3 cursor
        for row in rows:
            copy.write_row(row)


def _write_rows(session: Session, frame: pd.DataFrame) -> None:
    """The original path: a dict per event through SQLAlchemy (the baseline)."""
    records = frame.assign(ts=frame["ts"].dt.to_pydatetime()).to_dict("records")
    for r in records:
        cid = r["customer_id"]
        r["customer_id"] = None if cid is None or pd.isna(cid) else int(cid)
        r["quantity"] = int(r["quantity"])
        price = r["unit_price"]
        r["unit_price"] = None if price is None or pd.isna(price) else float(price)
        for key in ("stock_code", "order_id", "country"):
            if r[key] is not None and pd.isna(r[key]):
                r[key] = None
    session.execute(insert(Event), records)


def write_events(
    session: Session,
    frame: pd.DataFrame,
    *,
    loader: Loader = "bulk",
    advance: Advance | None = None,
    chunk: int | None = None,
) -> int:
    """Write the frame's events in the session's transaction; returns how many.

    ``frame`` has the ``EVENT_COLUMNS`` (``ts`` as datetime64, ``payload`` a
    dict or None). A driver error becomes an ``IngestError``; the caller's
    transaction then rolls back, so no event of this ingest stays written.
    """
    if loader not in LOADERS:
        raise IngestError(f"unknown event loader {loader!r}", fix=f"use one of {LOADERS}")
    frame = frame[list(EVENT_COLUMNS)]
    conn = session.connection()
    dialect = conn.dialect.name
    bulk = {"sqlite": _write_sqlite, "postgresql": _write_postgres}.get(dialect)
    size = chunk or CHUNK
    done = 0
    for start in range(0, len(frame), size):
        part = frame.iloc[start : start + size]
        try:
            if loader == "rows" or bulk is None:
                _write_rows(session, part)
            else:
                bulk(conn, list(zip(*event_columns(part), strict=True)))
        except (DBAPIError, conn.dialect.loaded_dbapi.Error) as exc:
            raise IngestError(
                f"the database refused events {start + 1:,}-{start + len(part):,} of "
                f"{len(frame):,}: {exc}",
                fix="nothing was written (the ingest is one transaction and was rolled back); "
                "fix the cause named by the database and re-run",
                dialect=dialect,
                first_row=start + 1,
            ) from exc
        done += len(part)
        if advance is not None:
            advance(done)
    return done
