"""The API over the real agent pipeline, guardrails and review queue (fake LLM and context).

The agent's collaborators come from ``tests/agent_support.World`` (a hand-built
brand, customers and catalog); everything between the HTTP request and the
stored draft is the real code.
"""

from __future__ import annotations

import pytest
from agent_support import World
from fastapi.testclient import TestClient

from genpersona.agent.chat import chat_reply
from genpersona.agent.pipeline import generate
from genpersona.api.app import create_app
from genpersona.api.services import Services
from genpersona.llm.fake import FakeLLM
from genpersona.settings import Settings


@pytest.fixture
def world() -> World:
    return World(FakeLLM(["Your cups are calling", "UK delivery takes 3 to 5 working days."]))


@pytest.fixture
def client(world: World) -> TestClient:
    def gen(request, settings):  # type: ignore[no-untyped-def]
        return generate(request, settings=settings, deps=world.deps())

    def chat(brand, customer_id, conversation, message, anonymous, settings):  # type: ignore[no-untyped-def]
        return chat_reply(
            brand, customer_id, conversation, message, anonymous=anonymous, deps=world.deps()
        )

    return TestClient(create_app(Settings(), services=Services(generate=gen, chat_reply=chat)))


def test_generate_personalized_draft_is_queued_and_idempotent(client: TestClient) -> None:
    body = {
        "brand": "teashop",
        "kind": "subject_line",
        "customer_id": "c1",
        "brief": "Teapots",
        "n": 2,
    }
    resp = client.post("/v1/generate", json=body)
    assert resp.status_code == 200, resp.text
    draft = resp.json()
    assert draft["status"] == "pending" and len(draft["variants"]) == 2
    assert draft["rationale"]["personalized"] is True
    assert draft["rationale"]["model"] == "fake-1"
    stored = client.get(f"/v1/drafts/{draft['id']}").json()
    assert stored["idempotency_key"] == draft["idempotency_key"]
    assert client.post("/v1/generate", json=body).json()["id"] == draft["id"]


def test_generate_for_anonymous_visitor(client: TestClient) -> None:
    body = {"brand": "teashop", "kind": "hero", "anonymous": {"country": "France"}, "n": 1}
    resp = client.post("/v1/generate", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["customer_id"] is None
    assert resp.json()["rationale"]["personalized"] is False


def test_chat_answer_over_http(client: TestClient) -> None:
    body = {
        "brand": "teashop",
        "customer_id": "c1",
        "conversation": [{"role": "customer", "text": "Hi there"}],
        "message": "How long does delivery take?",
    }
    resp = client.post("/v1/chat", json=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["answer"] and out["draft_id"] >= 1
    assert client.get(f"/v1/drafts/{out['draft_id']}").json()["kind"] == "chat_answer"


def test_chat_returns_passages_used_and_condenses_long_messages(client: TestClient) -> None:
    pasted = "Here is the email I got, word for word. " * 120  # ~4,800 chars: once a 422
    body = {"brand": "teashop", "customer_id": "c1",
            "message": pasted + " Anyway: how long does delivery take?"}  # fmt: skip
    resp = client.post("/v1/chat", json=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["outcome"] == "answer" and "3 to 5 working days" in out["answer"]
    assert out["knowledge_used"] == ["faq:0"] and out["passages"][0]["id"] == "faq:0"


def test_both_chat_routes_refuse_at_the_same_configured_length_strings_or_parts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GENPERSONA_CHAT_MESSAGE_MAX_CHARS is the one limit: below it a message is condensed
    (on /v1/chat/completions too, as a string or as text parts of any size), above it
    both routes refuse it with the same message."""
    from genpersona.settings import get_settings

    monkeypatch.setenv("GENPERSONA_CHAT_MESSAGE_MAX_CHARS", "9000")
    get_settings.cache_clear()
    pasted = "Here is the email I got, word for word. " * 150  # 6,000 characters
    question = " Anyway: how long does delivery take?"

    def completions(content: object) -> object:
        body = {
            "model": "teashop",
            "user": "c1",
            "messages": [{"role": "user", "content": content}],
        }
        return client.post("/v1/chat/completions", json=body)

    as_string = completions(pasted + question)
    as_parts = completions([{"type": "text", "text": pasted}, {"type": "text", "text": question}])
    for resp in (as_string, as_parts):
        assert resp.status_code == 200, resp.text
        assert "3 to 5 working days" in resp.json()["choices"][0]["message"]["content"]
    too_long = pasted * 2  # 12,000 characters
    refused = client.post(
        "/v1/chat", json={"brand": "teashop", "customer_id": "c1", "message": too_long}
    )
    assert refused.status_code == 422
    expected = "the chat message has 12000 characters, more than the 9000 accepted"
    assert refused.json()["message"] == expected
    assert "GENPERSONA_CHAT_MESSAGE_MAX_CHARS" in refused.json()["fix"]
    for resp in (
        completions(too_long),
        completions([{"type": "text", "text": pasted}, {"type": "text", "text": pasted}]),
    ):
        assert resp.status_code == 400, resp.text  # OpenAI clients raise BadRequestError
        err = resp.json()["error"]
        assert err["type"] == "invalid_request_error"
        assert err["message"].startswith(expected + ". Fix: ")
        assert "GENPERSONA_CHAT_MESSAGE_MAX_CHARS" in err["message"]


def test_chat_says_the_handoff_line_not_an_error_when_nothing_safe_can_be_said() -> None:
    from genpersona.errors import RetriesExhausted

    world = World(FakeLLM(["I hate humans!"] * 9, instruction_tuned=True))

    def no_fallback(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RetriesExhausted("nothing passed", fix="add fallbacks")

    def chat(brand, customer_id, conversation, message, anonymous, settings):  # type: ignore[no-untyped-def]
        deps = world.deps()
        deps.submit = no_fallback  # the queue refuses too: the customer must still get a reply
        return chat_reply(brand, customer_id, conversation, message, deps=deps)

    client = TestClient(create_app(Settings(), services=Services(chat_reply=chat)))
    resp = client.post(
        "/v1/chat", json={"brand": "teashop", "message": "How long does delivery take?"}
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["answer"] == world.guide.handoff_line and out["outcome"] == "handoff"
    assert "hate" not in out["answer"]


def test_chat_handoffs_are_counted_in_insights(client: TestClient, world: World) -> None:
    from genpersona.review.insights import insights

    client.post(
        "/v1/chat", json={"brand": "teashop", "message": "I was charged twice for order 12345"}
    )
    client.post("/v1/chat", json={"brand": "teashop", "message": "How long does delivery take?"})
    stats = insights(brand="teashop", settings=world.deps().settings)
    assert stats.chat_handoffs == 1 and stats.chat_outcomes.get("answer") == 1
