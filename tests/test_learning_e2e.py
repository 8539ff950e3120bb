"""The learning loop end to end, on SQLite and (when GENPERSONA_TEST_PG_URL is set) PostgreSQL.

A campaign whose every draft offers three approved variants from three recipes ->
each recipient pulled through the real pull endpoint (an exposure with the policy's
probabilities) -> clicks simulated to favour one recipe, sent through the signed
SendGrid webhook route -> ``genpersona learn update`` (CLI) moves the allocation
toward that recipe, never below the floor -> the next recipients are delivered by
it -> ``genpersona learn evaluate`` reports intervals and its decision; a promoted
policy is what delivery uses next, a rejected one changes nothing -> ``learn train
--from-exposures`` updates the click model from the same log, through its gate.
"""

# ruff: noqa: F811  (pytest fixtures imported from the support modules are arguments)
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from delivery_support import build_draft, db, no_holdout  # noqa: F401 - fixtures
from fastapi.testclient import TestClient
from learning_support import saved_base_click_model
from review_support import pg_database_url  # noqa: F401 - fixture
from sqlalchemy import select
from typer.testing import CliRunner

from genpersona.api.app import create_app
from genpersona.cli.main import app as cli_app
from genpersona.clickmodel.train import model_root
from genpersona.data.tables import Brand, Customer, CustomerProfile
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.learning.policy import campaign_policy, forget_campaign_policies
from genpersona.review.decisions import approve_set
from genpersona.review.queue import submit_draft
from genpersona.settings import get_settings

CAMPAIGN = "e2e-learning"
RECIPES = ["gift_idea/3/outcome", "win_back/3/outcome", "new_arrivals/3/outcome"]
RATES = {RECIPES[0]: 0.35, RECIPES[1]: 0.05, RECIPES[2]: 0.05}
FIRST, SECOND = 240, 60
FLOOR = 0.05
runner = CliRunner()


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY", base64.b64encode(public).decode())
    monkeypatch.setenv("GENPERSONA_API_RATE_PER_MINUTE", "100000")  # one client sends it all
    get_settings.cache_clear()
    forget_campaign_policies()
    return key


def _customers(ids: list[str]) -> None:
    """Recipients with consent and an RFM profile (half lapsed, half active)."""
    with session_scope() as s:
        brand = s.scalars(select(Brand).where(Brand.slug == "giftloft")).one()
        for i, ext in enumerate(ids):
            c = Customer(
                brand_id=brand.id,
                external_id=ext,
                consent_personalization=True,
                consent_email=True,
            )
            s.add(c)
            s.flush()
            lapsed = i % 2 == 0
            s.add(
                CustomerProfile(
                    customer_id=c.id,
                    brand_id=brand.id,
                    as_of=c.created_at,
                    recency_days=200 if lapsed else 20,
                    frequency=2 if lapsed else 6,
                )
            )


def _approved_three_recipe_draft(customer_id: str) -> None:
    draft = build_draft(customer_id, CAMPAIGN, text_="Winter picks")
    variants = [
        v.model_copy(update={"content": v.content.model_copy(update={"recipe_id": r})})
        for v, r in zip(draft.variants, RECIPES, strict=True)
    ]
    stored = submit_draft(draft.model_copy(update={"variants": variants}))
    assert stored.id is not None
    approve_set(stored.id, "ann", stored.version)


def _pull(client: TestClient, ids: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for cid in ids:
        resp = client.get(f"/v1/content/giftloft/{CAMPAIGN}/{cid}", params={"channel": "email"})
        assert resp.status_code == 200, resp.text
        out[cid] = resp.json()
    return out


def _exposures(ids: list[str]) -> dict[str, ExposureRow]:
    with session_scope() as s:
        rows = list(s.scalars(select(ExposureRow).where(ExposureRow.customer_id.in_(ids))))
        s.expunge_all()
    return {r.customer_id or "": r for r in rows}


def _send_clicks(
    client: TestClient, key: ec.EllipticCurvePrivateKey, rows: list[ExposureRow], seed: int
) -> int:
    """A SendGrid batch: every message delivered and machine-opened, clicks by recipe rate."""
    rng = np.random.default_rng(seed)
    now = int(time.time()) + 60  # after the exposures: inside the attribution window
    events: list[dict[str, Any]] = []
    clicks = 0
    for i, row in enumerate(rows):
        events.append({"event": "delivered", "sg_event_id": f"d{seed}-{i}", "timestamp": now,
                       "gp_tag": row.tag})  # fmt: skip
        events.append({"event": "open", "sg_event_id": f"o{seed}-{i}", "timestamp": now,
                       "gp_tag": row.tag, "sg_machine_open": True, "useragent": "Mozilla/5.0"})  # fmt: skip
        if rng.random() < RATES[row.recipe_id or ""]:
            clicks += 1
            events.append({"event": "click", "sg_event_id": f"c{seed}-{i}", "timestamp": now + 5,
                           "gp_tag": row.tag, "url": "https://shop.example/gifts"})  # fmt: skip
    for start in range(0, len(events), 200):
        body = json.dumps(events[start : start + 200]).encode()
        ts = str(int(time.time()))
        signature = base64.b64encode(key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256())))
        resp = client.post(
            "/v1/webhooks/sendgrid",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Twilio-Email-Event-Webhook-Signature": signature.decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": ts,
            },
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["unmatched"] == 0
    return clicks


