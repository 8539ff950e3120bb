"""Campaign report and its lift estimator; purchases attributed as conversions."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from exposure_rows import add_exposure
from fastapi.testclient import TestClient
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import insert, select
from typer.testing import CliRunner

from genpersona.api.app import create_app
from genpersona.campaigns.tables import OutcomeRow
from genpersona.cli.main import app as cli_app
from genpersona.data.repo import get_or_create_brand
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.delivery.attribution import attribute_purchases
from genpersona.delivery.lift import lift, newcombe, wilson
from genpersona.delivery.report import campaign_report
from genpersona.errors import NotFound
from genpersona.review.queue import approve_set, submit_draft
from genpersona.settings import get_settings

runner = CliRunner()


# --- the estimator on simulated campaigns with a known lift ------------------------------
@pytest.mark.parametrize(
    ("p_holdout", "p_treated", "n", "holdout_share"),
    [
        (0.05, 0.05, 2000, 0.10),  # no lift
        (0.04, 0.06, 3000, 0.10),  # +2 points
        (0.01, 0.02, 5000, 0.10),  # rare conversions
        (0.20, 0.26, 800, 0.25),  # click-like rates, bigger holdout
    ],
)
def test_newcombe_interval_covers_the_true_lift_at_the_nominal_rate(
    p_holdout: float, p_treated: float, n: int, holdout_share: float
) -> None:
    rng = np.random.default_rng(20261201)
    sims = 2000
    n_hold = rng.binomial(n, holdout_share, size=sims)
    n_treat = n - n_hold
    k_hold = rng.binomial(n_hold, p_holdout)
    k_treat = rng.binomial(n_treat, p_treated)
    truth = p_treated - p_holdout
    covered = 0
    for k1, n1, k2, n2 in zip(k_treat, n_treat, k_hold, n_hold, strict=True):
        _, low, high = newcombe(int(k1), int(n1), int(k2), int(n2))
        covered += low <= truth <= high
    coverage = covered / sims
    # nominal 95%; with 2,000 simulated campaigns the Monte Carlo s.e. is ~0.5 point
    assert 0.935 <= coverage <= 0.97, coverage


def test_wilson_and_newcombe_match_published_values() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 vs 48/80 -> 0.0524 .. 0.3339
    d, low, high = newcombe(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    # Wilson score interval of 0/10: upper 0.2775 (Newcombe 1998b, Table I)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    empty = lift("clicks", (3, 10), (0, 0))
    assert empty.difference is None and empty.holdout.rate is None


# --- the report from exposure and outcome rows --------------------------------------------
def _outcome(exposure, kind: str, machine: bool = False) -> dict:  # type: ignore[no-untyped-def]
    return {
        "exposure_id": exposure.id,
        "draft_id": exposure.draft_id,
        "variant_index": exposure.variant_index,
        "type": kind,
        "brand": exposure.brand,
        "campaign": exposure.campaign,
        "customer_id": exposure.customer_id,
        "ts": utcnow(),
        "machine_open": machine,
        "provider": "test",
        "event_key": f"{exposure.id}:{kind}:{machine}",
    }


def test_report_counts_per_variant_and_prompt_and_keeps_machine_opens_apart(
    backend, draft_factory, memory_vectors
) -> None:
    d1 = submit_draft(draft_factory(kind="subject_line", campaign="spring", customer_id="C1"))
    d2 = submit_draft(draft_factory(kind="subject_line", campaign="spring", customer_id="C2"))
    for d in (d1, d2):
        approve_set(d.id, "alice", 1)
    e1 = add_exposure(customer_id="C1", draft_id=d1.id, variant_index=0)
    e2 = add_exposure(customer_id="C2", draft_id=d2.id, variant_index=1)
    e3 = add_exposure(customer_id="C3", variant_index=None, reason="not_approved")
    h1 = add_exposure(customer_id="H1", holdout=True)
    h2 = add_exposure(customer_id="H2", holdout=True)
    rows = [
        _outcome(e1, "sent"),
        _outcome(e1, "opened", machine=True),
        _outcome(e1, "opened"),
        _outcome(e1, "clicked"),
        _outcome(e2, "sent"),
        _outcome(e2, "opened", machine=True),  # only a proxy prefetch
        _outcome(e3, "sent"),
        _outcome(h1, "sent"),
        _outcome(h1, "clicked"),
        _outcome(h2, "unsubscribed"),
    ]
    with session_scope() as session:
        session.execute(insert(OutcomeRow), rows)
    report = campaign_report("spring")
    by_variant = {(r.arm, r.variant_index, r.reason): r for r in report.rows}
    v0 = by_variant[("personalized", 0, None)]
    v1 = by_variant[("personalized", 1, None)]
    assert (v0.exposures, v0.sent, v0.human_opens, v0.machine_opens, v0.clicks) == (1, 1, 1, 0, 1)
    assert (v1.human_opens, v1.machine_opens) == (0, 1)
    assert v0.prompt_version == d1.rationale.prompt_version[:64]
    generic = by_variant[("personalized", None, "not_approved")]  # ITT: still the treated arm
    assert generic.exposures == 1 and generic.sent == 1
    hold = by_variant[("holdout", None, None)]
    assert (hold.exposures, hold.clicks, hold.unsubscribes) == (2, 1, 1)
    assert report.personalized.exposures == 3 and report.personalized.clicks == 1
    clicks = next(x for x in report.lift if x.metric == "clicks")
    assert clicks.personalized.rate == pytest.approx(1 / 3) and clicks.holdout.rate == 0.5
    assert clicks.difference == pytest.approx(1 / 3 - 0.5)
    assert clicks.low < clicks.difference < clicks.high


def test_report_on_a_simulated_campaign_recovers_the_counts(backend) -> None:
    rng = np.random.default_rng(7)
    truth = {"clicks": 0, "held_clicks": 0, "treated": 0, "held": 0}
    rows = []
    for i in range(400):
        holdout = bool(rng.random() < 0.25)
        e = add_exposure(customer_id=f"S{i}", holdout=holdout, campaign="sim")
        truth["held" if holdout else "treated"] += 1
        if rng.random() < (0.10 if holdout else 0.20):
            truth["held_clicks" if holdout else "clicks"] += 1
            rows.append(_outcome(e, "clicked"))
    with session_scope() as session:
        session.execute(insert(OutcomeRow), rows)
    report = campaign_report("sim")
    clicks = next(x for x in report.lift if x.metric == "clicks")
    assert (clicks.personalized.count, clicks.personalized.n) == (truth["clicks"], truth["treated"])
    assert (clicks.holdout.count, clicks.holdout.n) == (truth["held_clicks"], truth["held"])
    d, low, high = newcombe(truth["clicks"], truth["treated"], truth["held_clicks"], truth["held"])
    assert (clicks.difference, clicks.low, clicks.high) == (d, low, high)


def test_report_of_an_unknown_campaign_says_so(backend) -> None:
    with pytest.raises(NotFound, match="no exposures"):
        campaign_report("nope")


def test_campaign_report_cli_json_and_table(backend) -> None:
    e = add_exposure(customer_id="C1", campaign="cli", draft_id=None)
    add_exposure(customer_id="H1", campaign="cli", holdout=True)
    with session_scope() as session:
        session.execute(insert(OutcomeRow), [_outcome(e, "clicked")])
    out = runner.invoke(cli_app, ["campaign", "report", "--name", "cli", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["personalized"]["clicks"] == 1 and data["holdout"]["exposures"] == 1
    assert {x["metric"] for x in data["lift"]} == {
        "clicks",
        "conversions",
        "human_opens",
        "unsubscribes",
    }
    table = runner.invoke(cli_app, ["campaign", "report", "--name", "cli"])
    assert table.exit_code == 0 and "Newcombe" in table.output and "holdout" in table.output
    missing = runner.invoke(cli_app, ["campaign", "report", "--name", "other"])
    assert missing.exit_code == 5 and "no exposures" in missing.output


# --- purchases as conversions -------------------------------------------------------------
@pytest.fixture
def shop(backend):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        get_or_create_brand(session, "giftloft")
    return TestClient(create_app(get_settings()))


def _purchase(client: TestClient, customer: str, ts, order: str = "O1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/events",
        json={
            "brand": "giftloft",
            "customer_id": customer,
            "create_customer": True,
            "events": [
                {"type": "purchase", "stock_code": "85123A", "quantity": 1, "unit_price": 2.5,
                 "order_id": order, "ts": ts.isoformat()}
            ],
        },
    )  # fmt: skip


def _conversions() -> list[tuple[int | None, str]]:
    with session_scope() as session:
        return list(
            session.execute(
                select(OutcomeRow.exposure_id, OutcomeRow.customer_id)
                .where(OutcomeRow.type == "converted")
                .order_by(OutcomeRow.id)
            ).tuples()
        )


def test_purchase_within_the_window_converts_every_exposure_it_follows(shop) -> None:
    now = utcnow()
    e_recent = add_exposure(customer_id="P1", campaign="a", created_at=now - timedelta(days=2))
    e_hold = add_exposure(
        customer_id="P1", campaign="b", holdout=True, created_at=now - timedelta(days=6)
    )
    add_exposure(customer_id="P1", campaign="old", created_at=now - timedelta(days=9))
    add_exposure(customer_id="P2", campaign="a", created_at=now - timedelta(days=1))
    assert _purchase(shop, "P1", now).status_code == 202
    assert sorted(_conversions()) == sorted([(e_recent.id, "P1"), (e_hold.id, "P1")])
    # the same order again (a second line, a retry) converts nothing new
    assert _purchase(shop, "P1", now).status_code == 202
    assert len(_conversions()) == 2
    # a purchase before the exposure is not its conversion
    assert _purchase(shop, "P2", now - timedelta(days=3), order="O2").status_code == 202
    assert len(_conversions()) == 2


def test_attribution_window_is_a_setting(shop, monkeypatch) -> None:
    now = utcnow()
    e = add_exposure(customer_id="W1", campaign="a", created_at=now - timedelta(days=9))
    assert _purchase(shop, "W1", now).status_code == 202
    assert _conversions() == []
    monkeypatch.setenv("GENPERSONA_ATTRIBUTION_WINDOW_DAYS", "10")
    get_settings.cache_clear()
    assert attribute_purchases("giftloft") == 1  # the sweep after an ingest
    assert _conversions() == [(e.id, "W1")]
    assert attribute_purchases("giftloft") == 0


def test_existing_outcomes_route_keeps_working(shop, draft_factory, memory_vectors) -> None:
    d = submit_draft(draft_factory(kind="subject_line", customer_id="C1"))
    body = {"outcomes": [{"draft_id": d.id, "variant_index": 0, "type": "clicked", "outcome_id": "x1"},
                         {"draft_id": d.id, "variant_index": 0, "type": "unsubscribed"}]}  # fmt: skip
    response = shop.post("/v1/outcomes", json=body)
    assert response.status_code == 202, response.text
    assert (
        shop.post("/v1/outcomes", json=body).json()["outcome_ids"][0]
        == response.json()["outcome_ids"][0]
    )


def test_ingest_events_cli_attributes_purchases(backend, tmp_path) -> None:
    now = utcnow()
    e = add_exposure(customer_id="I1", campaign="ingest", created_at=now - timedelta(days=1))
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,type,ts,stock_code,quantity,unit_price,order_id\n"
        f"I1,purchase,{now.isoformat(timespec='seconds')},85123A,1,2.55,X1\n"
        f"I2,purchase,{now.isoformat(timespec='seconds')},85123A,1,2.55,X2\n"
    )
    out = runner.invoke(cli_app, ["ingest", "events", str(path), "--brand", "giftloft", "--json"])
    assert out.exit_code == 0, out.output
    assert _conversions() == [(e.id, "I1")]


def test_erasing_a_customer_removes_their_exposures_and_webhook_outcomes(shop) -> None:
    from genpersona.customers.rights import erase_customer

    now = utcnow()
    held = add_exposure(customer_id="E1", campaign="a", holdout=True, created_at=now)
    other = add_exposure(customer_id="E2", campaign="a", created_at=now)
    with session_scope() as session:
        session.execute(insert(OutcomeRow), [_outcome(held, "clicked"), _outcome(other, "clicked")])
    assert _purchase(shop, "E1", now + timedelta(hours=1)).status_code == 202
    assert _purchase(shop, "E2", now + timedelta(hours=1), order="O9").status_code == 202
    erase_customer("giftloft", "E1")
    with session_scope() as session:
        left = list(session.execute(select(OutcomeRow.customer_id, OutcomeRow.type)).tuples())
    assert sorted(left) == [("E2", "clicked"), ("E2", "converted")]


def test_customer_export_lists_webhook_outcomes(shop) -> None:
    from genpersona.customers.rights import export_customer

    exposure = add_exposure(customer_id="X1", campaign="a")
    assert _purchase(shop, "X1", utcnow()).status_code == 202
    with session_scope() as session:
        session.execute(insert(OutcomeRow), [_outcome(exposure, "opened", machine=True)])
    exported = export_customer("giftloft", "X1")
    rows = json.dumps(exported, default=str)
    assert '"machine_open": true' in rows and '"provider": "test"' in rows
    assert '"converted"' in rows
