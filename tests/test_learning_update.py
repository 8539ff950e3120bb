"""`learn update` / `learn evaluate` on a real SQLite database with exposures and clicks."""

# ruff: noqa: F811  (the pg_database_url fixture imported from review_support is an argument)

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest
from review_support import pg_database_url  # noqa: F401
from sqlalchemy import func, select
from typer.testing import CliRunner

from genpersona.campaigns.tables import CampaignRunRow, OutcomeRow
from genpersona.cli.main import app
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import LearningInputError, NoAllocation
from genpersona.learning.policy import ThompsonPolicy, variant_probabilities
from genpersona.learning.tables import PromotionRow
from genpersona.learning.thompson import PolicyConfig
from genpersona.learning.update import latest_allocation, learn_update
from genpersona.review.tables import DraftRow

RECIPES = ["gift_idea", "win_back", "new_arrivals"]
RATES = {"gift_idea": 0.30, "win_back": 0.05, "new_arrivals": 0.05}
T0 = datetime(2026, 11, 1, 12, 0, 0)


def _seed_campaign(n_customers: int = 600, campaign: str = "xmas", seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    probs = [{"variant_index": i, "recipe_id": r, "p": 1 / 3} for i, r in enumerate(RECIPES)]
    with session_scope() as s:
        s.add(
            CampaignRunRow(brand="giftloft", name=campaign, kind="email", segment={"tier": "gold"})
        )
        for k in range(n_customers):
            draft = DraftRow(
                brand="giftloft",
                kind="email",
                customer_id=f"c{k}",
                campaign=campaign,
                idempotency_key=f"{campaign}-{k}",
                rationale={},
                trace={},
            )
            s.add(draft)
            s.flush()
            choice = int(rng.integers(0, 3))
            s.add(
                ExposureRow(
                    brand="giftloft",
                    campaign=campaign,
                    customer_id=f"c{k}",
                    recipient_key=f"c{k}",
                    channel="email",
                    draft_id=draft.id,
                    variant_index=choice,
                    recipe_id=RECIPES[choice],
                    policy_name="uniform",
                    policy_version="1",
                    propensity=1 / 3,
                    probabilities=probs,
                    seed=k,
                    holdout=False,
                    fallback=False,
                    tag=f"{campaign}{k}",
                    created_at=T0,
                )
            )
            clicked = rng.random() < RATES[RECIPES[choice]]
            # an open never counts; a click after the window does not either
            s.add(
                OutcomeRow(
                    draft_id=draft.id,
                    variant_index=choice,
                    type="opened",
                    brand="giftloft",
                    campaign=campaign,
                    customer_id=f"c{k}",
                    ts=T0 + timedelta(hours=1),
                )
            )
            if clicked:
                late = k % 10 == 0
                s.add(
                    OutcomeRow(
                        draft_id=draft.id,
                        variant_index=choice,
                        type="clicked",
                        brand="giftloft",
                        campaign=campaign,
                        customer_id=f"c{k}",
                        ts=T0 + (timedelta(days=30) if late else timedelta(hours=2)),
                    )
                )


def test_update_moves_allocation_to_the_clicked_recipe_never_below_floor() -> None:
    _seed_campaign()
    with session_scope() as s:
        alloc = learn_update(s, "giftloft", "xmas", config=PolicyConfig(retire_p_best=0.0))
    shares = {a.recipe_id: a.p for a in alloc.arms}
    assert max(shares, key=shares.__getitem__) == "gift_idea"
    assert shares["gift_idea"] > 0.8
    assert min(shares.values()) >= 0.05 - 1e-12
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert alloc.version == 1 and alloc.kind == "email" and not alloc.warmup
    arm = next(a for a in alloc.arms if a.recipe_id == "gift_idea")
    assert 0 < arm.clicks < arm.impressions
    with session_scope() as s:
        again = learn_update(s, "giftloft", "xmas")
        assert again.version == 2
        assert latest_allocation(s, "giftloft", campaign="xmas").version == 2


def test_thompson_policy_probabilities_are_exact_and_floored() -> None:
    _seed_campaign()
    with session_scope() as s:
        alloc = learn_update(s, "giftloft", "xmas", config=PolicyConfig(retire_p_best=0.0))
    policy = ThompsonPolicy(alloc)
    assert policy.version == "a1"
    variants = [{"variant_index": i, "recipe_id": r} for i, r in enumerate(RECIPES)]
    p = policy.probabilities(variants, {"brand": "giftloft", "campaign": "xmas"})
    assert abs(sum(p) - 1.0) <= 1e-9 and min(p) >= 0.05 - 1e-12
    assert p[0] == max(p)
    # an unseen recipe gets a live arm's average share, one variant gets 1
    p2 = policy.probabilities([{"recipe_id": "gift_idea"}, {"recipe_id": "brand_new"}])
    assert p2[1] >= 0.05 and sum(p2) == pytest.approx(1.0)
    assert policy.probabilities([{"recipe_id": "win_back"}]) == [1.0]


def test_variant_probabilities_fuzz_sum_and_floor() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        k = int(rng.integers(2, 8))
        recipes = [f"r{int(x)}" for x in rng.integers(0, 6, size=k)]
        weights = {f"r{j}": float(w) for j, w in enumerate(rng.dirichlet(np.ones(6)))}
        p = variant_probabilities(recipes, weights, set(), 0.05)
        assert abs(sum(p) - 1.0) <= 1e-9
        assert min(p) >= min(0.05, 1 / k) - 1e-12


def test_update_without_exposures_is_a_clear_error_and_stores_nothing() -> None:
    with session_scope() as s, pytest.raises(LearningInputError) as err:
        learn_update(s, "giftloft", "nothing-sent")
    assert "deliver" in err.value.fix
    with session_scope() as s, pytest.raises(NoAllocation):
        latest_allocation(s, "giftloft", campaign="nothing-sent")


def test_cli_update_and_evaluate_report_interval_and_store_decision(tmp_path) -> None:
    _seed_campaign()
    runner = CliRunner()
    res = runner.invoke(app, ["learn", "update", "--campaign", "xmas", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["version"] == 1
    policy = tmp_path / "gift_first.json"
    policy.write_text(
        json.dumps(
            {
                "name": "gift-first",
                "recipe_weights": {"gift_idea": 0.9, "win_back": 0.05, "new_arrivals": 0.05},
            }
        )
    )
    res = runner.invoke(
        app, ["learn", "evaluate", "--policy", str(policy), "--campaign", "xmas", "--json"]
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    dr = report["estimates"]["dr"]
    assert dr["low"] < dr["value"] < dr["high"]
    assert report["decision"]["promote"] is True
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(PromotionRow)) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(app, ["learn", "evaluate", "--policy", str(bad), "--campaign", "xmas"])
    assert res.exit_code == 2
    assert "recipe_weights" in res.output


def test_exposure_log_audit_and_campaign_summary(tmp_path) -> None:
    from genpersona.learning.logs import audit_probabilities, campaign_log
    from genpersona.learning.view import campaign_summary

    _seed_campaign(n_customers=200)
    with session_scope() as s:
        log = campaign_log(s, "giftloft", "xmas")
        assert audit_probabilities(log, floor=0.05) == []
        bad = log[0].model_copy(update={"propensity": 0.5})
        skewed = log[1].model_copy(
            update={
                "probabilities": [{"variant_index": 0, "p": 0.7}, {"variant_index": 1, "p": 0.2}]
            }
        )
        problems = audit_probabilities([bad, skewed])
        assert len(problems) == 2 and "propensity" in problems[0] and "sum" in problems[1]
        learn_update(s, "giftloft", "xmas")
        learn_update(s, "giftloft", "xmas")
    with session_scope() as s:
        summary = campaign_summary(s, "giftloft", "xmas")
    assert summary.exposures == 200
    assert [a.version for a in summary.allocations] == [1, 2]
    assert len(summary.allocation_rows()) == 6
    # uniform logging: the even-split estimate is exactly the observed clicks
    assert summary.even_split_clicks == pytest.approx(summary.clicks)


@pytest.mark.postgres
def test_update_and_evaluate_on_postgres(pg_database_url: str, monkeypatch, tmp_path) -> None:
    from sqlalchemy import text

    from genpersona.db.engine import get_engine
    from genpersona.learning.evaluate import evaluate_campaign
    from genpersona.learning.policy import PolicyFile, WeightsPolicy
    from genpersona.settings import get_settings

    monkeypatch.setenv("GENPERSONA_DATABASE_URL", pg_database_url)
    get_settings.cache_clear()
    with get_engine().begin() as conn:
        conn.execute(
            text(
                "TRUNCATE allocations, policy_promotions, exposures, outcomes, campaign_runs, "
                "drafts RESTART IDENTITY CASCADE"
            )
        )
    _seed_campaign(n_customers=300)
    with session_scope() as s:
        alloc = learn_update(s, "giftloft", "xmas", config=PolicyConfig(retire_p_best=0.0))
        candidate = WeightsPolicy(
            PolicyFile(name="gift-first", recipe_weights={"gift_idea": 0.9, "win_back": 0.1})
        )
        report = evaluate_campaign(s, "giftloft", "xmas", candidate, n_boot=200)
    shares = {a.recipe_id: a.p for a in alloc.arms}
    assert max(shares, key=shares.__getitem__) == "gift_idea"
    assert min(shares.values()) >= 0.05 - 1e-12
    assert report.estimates["dr"].low < report.estimates["dr"].high
    assert report.promotion_id is not None


def test_update_all_and_for_campaign_and_cli_flags() -> None:
    with session_scope() as s:
        assert ThompsonPolicy.for_campaign(s, "giftloft", "xmas") is None
    _seed_campaign(n_customers=120, campaign="xmas")
    _seed_campaign(n_customers=120, campaign="spring", seed=1)
    runner = CliRunner()
    res = runner.invoke(app, ["learn", "update", "--all", "--json"])
    assert res.exit_code == 0, res.output
    assert sorted(a["campaign"] for a in json.loads(res.stdout)) == ["spring", "xmas"]
    with session_scope() as s:
        policy = ThompsonPolicy.for_campaign(s, "giftloft", "spring")
    assert policy is not None and policy.version == "a1"
    res = runner.invoke(app, ["learn", "update"])
    assert res.exit_code == 2 and "--campaign NAME or --all" in res.output
    res = runner.invoke(app, ["learn", "update", "--campaign", "xmas"])
    # versions count per (brand, kind, segment): both campaigns target the same segment
    assert res.exit_code == 0 and "allocation v3" in res.output


def test_evaluate_pools_several_campaigns_and_thompson_is_a_candidate_too(tmp_path) -> None:
    from genpersona.learning.policy import WeightsPolicy, active_policy

    _seed_campaign(n_customers=300, campaign="xmas")
    _seed_campaign(n_customers=300, campaign="spring", seed=1)
    runner = CliRunner()
    assert runner.invoke(app, ["learn", "update", "--all"]).exit_code == 0
    policy = tmp_path / "gift_first.json"
    policy.write_text(
        json.dumps({"name": "gift-first", "recipe_weights": {"gift_idea": 0.9, "win_back": 0.1}})
    )

    def evaluate(*args: str) -> dict:  # type: ignore[type-arg]
        res = runner.invoke(app, ["learn", "evaluate", "--policy", *args, "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    one = evaluate(str(policy), "--campaign", "xmas")
    both = evaluate(str(policy), "--campaign", "xmas", "--campaign", "spring")
    assert one["n"] == 300 and both["n"] == 600 and both["campaigns"] == ["xmas", "spring"]
    width = {k: r["estimates"]["dr"]["high"] - r["estimates"]["dr"]["low"] for k, r in
             (("one", one), ("both", both))}  # fmt: skip
    assert width["both"] < width["one"]  # twice the log, a tighter interval
    assert both["decision"]["promote"] and len(both["promotion_ids"]) == 2
    same = evaluate(str(policy), "--campaign", "xmas,spring")  # comma-separated works too
    assert same["n"] == 600 and same["estimates"] == both["estimates"]
    with session_scope() as s:
        rows = list(
            s.scalars(select(PromotionRow).where(PromotionRow.id.in_(both["promotion_ids"])))
        )
        assert sorted(r.campaign for r in rows) == ["spring", "xmas"]
        assert all(r.numbers["campaigns"] == ["xmas", "spring"] for r in rows)
        assert rows[0].numbers["policy"]["kind"] == "weights"
        for name in ("xmas", "spring"):
            active = active_policy(s, "giftloft", name)
            assert isinstance(active, WeightsPolicy) and active.name == "gift-first"

    # the way back to learning goes through the same gate: Thompson over each campaign's
    # latest allocation is a candidate like any other, and once promoted it is what delivers
    back = evaluate("thompson", "--campaign", "xmas")
    assert back["candidate"] == "thompson@latest" and back["decision"]["promote"]
    assert back["estimates"]["dr"]["low"] < back["estimates"]["dr"]["high"]
    with session_scope() as s:
        assert isinstance(active_policy(s, "giftloft", "xmas"), ThompsonPolicy)
        assert isinstance(active_policy(s, "giftloft", "spring"), WeightsPolicy)


def test_a_rejected_candidate_leaves_delivery_on_thompson() -> None:
    from genpersona.learning.evaluate import evaluate_campaign
    from genpersona.learning.policy import PolicyFile, WeightsPolicy, active_policy

    _seed_campaign(n_customers=300)
    with session_scope() as s:
        learn_update(s, "giftloft", "xmas")
        worse = WeightsPolicy(
            PolicyFile(name="win-back-first", recipe_weights={"win_back": 0.9, "gift_idea": 0.1})
        )
        report = evaluate_campaign(s, "giftloft", "xmas", worse, n_boot=200)
        assert not report.decision.promote
        assert isinstance(active_policy(s, "giftloft", "xmas"), ThompsonPolicy)