def _cli_json(*args: str) -> Any:
    res = runner.invoke(cli_app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_three_recipes_webhook_clicks_update_evaluate_and_promotion_reach_delivery(
    db: str,  # noqa: F811
    no_holdout: None,  # noqa: F811
    signing_key: ec.EllipticCurvePrivateKey,
    tmp_path: Path,
) -> None:
    first = [f"E{i:03d}" for i in range(FIRST)]
    second = [f"F{i:03d}" for i in range(SECOND)]
    _customers(first + second)
    for cid in first + second:
        _approved_three_recipe_draft(cid)
    client = TestClient(create_app(get_settings()))

    # 1. before any update every recipient gets the uniform policy over three recipes
    _pull(client, first)
    logged = _exposures(first)
    assert {r.policy_name for r in logged.values()} == {"uniform"}
    for row in logged.values():
        assert sorted(p["recipe_id"] for p in row.probabilities) == sorted(RECIPES)
        assert abs(sum(p["p"] for p in row.probabilities) - 1) < 1e-9
    assert {r.recipe_id for r in logged.values()} == set(RECIPES)

    # 2. clicks come back through the signed webhook route
    clicks = _send_clicks(client, signing_key, list(logged.values()), seed=1)
    assert clicks > 20

    # 3. learn update: toward the clicked recipe, every live recipe at or above the floor
    alloc = _cli_json("learn", "update", "--campaign", CAMPAIGN, "--floor", str(FLOOR))
    arms = {a["recipe_id"]: a for a in alloc["arms"]}
    assert set(arms) == set(RECIPES) and not alloc["warmup"]
    assert sum(a["clicks"] for a in arms.values()) == clicks
    assert arms[RECIPES[0]]["p"] > 0.8 > 1 / 3
    assert max(arms, key=lambda r: arms[r]["p"]) == RECIPES[0]
    assert sum(a["p"] for a in arms.values()) == pytest.approx(1.0, abs=1e-12)
    live = [a for a in arms.values() if not a["retired"]]
    assert len(live) >= 2 and all(a["p"] >= FLOOR - 1e-12 for a in live)
    assert all(a["p"] == 0 for a in arms.values() if a["retired"])

    # 4. the next recipients are delivered by that allocation, with exact propensities
    _pull(client, second)
    after = _exposures(second)
    assert {(r.policy_name, r.policy_version) for r in after.values()} == {("thompson", "a1")}
    for row in after.values():
        probs = {p["recipe_id"]: p["p"] for p in row.probabilities}
        assert probs == pytest.approx({r: arms[r]["p"] for r in RECIPES}, abs=1e-9)
        assert row.propensity == probs[row.recipe_id]
    _send_clicks(client, signing_key, list(after.values()), seed=2)

    # 5. learn evaluate: a gift-first policy, its intervals, and a stored promotion
    gift_first = tmp_path / "gift_first.json"
    gift_first.write_text(json.dumps({"name": "gift-first", "version": "2",
        "recipe_weights": {RECIPES[0]: 0.8, RECIPES[1]: 0.1, RECIPES[2]: 0.1}}))  # fmt: skip
    report = _cli_json("learn", "evaluate", "--policy", str(gift_first), "--campaign", CAMPAIGN)
    assert report["n"] == FIRST + SECOND and report["campaigns"] == [CAMPAIGN]
    for name in ("ips", "snips", "dr"):
        est = report["estimates"][name]
        assert est["low"] < est["value"] < est["high"], (name, est)
    assert report["decision"]["promote"] is True, report["decision"]
    assert report["decision"]["candidate"]["low"] > report["decision"]["current"]["value"]

    # 6. a promoted policy is what delivery uses next (the pull endpoint, same process)
    policy = campaign_policy("giftloft", CAMPAIGN, get_settings())
    assert policy is not None and (policy.name, policy.version) == ("gift-first", "2")
    late = "G000"
    _customers([late])
    _approved_three_recipe_draft(late)
    _pull(client, [late])
    row = _exposures([late])[late]
    assert (row.policy_name, row.policy_version) == ("gift-first", "2")
    probs = {p["recipe_id"]: p["p"] for p in row.probabilities}
    assert probs == pytest.approx({RECIPES[0]: 0.8, RECIPES[1]: 0.1, RECIPES[2]: 0.1})

    # 7. a worse candidate is stored as not promoted and changes nothing in delivery
    win_back = tmp_path / "win_back.json"
    win_back.write_text(json.dumps({"name": "win-back-first",
        "recipe_weights": {RECIPES[1]: 0.9, RECIPES[0]: 0.05, RECIPES[2]: 0.05}}))  # fmt: skip
    rejected = _cli_json("learn", "evaluate", "--policy", str(win_back), "--campaign", CAMPAIGN)
    assert rejected["decision"]["promote"] is False
    assert "does not beat" in rejected["decision"]["reason"]
    policy = campaign_policy("giftloft", CAMPAIGN, get_settings())
    assert policy is not None and policy.name == "gift-first"

    # 8. the click model learns from the same log (copy, recipe, customer features) and
    #    goes through its own gate against the text-only model
    saved_base_click_model()
    trained = _cli_json("learn", "train", "--from-exposures", "--campaign", CAMPAIGN)
    meta, decision = trained["model"], trained["decision"]
    assert meta["sources"][-1] == f"exposures:giftloft:{FIRST + SECOND + 1}"
    assert f"recipe={RECIPES[0]}|life=lapsed" in meta["extra_names"]
    assert meta["recipe_offsets"][RECIPES[0]] > max(
        meta["recipe_offsets"][RECIPES[1]], meta["recipe_offsets"][RECIPES[2]]
    )
    assert decision["holdout"] == "brand-exposures-hash30" and decision["current"] is not None
    # the recipe offset orders held-out clicked copy above unclicked copy (text alone: ~0.5)
    assert decision["promote"] is True and not decision["forced"], decision
    assert decision["candidate"]["low"] > decision["current"]["value"]
    assert decision["diff_low"] > 0
    assert (model_root(get_settings()) / "LATEST").read_text() == meta["version"]
