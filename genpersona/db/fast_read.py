"""Read-only fast path for the few prebuilt SELECTs on every generation request.

Why it exists: a generation request runs five small reads (customer and profile,
memory facts, exemplar version, past drafts, the hero catalog check), each between
model calls that leave the CPU caches cold. There SQLAlchemy Core's per-execute
machinery (pool checkout, execution context, result metadata) dominates: with the
caches evicted, ``python bench/fast_read.py`` measured the five at 0.72-0.77 ms p50
through Core against 0.35 ms through this module on the demo database.

What stays the same: the statements are SQLAlchemy ``Select`` objects compiled
once per dialect, bound parameters go through their types' bind processors and
every value comes back through its column type's result processor, so rows hold
the same Python types as Core rows (JSON decoded, datetimes parsed, booleans).
Rows are named tuples: ``row.name`` and ``row[i]`` both work, as on Core rows.

Where it applies: SQLite only, read-only (``PRAGMA query_only``), one connection
per thread, process and database file, in autocommit mode and always fully fetched, so it
never holds a read snapshot that would stall WAL checkpoints. Any other database,
SQLite URLs with URI options, and statements with expanding ``IN`` parameters take
the ordinary Core path.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, Select

from genpersona.settings import get_settings

_Processor = Callable[[Any], Any] | None


class PreparedSelect:
    """One SELECT compiled for one dialect, with its bind and result processors."""

    def __init__(self, stmt: Select, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = stmt.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string or not compiled.positional:
            raise ValueError("statement needs the Core path (expanding IN or named binds)")
        self.sql = compiled.string
        self._defaults = dict(compiled.params)
        self._order: list[str] = list(compiled.positiontup or [])
        self._bind: list[_Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self._order
        ]
        columns = list(stmt.selected_columns)
        self._result: list[_Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]
        self._plain = all(p is None for p in self._result)
        self.row: Any = namedtuple("Row", list(stmt.selected_columns.keys()), rename=True)  # type: ignore[misc]

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        values = {**self._defaults, **params}
        return tuple(
            proc(values[name]) if proc else values[name]
            for name, proc in zip(self._order, self._bind, strict=True)
        )

    def rows(self, raw: Sequence[tuple[Any, ...]]) -> list[Any]:
        make = self.row._make
        if self._plain:
            return [make(r) for r in raw]
        procs = self._result
        return [make(p(v) if p else v for p, v in zip(procs, r, strict=True)) for r in raw]


class FastReader:
    """Runs prepared SELECTs on a per-thread read-only sqlite3 connection."""

    def __init__(self) -> None:
        self._local = threading.local()
        #: (dialect, id(stmt)) -> (stmt, prepared); the statement is held so its id stays its own
        self._prepared: dict[tuple[str, int], tuple[Select, PreparedSelect | None]] = {}
        self._lock = threading.Lock()
        #: bumped by ``reset``: every thread reopens its connections on next use
        self._generation = 0

    def _prepare(self, stmt: Select, engine: Engine) -> PreparedSelect | None:
        key = (engine.dialect.name, id(stmt))
        with self._lock:
            held = self._prepared.get(key)
        if held is not None:
            return held[1]
        try:
            prepared: PreparedSelect | None = PreparedSelect(stmt, engine)
        except ValueError:
            prepared = None
        with self._lock:
            self._prepared[key] = (stmt, prepared)
        return prepared

    def _connection(self, path: str) -> sqlite3.Connection | None:
        """This thread's connection to ``path``; reopened when the file was replaced, None
        when there is no file (the Core path then reports or creates it as usual)."""
        conns: dict[str, tuple[int, tuple[int, int, int], sqlite3.Connection]] | None = getattr(
            self._local, "conns", None
        )
        if conns is None:
            conns = self._local.conns = {}
        try:
            st = os.stat(path)
        except OSError:
            return None
        # a forked child (Celery prefork, multiprocessing) must not share its parent's
        # SQLite handle: the process id is part of what the connection is valid for
        ident = (st.st_dev, st.st_ino, os.getpid())
        held = conns.get(path)
        if held is not None and held[0] == self._generation and held[1] == ident:
            return held[2]
        if held is not None and held[1][2] == ident[2]:
            held[2].close()  # never close a handle inherited from the parent process
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        conns[path] = (self._generation, ident, conn)
        return conn

    def all(self, engine: Engine, stmt: Select, params: dict[str, Any]) -> list[Any]:
        """Every row of ``stmt`` (named tuples on SQLite, Core rows elsewhere, and
        everywhere with ``GENPERSONA_FAST_READ=false``)."""
        prepared = (
            self._prepare(stmt, engine)
            if get_settings().fast_read
            and engine.dialect.name == "sqlite"
            and engine.url.database not in (None, "", ":memory:")
            and not engine.url.query  # URI options (mode=ro, ...) stay with SQLAlchemy
            else None
        )
        conn = self._connection(str(engine.url.database)) if prepared is not None else None
        if conn is None or prepared is None:
            with engine.connect() as core:
                return list(core.execute(stmt, params).all())
        raw = conn.execute(prepared.sql, prepared.args(params)).fetchall()
        return prepared.rows(raw)

    def first(self, engine: Engine, stmt: Select, params: dict[str, Any]) -> Any | None:
        rows = self.all(engine, stmt, params)
        return rows[0] if rows else None

    def reset(self) -> None:
        """Forget prepared statements and make every thread reopen (engines disposed)."""
        with self._lock:
            self._prepared.clear()
            self._generation += 1


FAST_READER = FastReader()
