"""Engines and sessions for SQLite (default, WAL) and PostgreSQL (by URL).

The database is the source of truth for all text; engines are cached per URL
because creating one per call would reopen the file and repeat the pragmas.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from genpersona.db.fast_read import FAST_READER
from genpersona.db.migrate import upgrade
from genpersona.errors import DatabaseError
from genpersona.settings import Settings, get_settings

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # erased rows must not linger as bytes in free pages of the file
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # the home may have been removed since its path was last built (settings
            # cache it): a new engine recreates the folder, as resolving the home did
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def get_engine(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    """The engine for the configured database, migrated to the newest schema."""
    settings = settings or get_settings()
    url = settings.sqlalchemy_url
    with _LOCK:
        if url not in _ENGINES:
            engine = make_engine(url)
            try:
                with engine.connect():
                    pass
            except OperationalError as exc:
                raise DatabaseError(
                    f"cannot connect to the database at {engine.url.render_as_string()}: {exc.orig}",
                    fix="check GENPERSONA_DATABASE_URL, that the server runs and the database exists",
                    url=engine.url.render_as_string(),
                ) from exc
            if migrate:
                upgrade(engine)
            _ENGINES[url] = engine
        return _ENGINES[url]


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(settings), expire_on_commit=False)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error, always close."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    FAST_READER.reset()
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def rowcount(result: Result[Any]) -> int:
    """Rows a DELETE/UPDATE touched: ``Session.execute`` is typed as a plain ``Result``."""
    return cast("CursorResult[Any]", result).rowcount or 0
