"""The whole loop on real components, on SQLite and PostgreSQL.

ingest a small events file -> campaign run (fake LLM) -> approve from the CLI ->
pull each recipient over HTTP from uvicorn on loopback -> a signed SendGrid
webhook (same server) reports clicks -> ``campaign report`` shows them, with the
holdout kept out of the personalized arm.
"""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import LiveServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from review_support import pg_database_url  # noqa: F401
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from genpersona.api.app import create_app
from genpersona.cli.main import app as cli_app
from genpersona.db.engine import get_engine
from genpersona.delivery import lookup
from genpersona.settings import get_settings

runner = CliRunner()
CUSTOMERS = [f"L{i:03d}" for i in range(24)]
CAMPAIGN = "loop-test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loop_db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "postgres":
        monkeypatch.setenv("GENPERSONA_DATABASE_URL", request.getfixturevalue("pg_database_url"))
        get_settings.cache_clear()
        engine = get_engine()
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    lookup.clear_cache()
    return request.param


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY", base64.b64encode(public).decode())
    monkeypatch.setenv("GENPERSONA_DELIVERY_HOLDOUT_SHARE", "0.3")
    get_settings.cache_clear()
    return key


@pytest.fixture
def server(loop_db: str, signing_key: ec.EllipticCurvePrivateKey) -> Iterator[str]:
    with LiveServer(create_app(get_settings()), lifespan="auto", log_level="warning") as live:
        yield live.url


def _events_file(tmp_path: Path) -> Path:
    lines = ["customer_id,type,ts,stock_code,quantity,unit_price,order_id,country,description"]
    items = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55), ("22423", "REGENCY CAKESTAND 3 TIER", 12.75)]  # fmt: skip
    for i, customer in enumerate(CUSTOMERS):
        code, desc, price = items[i % 2]
        lines.append(
            f"{customer},purchase,2011-11-{1 + i % 27:02d}T10:00:00,{code},2,{price},"
            f"O{i},United Kingdom,{desc}"
        )
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args: str) -> dict:  # type: ignore[type-arg]
    out = runner.invoke(cli_app, [*args, "--json"])
    assert out.exit_code in (0, 8), out.output  # 8: some drafts could not be approved
    return json.loads(out.stdout)


def test_ingest_campaign_approve_pull_webhook_report(
    server: str, signing_key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    ingested = _cli(
        "ingest", "events", str(_events_file(tmp_path)), "--brand", "giftloft",
        "--consent", "personalization,email",
    )  # fmt: skip
    assert ingested["customers"] == len(CUSTOMERS)
    run = _cli(
        "campaign", "run", "--name", CAMPAIGN, "--brand", "giftloft",
        "--brief", "Cosy winter lights for the home", "--limit", str(len(CUSTOMERS)),
    )  # fmt: skip
    assert run["generated"] == len(CUSTOMERS), run
    approved = _cli("review", "approve", "--campaign", CAMPAIGN, "--reviewer", "alice")
    approved_ids = {r["draft_id"] for r in approved["approved"]}
    assert len(approved_ids) >= len(CUSTOMERS) // 2, approved

    answers = {}
    with httpx.Client(base_url=server, timeout=30) as http:
        for customer in CUSTOMERS:
            resp = http.get(
                f"/v1/content/giftloft/{CAMPAIGN}/{customer}", params={"channel": "email"}
            )
            assert resp.status_code in (200, 404), resp.text
            answers[customer] = resp.json()
            again = http.get(
                f"/v1/content/giftloft/{CAMPAIGN}/{customer}", params={"channel": "email"}
            )
            assert again.content == resp.content  # platforms render each part separately
        held = [c for c, a in answers.items() if a.get("holdout")]
        treated = [
            c
            for c, a in answers.items()
            if not a.get("holdout") and a.get("draft_id") in approved_ids
        ]
        assert held and treated, answers
        assert all(answers[c]["tag"] for c in held + treated)

        # the platform sends; two personalized recipients and one held-out one click
        clickers = treated[:2] + held[:1]
        events = []
        for i, customer in enumerate(clickers):
            tag = answers[customer]["tag"]
            events += [
                {"event": "delivered", "sg_event_id": f"d{i}", "timestamp": 1700000000, "gp_tag": tag},
                {"event": "open", "sg_event_id": f"o{i}", "timestamp": 1700000100, "gp_tag": tag,
                 "sg_machine_open": True, "useragent": "Mozilla/5.0"},
                {"event": "click", "sg_event_id": f"c{i}", "timestamp": 1700000200, "gp_tag": tag,
                 "url": "https://shop.example/lights"},
            ]  # fmt: skip
        body = json.dumps(events).encode()
        ts = "1700000300"
        signature = base64.b64encode(
            signing_key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        ).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        }
        posted = http.post("/v1/webhooks/sendgrid", content=body, headers=headers)
        assert posted.status_code == 200, posted.text
        assert posted.json()["stored"] == 9 and posted.json()["unmatched"] == 0
        replay = http.post("/v1/webhooks/sendgrid", content=body, headers=headers)
        assert replay.json()["duplicates"] == 9
        forged = http.post(
            "/v1/webhooks/sendgrid", content=body.replace(b"click", b"open "), headers=headers
        )
        assert forged.status_code == 401

    report = _cli("campaign", "report", "--name", CAMPAIGN, "--brand", "giftloft")
    assert report["holdout"]["exposures"] == len(held)
    assert report["personalized"]["exposures"] == len(CUSTOMERS) - len(held)
    assert report["personalized"]["clicks"] == 2 and report["holdout"]["clicks"] == 1
    assert report["personalized"]["human_opens"] == 0  # machine opens never count
    assert report["personalized"]["machine_opens"] == 2
    clicks = next(x for x in report["lift"] if x["metric"] == "clicks")
    assert clicks["personalized"]["n"] == len(CUSTOMERS) - len(held)
    assert clicks["holdout"] == clicks["holdout"] | {"count": 1, "n": len(held)}
    assert clicks["low"] <= clicks["difference"] <= clicks["high"]
    per_variant = [
        r for r in report["rows"] if r["arm"] == "personalized" and r["variant_index"] is not None
    ]
    assert sum(r["clicks"] for r in per_variant) == 2
    assert all(r["prompt_version"] for r in per_variant)
