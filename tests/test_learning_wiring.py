"""The pull endpoint delivers with the campaign's learned allocation once `learn update` ran."""

from __future__ import annotations

import pytest
from delivery_support import approved, db, no_holdout  # noqa: F401 - fixtures
from fastapi.testclient import TestClient
from review_support import pg_database_url  # noqa: F401 - fixture
from sqlalchemy import select

from genpersona.api.app import create_app
from genpersona.db.engine import session_factory, session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.learning.policy import campaign_policy, forget_campaign_policies
from genpersona.learning.tables import AllocationRow
from genpersona.settings import get_settings


@pytest.fixture(autouse=True)
def fresh_policies() -> None:
    forget_campaign_policies()


def _store_allocation(campaign: str) -> None:
    arms = [
        {"recipe_id": r, "impressions": 400, "clicks": c, "p": p, "p_best": pb,
         "expected_loss": 0.0, "retire_cost": 0.0, "retired": False}
        for r, c, p, pb in (("favourite_theme", 40, 0.9, 0.95), ("gift_idea", 8, 0.1, 0.05))
    ]  # fmt: skip
    with session_scope() as s:
        s.add(
            AllocationRow(
                brand="giftloft", kind="subject_line", segment=campaign, campaign=campaign,
                version=1, seed=7, arms=arms, prior={"alpha": 1.0, "beta": 20.0},
                config={}, warmup=False,
            )
        )  # fmt: skip


def _exposures() -> list[ExposureRow]:
    with session_factory()() as s:
        return list(s.scalars(select(ExposureRow).order_by(ExposureRow.id)))


def test_uniform_before_an_allocation_then_thompson_after(db: str, no_holdout: None) -> None:  # noqa: F811
    client = TestClient(create_app(get_settings()))
    approved("c1")
    assert client.get("/v1/content/giftloft/xmas/c1?channel=email").status_code == 200
    assert _exposures()[-1].policy_name == "uniform"

    _store_allocation("spring")
    forget_campaign_policies()
    assert campaign_policy("giftloft", "spring", get_settings()) is not None
    approved("c1", campaign="spring")
    assert client.get("/v1/content/giftloft/spring/c1?channel=email").status_code == 200
    row = _exposures()[-1]
    assert (row.campaign, row.policy_name) == ("spring", "thompson")
    assert abs(sum(p["p"] for p in row.probabilities) - 1.0) < 1e-9
    assert row.propensity == next(
        p["p"] for p in row.probabilities if p["variant_index"] == row.variant_index
    )
