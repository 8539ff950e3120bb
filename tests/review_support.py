"""Fixtures for the review-queue tests: SQLite and (when configured) PostgreSQL backends.

PostgreSQL: one uniquely named database per test session, created from the
server URL in ``GENPERSONA_TEST_PG_URL`` and dropped at the end; the review
tables are truncated before each test so tests never see each other's rows.
Import the fixtures into a test module with ``from tests.review_support import *``.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from genpersona.db.engine import dispose_engines, get_engine
from genpersona.review.seed import make_draft
from genpersona.settings import get_settings
from genpersona.types.content import Draft
from genpersona.vectors.memory import InMemoryVectorStore

PG_ENV = "GENPERSONA_TEST_PG_URL"
REVIEW_TABLES = (
    "rule_suggestions",
    "exemplars",
    "audit_erasure_grants",
    "audit_log",
    "reviews",
    "draft_violations",
    "draft_variants",
    "drafts",
)

__all__ = ["backend", "pg_database_url", "memory_vectors", "draft_factory"]


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(
            f"{PG_ENV} is not set: set it to a PostgreSQL server URL such as "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres (.ci/run does)"
        )
    name = f"gp_review_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once on SQLite (file in the test's home) and once on PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database_url")
        monkeypatch.setenv("GENPERSONA_DATABASE_URL", url)
        get_settings.cache_clear()
        engine = get_engine()
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(REVIEW_TABLES)} RESTART IDENTITY CASCADE"))
    else:
        get_engine()
    return request.param


@pytest.fixture
def memory_vectors(monkeypatch: pytest.MonkeyPatch) -> InMemoryVectorStore:
    """Exemplar vectors in memory (the fake embedder is set by conftest)."""
    store = InMemoryVectorStore()
    monkeypatch.setattr("genpersona.review.exemplars.get_vector_store", lambda settings=None: store)
    return store


@pytest.fixture
def draft_factory():  # type: ignore[no-untyped-def]
    """make(**kwargs) -> a realistic Draft; reproducible per test."""
    rng = random.Random(1234)

    def make(**kwargs) -> Draft:  # type: ignore[no-untyped-def]
        kwargs.setdefault("violation_rate", 0.0)
        kwargs.setdefault("fallback_rate", 0.0)
        return make_draft(rng, **kwargs)

    return make
