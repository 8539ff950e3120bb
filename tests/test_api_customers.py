"""Data controls, events and outcomes over HTTP."""

from __future__ import annotations

import pytest
from api_support import FakeControls, fake_services
from fastapi.testclient import TestClient

from genpersona.api.app import create_app
from genpersona.settings import Settings


@pytest.fixture
def controls() -> FakeControls:
    return FakeControls({("giftloft", "17850"), ("giftloft", "12347")})


@pytest.fixture
def client(controls: FakeControls) -> TestClient:
    return TestClient(create_app(Settings(), services=fake_services(controls)))


def test_export_opt_out_opt_in_reset_erase(client: TestClient, controls: FakeControls) -> None:
    base = "/v1/customers/giftloft/17850"
    assert client.get(f"{base}/export").json()["customer_id"] == "17850"
    out = client.post(f"{base}/opt-out")
    assert out.status_code == 200 and out.json()["opted_out"] is True
    assert controls.opted_out[("giftloft", "17850")] is True
    assert client.post(f"{base}/opt-in").json()["opted_out"] is False
    assert controls.opted_out[("giftloft", "17850")] is False
    reset = client.post(f"{base}/reset")
    assert reset.status_code == 200 and reset.json()["detail"] == {"facts_deleted": 2}
    erased = client.delete(base)
    assert erased.status_code == 200 and erased.json()["erased"] is True
    # erased means gone: every control now answers 404 with a fix
    for method, path in [("get", f"{base}/export"), ("post", f"{base}/opt-out"), ("delete", base)]:
        resp = getattr(client, method)(path)
        assert resp.status_code == 404 and resp.json()["error"] == "CustomerNotFound"
        assert resp.json()["fix"]


def test_unknown_customer_is_404(client: TestClient) -> None:
    resp = client.post("/v1/customers/giftloft/nobody/reset")
    assert resp.status_code == 404
    assert resp.json()["data"]["customer_id"] == "nobody"


def test_events_batch_is_stored(client: TestClient, controls: FakeControls) -> None:
    body = {
        "brand": "giftloft",
        "customer_id": "12347",
        "events": [
            {"type": "view", "stock_code": "85123A", "country": "France"},
            {"type": "email_open", "payload": {"campaign": "xmas"}},
            {"type": "purchase", "stock_code": "22423", "quantity": 2, "unit_price": 12.75},
        ],
    }
    resp = client.post("/v1/events", json=body)
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 3 and resp.json()["event_ids"] == [1, 2, 3]
    assert [e[2] for e in controls.events] == ["view", "email_open", "purchase"]
    assert controls.events[0][3] == {"stock_code": "85123A", "country": "France"}


def test_bad_event_refuses_the_whole_batch(client: TestClient, controls: FakeControls) -> None:
    body = {
        "brand": "giftloft",
        "customer_id": "12347",
        "events": [
            {"type": "view", "stock_code": "85123A"},
            {"type": "teleport"},
            {"type": "click"},
        ],
    }
    resp = client.post("/v1/events", json=body)
    assert resp.status_code == 422
    fields = {f["field"] for f in resp.json()["data"]["fields"]}
    assert "body.events[1].type" in fields and "body.events[2]" in fields
    assert controls.events == []  # nothing half-stored
    empty = client.post("/v1/events", json={**body, "events": []})
    assert empty.status_code == 422


def test_outcomes_are_checked_and_stored_once(client: TestClient) -> None:
    draft = client.post(
        "/v1/generate",
        json={"brand": "giftloft", "kind": "subject_line", "customer_id": "17850", "n": 2},
    ).json()
    body = {
        "outcomes": [
            {"draft_id": draft["id"], "variant_index": 1, "type": "sent", "outcome_id": "s-1"},
            {"draft_id": draft["id"], "variant_index": 1, "type": "opened"},
        ]
    }
    first = client.post("/v1/outcomes", json=body)
    assert first.status_code == 202, first.text
    ids = first.json()["outcome_ids"]
    again = client.post("/v1/outcomes", json={"outcomes": body["outcomes"][:1]})
    assert again.json()["outcome_ids"] == ids[:1]  # the re-sent outcome_id was not duplicated

    bad_variant = client.post(
        "/v1/outcomes",
        json={"outcomes": [{"draft_id": draft["id"], "variant_index": 5, "type": "sent"}]},
    )
    assert bad_variant.status_code == 422 and "variant_index" in bad_variant.json()["fix"]
    missing = client.post(
        "/v1/outcomes", json={"outcomes": [{"draft_id": 99999, "variant_index": 0, "type": "sent"}]}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "DraftNotFound"
    wrong_type = client.post(
        "/v1/outcomes",
        json={"outcomes": [{"draft_id": draft["id"], "variant_index": 0, "type": "liked"}]},
    )
    assert wrong_type.status_code == 422

    from sqlalchemy import func, select

    from genpersona.campaigns.tables import OutcomeRow
    from genpersona.db.engine import session_scope

    with session_scope() as session:
        rows = session.execute(select(OutcomeRow.type, OutcomeRow.customer_id)).all()
        assert sorted(rows) == [("opened", "17850"), ("sent", "17850")]
        assert session.scalar(select(func.count()).select_from(OutcomeRow)) == 2
