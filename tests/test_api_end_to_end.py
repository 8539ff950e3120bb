"""The service with its real collaborators (fake LLM and embedder): no test doubles inside.

A seeded brand with the shipped ``giftloft`` brand guide: events in, a draft and a
chat answer out, outcomes recorded, then the customer's controls: opt-out gives
generic copy, export returns everything, erase removes every trace (incl. outcomes).
"""

from __future__ import annotations

import pytest
from campaign_support import seed_brand
from fastapi.testclient import TestClient

from genpersona.api.app import create_app
from genpersona.settings import get_settings


@pytest.fixture
def client() -> TestClient:
    seed_brand()
    return TestClient(create_app(get_settings()))


def test_customer_journey_over_http(client: TestClient) -> None:
    base = "/v1/customers/giftloft/c1"
    events = {
        "brand": "giftloft",
        "customer_id": "c1",
        "events": [{"type": "view", "stock_code": "85123A"}, {"type": "email_open"}],
    }
    resp = client.post("/v1/events", json=events)
    assert resp.status_code == 202, resp.text
    assert all(isinstance(i, int) for i in resp.json()["event_ids"])

    gen = client.post(
        "/v1/generate",
        json={
            "brand": "giftloft",
            "kind": "subject_line",
            "customer_id": "c1",
            "brief": "Christmas",
            "n": 2,
        },
    )
    assert gen.status_code == 200, gen.text
    draft = gen.json()
    assert draft["id"] and draft["variants"]

    chat = client.post(
        "/v1/chat",
        json={"brand": "giftloft", "customer_id": "c1", "message": "Do you gift wrap?"},
    )
    assert chat.status_code == 200, chat.text
    assert chat.json()["answer"] and chat.json()["draft_id"]

    out = client.post(
        "/v1/outcomes",
        json={"outcomes": [{"draft_id": draft["id"], "variant_index": 0, "type": "sent"}]},
    )
    assert out.status_code == 202, out.text

    assert client.post(f"{base}/opt-out").status_code == 200
    generic = client.post(
        "/v1/generate",
        json={
            "brand": "giftloft",
            "kind": "subject_line",
            "customer_id": "c1",
            "brief": "New year",
            "n": 1,
        },
    )
    assert generic.status_code == 200 and generic.json()["rationale"]["personalized"] is False

    export = client.get(f"{base}/export")
    assert export.status_code == 200, export.text
    data = export.json()
    assert {e["type"] for e in data["events"]} >= {"view", "email_open"}
    assert data["other"]["campaigns"]["outcomes"][0]["type"] == "sent"
    exported_drafts = {d["id"] for d in data["other"]["review_queue"]["drafts"]}
    assert draft["id"] in exported_drafts

    erased = client.delete(base)
    assert erased.status_code == 200, erased.text
    assert erased.json()["rows"]["campaigns"] == 1
    assert erased.json()["rows"]["review_queue"] >= 2  # the personal and the generic draft
    assert client.get(f"{base}/export").status_code == 404
    assert client.get(f"/v1/drafts/{draft['id']}").status_code == 404


def test_unknown_customer_and_brand_over_http(client: TestClient) -> None:
    assert client.get("/v1/customers/giftloft/nobody/export").status_code == 404
    resp = client.post("/v1/events", json={"brand": "giftloft", "customer_id": "nobody",
                                           "events": [{"type": "email_open"}]})  # fmt: skip
    assert resp.status_code == 404 and resp.json()["error"] == "CustomerNotFound"
    created = client.post("/v1/events", json={"brand": "giftloft", "customer_id": "newbie",
                                              "create_customer": True,
                                              "events": [{"type": "email_open"}]})  # fmt: skip
    assert created.status_code == 202
    assert client.get("/v1/customers/giftloft/newbie/export").json()["consent"] == {
        "personalization": False, "email": False, "chat_memory": False,
    }  # fmt: skip
