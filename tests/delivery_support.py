"""Shared fixtures for the delivery tests: a seeded brand, decided drafts, deterministic tags."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from campaign_support import seed_brand
from sqlalchemy import inspect, text, update

from genpersona.data.tables import Customer
from genpersona.db.engine import get_engine, session_scope
from genpersona.delivery import lookup
from genpersona.review.decisions import approve_set, edit_and_approve
from genpersona.review.queue import submit_draft
from genpersona.settings import get_settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import (
    ContentRequest,
    Draft,
    FeaturedItem,
    Rationale,
    Variant,
    VariantContent,
)
from genpersona.types.violations import Violation

ITEMS = [
    FeaturedItem(stock_code="85123A", description="White hanging heart T-light holder", price=2.95),
    FeaturedItem(stock_code="22423", description="Regency cakestand 3 tier", price=12.75),
]


def build_draft(
    customer_id: str | None,
    campaign: str = "xmas",
    *,
    n: int = 3,
    blocked: tuple[int, ...] = (),
    anonymous: AnonymousContext | None = None,
    kind: str = "subject_line",
    text_: str = "Cosy picks",
) -> Draft:
    request = ContentRequest(
        brand="giftloft",
        kind=kind,  # type: ignore[arg-type]
        customer_id=customer_id,
        campaign=campaign,
        brief=f"{campaign} {customer_id} {anonymous}",
        n=n,
    )
    variants = []
    for i in range(n):
        content = (
            VariantContent(
                subject=f"{text_} for {customer_id} #{i}",
                preheader=f"Preheader {i}",
                featured_items=ITEMS,
            )
            if kind == "subject_line"
            else VariantContent(headline=f"{text_} #{i}", subheadline="Sub", cta="Take a look")
        )
        violations = (
            [Violation(rule_id="banned_term", severity="block", message="banned word")]
            if i in blocked
            else []
        )
        variants.append(Variant(index=i, content=content, violations=violations))
    return Draft(
        brand="giftloft",
        kind=request.kind,
        customer_id=customer_id,
        campaign=campaign,
        brief=request.brief,
        variants=variants,
        rationale=Rationale(
            prompt_template="subject_line.completion", prompt_version="3", anonymous=anonymous
        ),
        idempotency_key=request.idempotency_key(),
    )


def approved(customer_id: str | None, campaign: str = "xmas", **kwargs) -> Draft:  # type: ignore[no-untyped-def]
    draft = submit_draft(build_draft(customer_id, campaign, **kwargs))
    assert draft.id is not None
    approve_set(draft.id, "ann", draft.version)  # every clean variant
    return draft


def edited(customer_id: str, campaign: str = "xmas", subject: str = "Edited by Ann") -> Draft:
    draft = submit_draft(build_draft(customer_id, campaign))
    assert draft.id is not None
    new = draft.variants[1].content.model_copy(update={"subject": subject})
    edit_and_approve(draft.id, 1, new, "ann", draft.version)
    return draft


def set_personalization(customer_id: str, allowed: bool) -> None:
    with session_scope() as session:
        session.execute(
            update(Customer)
            .where(Customer.external_id == customer_id)
            .values(consent_personalization=allowed)
        )


def exposure_count() -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM exposures")).scalar_one())


@pytest.fixture
def fixed_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tags t0001, t0002, ... so golden files can hold them."""
    counter = itertools.count(1)
    monkeypatch.setattr("genpersona.delivery.exposures.new_tag", lambda: f"t{next(counter):04d}")


@pytest.fixture
def no_holdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENPERSONA_DELIVERY_HOLDOUT_SHARE", "0")
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A seeded brand on SQLite (the test's home) and, when configured, on PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database_url")
        monkeypatch.setenv("GENPERSONA_DATABASE_URL", url)
        get_settings.cache_clear()
        engine = get_engine()
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    lookup.clear_cache()
    seed_brand()
    yield request.param
