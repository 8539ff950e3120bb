"""Webhooks from email platforms: vendor fixtures, signatures, dedupe, unmatched, bad bodies."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from exposure_rows import add_exposure
from fastapi.testclient import TestClient
from review_support import backend, draft_factory, memory_vectors, pg_database_url  # noqa: F401
from sqlalchemy import func, select

from genpersona.api.app import create_app
from genpersona.campaigns.tables import OutcomeRow
from genpersona.db.engine import session_scope
from genpersona.delivery.webhooks.machine import is_machine_open
from genpersona.delivery.webhooks.models import RawWebhook
from genpersona.delivery.webhooks.signatures import (
    customerio_signature,
    mandrill_signature,
    verify_sendgrid,
)
from genpersona.errors import WebhookSignatureInvalid
from genpersona.review.queue import approve_set, submit_draft
from genpersona.settings import Settings, get_settings

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
MANDRILL_KEY = "mandrill-test-key"
BRAZE_TOKEN = "braze-test-token"
CIO_SECRET = "cio-test-secret"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def client(ec_key, monkeypatch, backend) -> TestClient:  # type: ignore[no-untyped-def]
    public = ec_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY", base64.b64encode(public).decode())
    monkeypatch.setenv("GENPERSONA_MANDRILL_WEBHOOK_KEY", MANDRILL_KEY)
    monkeypatch.setenv("GENPERSONA_BRAZE_CURRENTS_TOKEN", BRAZE_TOKEN)
    monkeypatch.setenv("GENPERSONA_CUSTOMERIO_WEBHOOK_SECRET", CIO_SECRET)
    monkeypatch.setenv("GENPERSONA_API_KEY", "our-own-api-key")  # webhooks must not need it
    get_settings.cache_clear()
    return TestClient(create_app(get_settings()))


def sendgrid_post(
    client: TestClient, key: ec.EllipticCurvePrivateKey, body: bytes, ts="1700000000"
):  # type: ignore[no-untyped-def]
    signature = base64.b64encode(key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return client.post(
        "/v1/webhooks/sendgrid",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        },
    )


def outcomes() -> list[OutcomeRow]:
    with session_scope() as session:
        rows = list(session.scalars(select(OutcomeRow).order_by(OutcomeRow.id)))
        session.expunge_all()
    return rows


def approved_draft(draft_factory, campaign: str = "spring"):  # type: ignore[no-untyped-def]
    d = submit_draft(draft_factory(kind="subject_line", campaign=campaign, customer_id="C1"))
    approve_set(d.id, "alice", 1)
    return d


def sendgrid_batch(tag: str, draft_id: int) -> list[dict[str, Any]]:
    events = fixture("sendgrid_events.json")
    for i, e in enumerate(events):
        e["sg_event_id"] = f"evt-{i}"
        e["gp_tag"] = tag  # custom_args arrive as top-level keys
        e["gp_draft_id"] = str(draft_id)
        e["gp_variant"] = "0"
    return events


# --- SendGrid ---------------------------------------------------------------------------
def test_sendgrid_published_test_vector_verifies_and_a_changed_byte_does_not() -> None:
    """The public key, signature, timestamp and payload from SendGrid's own library tests."""
    public_key = (
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3"
        "GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
    )
    signature = (
        "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M"
        "15TluLtEZtM="
    )
    payload = (
        json.dumps(
            [
                {
                    "email": "hello@world.com",
                    "event": "dropped",
                    "reason": "Bounced Address",
                    "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                    "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                    "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                    "timestamp": 1600112492,
                }
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        + "\r\n"
    ).encode()
    verify_sendgrid(public_key, signature, "1600112502", payload)
    with pytest.raises(WebhookSignatureInvalid):
        verify_sendgrid(public_key, signature, "1600112503", payload)
    with pytest.raises(WebhookSignatureInvalid):
        verify_sendgrid(
            public_key, signature, "1600112502", payload.replace(b"dropped", b"droppee")
        )


def test_sendgrid_fixture_maps_each_event_type_to_its_exposure(
    client, ec_key, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory)
    exposure = add_exposure(draft_id=d.id, tag="tag-sg-1")
    body = json.dumps(sendgrid_batch("tag-sg-1", d.id)).encode()
    response = sendgrid_post(client, ec_key, body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["received"] == 11 and report["ignored"] == 2  # deferred, group_resubscribe
    assert report["stored"] == 9 and report["unmatched"] == 0
    rows = outcomes()
    assert [r.type for r in rows] == [
        "sent",
        "delivered",
        "opened",
        "clicked",
        "bounced",
        "bounced",
        "unsubscribed",
        "unsubscribed",
        "unsubscribed",
    ]
    assert {(r.exposure_id, r.draft_id, r.variant_index, r.customer_id) for r in rows} == {
        (exposure.id, d.id, 0, "C1")
    }
    assert {r.provider for r in rows} == {"sendgrid"} and not any(r.machine_open for r in rows)


def test_a_replayed_batch_is_stored_once(client, ec_key, draft_factory, memory_vectors) -> None:
    d = approved_draft(draft_factory)
    add_exposure(draft_id=d.id, tag="tag-replay")
    body = json.dumps(sendgrid_batch("tag-replay", d.id)).encode()
    first = sendgrid_post(client, ec_key, body).json()
    again = sendgrid_post(client, ec_key, body, ts="1700000999").json()
    assert first["stored"] == 9 and again["stored"] == 0 and again["duplicates"] == 9
    assert len(outcomes()) == 9


def test_bad_signature_is_401_and_stores_nothing(
    client, ec_key, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory)
    add_exposure(draft_id=d.id, tag="tag-bad")
    body = json.dumps(sendgrid_batch("tag-bad", d.id)).encode()
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert sendgrid_post(client, other_key, body).status_code == 401
    assert sendgrid_post(client, ec_key, body).status_code == 200  # the genuine delivery
    signature = base64.b64encode(ec_key.sign(b"1" + body, ec.ECDSA(hashes.SHA256()))).decode()
    forged = client.post(
        "/v1/webhooks/sendgrid",
        content=body.replace(b"click", b"clack"),
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": "1",
        },
    )
    assert forged.status_code == 401
    assert forged.json()["error"] == "WebhookSignatureInvalid"
    unsigned = client.post("/v1/webhooks/sendgrid", content=body)
    assert unsigned.status_code == 401 and "missing" in unsigned.json()["message"]
    assert len(outcomes()) == 9  # only the properly signed delivery


def test_unknown_events_are_2xx_counted_and_not_stored(client, ec_key, backend) -> None:
    events = fixture("sendgrid_events.json")
    for i, e in enumerate(events):
        e["sg_event_id"] = f"u-{i}"
        e["gp_tag"] = "no-such-tag"
    events.append(
        {"event": "click", "sg_event_id": "u-x", "gp_draft_id": "999999", "gp_variant": "0"}
    )
    events.append({"event": "open", "sg_event_id": "u-y"})  # no ids at all
    response = sendgrid_post(client, ec_key, json.dumps(events).encode())
    assert response.status_code == 200
    report = response.json()
    assert report["stored"] == 0 and report["unmatched"] == 11 and report["ignored"] == 2
    assert outcomes() == []


@pytest.mark.parametrize(
    "body",
    [b'[{"event": "open",', b'{"event": "open"}', b"[1, 2]", b"\xff\xfe"],
    ids=["truncated", "object-not-array", "not-objects", "not-utf8"],
)
def test_malformed_body_is_400_with_a_message_and_nothing_stored(client, ec_key, body) -> None:
    response = sendgrid_post(client, ec_key, body)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "WebhookPayloadInvalid" and "sendgrid" in data["message"]
    assert "nothing was stored" in data["fix"]
    assert outcomes() == []


def test_a_batch_with_one_malformed_event_stores_none_of_it(
    client, ec_key, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory)
    add_exposure(draft_id=d.id, tag="tag-mixed")
    events: list[Any] = sendgrid_batch("tag-mixed", d.id)
    events.append("not an event")
    assert sendgrid_post(client, ec_key, json.dumps(events).encode()).status_code == 400
    assert outcomes() == []


def test_machine_opens_are_flagged(client, ec_key, draft_factory, memory_vectors) -> None:
    d = approved_draft(draft_factory)
    add_exposure(draft_id=d.id, tag="tag-mpp")
    base = {"event": "open", "gp_tag": "tag-mpp", "timestamp": 1700000000}
    events = [
        base | {"sg_event_id": "o1", "sg_machine_open": True, "useragent": "Mozilla/5.0"},
        base | {"sg_event_id": "o2", "sg_machine_open": False, "useragent": "Mozilla/5.0 (iPhone)"},
        base | {"sg_event_id": "o3", "useragent": "Mozilla/5.0"},  # Apple proxy, no flag
        base | {"sg_event_id": "o4", "useragent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120"},
    ]
    assert sendgrid_post(client, ec_key, json.dumps(events).encode()).json()["stored"] == 4
    assert [r.machine_open for r in outcomes()] == [True, False, True, False]


def test_machine_open_heuristics() -> None:
    assert is_machine_open("Mozilla/5.0")
    assert is_machine_open("Barracuda Sentinel (EE)")
    assert not is_machine_open(
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    assert not is_machine_open(None)
    assert is_machine_open("Mozilla/5.0 (iPhone)", "true") and not is_machine_open(
        "Mozilla/5.0", False
    )


def test_draft_ids_without_an_exposure_still_record_against_the_draft(
    client, ec_key, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory)
    events = [{"event": "click", "sg_event_id": "d1", "gp_draft_id": str(d.id), "gp_variant": "1"}]
    assert sendgrid_post(client, ec_key, json.dumps(events).encode()).json()["stored"] == 1
    [row] = outcomes()
    assert (row.draft_id, row.variant_index, row.exposure_id, row.type) == (
        d.id,
        1,
        None,
        "clicked",
    )


def test_holdout_exposure_outcomes_are_stored_without_a_draft(client, ec_key, backend) -> None:
    exposure = add_exposure(holdout=True, tag="tag-hold", customer_id="C9")
    events = [{"event": "click", "sg_event_id": "h1", "gp_tag": "tag-hold"}]
    assert sendgrid_post(client, ec_key, json.dumps(events).encode()).json()["stored"] == 1
    [row] = outcomes()
    assert (row.exposure_id, row.draft_id, row.customer_id) == (exposure.id, None, "C9")


# --- Mandrill ---------------------------------------------------------------------------
def mandrill_post(client: TestClient, events: Any, key: str = MANDRILL_KEY, url: str | None = None):  # type: ignore[no-untyped-def]
    params = {"mandrill_events": json.dumps(events)}
    target = "http://testserver/v1/webhooks/mandrill"
    signature = mandrill_signature(key, url or target, params.items())
    return client.post(
        "/v1/webhooks/mandrill",
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Mandrill-Signature": signature,
        },
    )


def test_mandrill_signature_matches_the_documented_algorithm() -> None:
    params = [("mandrill_events", "[]"), ("a", "1")]
    expected = base64.b64encode(
        hmac.new(b"k", b"https://x.test/hooka1mandrill_events[]", hashlib.sha1).digest()
    ).decode()
    assert mandrill_signature("k", "https://x.test/hook", params) == expected


def test_mandrill_fixture_is_matched_by_metadata_and_replays_once(
    client, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory)
    exposure = add_exposure(draft_id=d.id, tag="tag-md")
    events = fixture("mandrill_events.json")
    for e in events:
        e["msg"]["metadata"].update({"gp_tag": "tag-md", "gp_draft_id": str(d.id)})
    response = mandrill_post(client, events)
    assert response.status_code == 200, response.text
    assert response.json() | {"by_type": None} == {
        "provider": "mandrill",
        "received": 5,
        "stored": 4,
        "duplicates": 0,
        "unmatched": 0,
        "ignored": 1,
        "by_type": None,
    }
    assert [r.type for r in outcomes()] == ["sent", "opened", "clicked", "bounced"]
    assert {r.exposure_id for r in outcomes()} == {exposure.id}
    assert mandrill_post(client, events).json()["duplicates"] == 4
    assert len(outcomes()) == 4


def test_mandrill_bad_signature_and_bad_form(client, backend) -> None:
    events = fixture("mandrill_events.json")
    assert mandrill_post(client, events, key="wrong").status_code == 401
    assert mandrill_post(client, events, url="https://elsewhere/hook").status_code == 401
    signature = mandrill_signature(
        MANDRILL_KEY, "http://testserver/v1/webhooks/mandrill", [("x", "1")]
    )
    no_field = client.post(
        "/v1/webhooks/mandrill",
        content="x=1",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Mandrill-Signature": signature,
        },
    )
    assert no_field.status_code == 400 and "mandrill_events" in no_field.json()["message"]
    params = {"mandrill_events": "[{not json"}
    bad_json = client.post(
        "/v1/webhooks/mandrill",
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Mandrill-Signature": mandrill_signature(
                MANDRILL_KEY, "http://testserver/v1/webhooks/mandrill", params.items()
            ),
        },
    )
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["message"]
    assert client.head("/v1/webhooks/mandrill").status_code == 200  # Mandrill's URL check
    empty = mandrill_post(client, [])  # and the empty batch it posts when a hook is saved
    assert empty.status_code == 200 and empty.json()["received"] == 0
    assert outcomes() == []


def test_mandrill_url_setting_is_what_gets_signed(ec_key, monkeypatch, backend) -> None:
    monkeypatch.setenv("GENPERSONA_MANDRILL_WEBHOOK_KEY", MANDRILL_KEY)
    monkeypatch.setenv("GENPERSONA_MANDRILL_WEBHOOK_URL", "https://shop.example/hooks/mandrill")
    get_settings.cache_clear()
    client = TestClient(create_app(get_settings()))
    events = fixture("mandrill_events.json")
    assert mandrill_post(client, events).status_code == 401  # signed for the internal URL
    ok = mandrill_post(client, events, url="https://shop.example/hooks/mandrill")
    assert ok.status_code == 200 and ok.json()["unmatched"] == 4


# --- Braze Currents -----------------------------------------------------------------------
def test_braze_events_match_campaign_and_external_user_id(
    client, draft_factory, memory_vectors
) -> None:
    d = approved_draft(draft_factory, campaign="Test Campaign")
    exposure = add_exposure(draft_id=d.id, campaign="Test Campaign", customer_id="user_id")
    add_exposure(campaign="Other Campaign", customer_id="user_id", draft_id=d.id)
    body = json.dumps(fixture("braze_currents.json"))
    headers = {"Authorization": f"Bearer {BRAZE_TOKEN}", "Content-Type": "application/json"}
    response = client.post("/v1/webhooks/braze", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3 and response.json()["ignored"] == 1  # push send
    assert [(r.type, r.exposure_id) for r in outcomes()] == [
        ("sent", exposure.id),
        ("opened", exposure.id),
        ("clicked", exposure.id),
    ]
    assert (
        client.post("/v1/webhooks/braze", content=body, headers=headers).json()["duplicates"] == 3
    )


def test_braze_machine_open_flag_and_wrong_token(client, draft_factory, memory_vectors) -> None:
    d = approved_draft(draft_factory, campaign="Test Campaign")
    add_exposure(draft_id=d.id, campaign="Test Campaign", customer_id="user_id")
    payload = fixture("braze_currents.json")
    payload["events"][1]["properties"]["machine_open"] = "true"
    body = json.dumps(payload)
    wrong = client.post(
        "/v1/webhooks/braze", content=body, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert client.post("/v1/webhooks/braze", content=body).status_code == 401
    assert outcomes() == []
    headers = {"Authorization": f"Bearer {BRAZE_TOKEN}"}
    assert client.post("/v1/webhooks/braze", content=body, headers=headers).status_code == 200
    assert [r.machine_open for r in outcomes() if r.type == "opened"] == [True]


# --- Customer.io --------------------------------------------------------------------------
def test_customerio_signed_event(client, draft_factory, memory_vectors) -> None:
    d = approved_draft(draft_factory, campaign="welcome")
    exposure = add_exposure(draft_id=d.id, campaign="welcome", customer_id="0200102")
    event = fixture("customerio_event.json")
    event["data"]["gp_campaign"] = "welcome"
    body = json.dumps(event).encode()
    ts = "1613063089"
    headers = {"X-CIO-Timestamp": ts, "X-CIO-Signature": customerio_signature(CIO_SECRET, ts, body)}
    assert (
        client.post("/v1/webhooks/customerio", content=body, headers=headers).json()["stored"] == 1
    )
    [row] = outcomes()
    assert (row.type, row.exposure_id) == ("clicked", exposure.id)
    headers["X-CIO-Signature"] = customerio_signature("other", ts, body)
    assert client.post("/v1/webhooks/customerio", content=body, headers=headers).status_code == 401


# --- wiring -------------------------------------------------------------------------------
def test_unknown_provider_is_404_and_unconfigured_is_503(backend, monkeypatch) -> None:
    get_settings.cache_clear()
    client = TestClient(create_app(Settings()))
    assert client.post("/v1/webhooks/klaviyo", content=b"[]").status_code == 404
    response = client.post("/v1/webhooks/sendgrid", content=b"[]")
    assert response.status_code == 503
    assert "GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY" in response.json()["fix"]


def test_in_process_ingest_without_http(ec_key, backend, monkeypatch) -> None:
    from genpersona.delivery.webhooks.ingest import ingest_webhook

    add_exposure(tag="tag-direct")
    raw = RawWebhook(
        provider="sendgrid",
        body=json.dumps(
            [{"event": "delivered", "sg_event_id": "z1", "gp_tag": "tag-direct"}]
        ).encode(),
    )
    report = ingest_webhook(raw, Settings(), verify=False)
    assert report.stored == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutcomeRow)) == 1


def test_the_same_batch_delivered_twice_at_once_is_stored_once(backend) -> None:
    """Platforms retry on timeouts, so a replay can race the original delivery."""
    from concurrent.futures import ThreadPoolExecutor

    from genpersona.delivery.webhooks.ingest import ingest_webhook

    tags = [add_exposure(customer_id=f"R{i}", tag=f"race-{i}").tag for i in range(20)]
    events = [
        {"event": kind, "sg_event_id": f"{kind}-{t}", "gp_tag": t, "timestamp": 1700000000}
        for t in tags
        for kind in ("delivered", "open", "click")
    ]
    raw = RawWebhook(provider="sendgrid", body=json.dumps(events).encode())
    settings = Settings()
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: ingest_webhook(raw, settings, verify=False), range(4)))
    assert sum(r.stored for r in reports) == 60
    assert sum(r.duplicates for r in reports) == 180
    assert len(outcomes()) == 60
