"""HTTP behaviour of the service: generation, drafts, chat, error format, limits, auth."""

from __future__ import annotations

import json

import pytest
from api_support import fake_services
from fastapi.testclient import TestClient

from genpersona.api.app import create_app
from genpersona.api.limits import Limiter
from genpersona.settings import Settings


def client_for(**overrides: object) -> TestClient:
    return TestClient(create_app(Settings(**overrides), services=fake_services()))


@pytest.fixture
def client() -> TestClient:
    return client_for()


def test_generate_returns_stored_draft_and_get_reads_it(client: TestClient) -> None:
    body = {"brand": "giftloft", "kind": "subject_line", "customer_id": "17850", "n": 2}
    resp = client.post("/v1/generate", json=body)
    assert resp.status_code == 200, resp.text
    draft = resp.json()
    assert draft["id"] >= 1 and draft["status"] == "pending"
    assert [v["index"] for v in draft["variants"]] == [0, 1]
    again = client.get(f"/v1/drafts/{draft['id']}")
    assert again.status_code == 200
    assert (
        again.json()["variants"][0]["content"]["subject"]
        == draft["variants"][0]["content"]["subject"]
    )


def test_bad_body_is_422_naming_each_field(client: TestClient) -> None:
    resp = client.post("/v1/generate", json={"brand": "", "kind": "tweet", "n": 50})
    assert resp.status_code == 422
    err = resp.json()
    assert err["error"] == "ValidationError" and err["fix"]
    fields = {f["field"] for f in err["data"]["fields"]}
    assert {"body.brand", "body.kind", "body.n"} <= fields


def test_nested_field_paths_use_indexes(client: TestClient) -> None:
    body = {
        "brand": "giftloft",
        "kind": "chat_answer",
        "conversation": [{"role": "customer", "text": "hi"}, {"role": "robot", "text": "x"}],
    }
    resp = client.post("/v1/generate", json=body)
    assert resp.status_code == 422
    assert "body.conversation[1].role" in {f["field"] for f in resp.json()["data"]["fields"]}


def test_invalid_json_says_so(client: TestClient) -> None:
    resp = client.post(
        "/v1/generate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    assert resp.json()["message"] == "the request body is not valid JSON"


def test_unknown_draft_is_404_with_fix(client: TestClient) -> None:
    resp = client.get("/v1/drafts/999999")
    assert resp.status_code == 404
    assert resp.json()["error"] == "DraftNotFound" and resp.json()["fix"]
    assert client.get("/v1/drafts/abc").status_code == 422


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    resp = client.get("/v1/nope")
    assert resp.status_code == 404
    assert set(resp.json()) == {"error", "message", "fix", "data"}


def test_oversize_body_is_413_and_nothing_stored() -> None:
    client = client_for(api_max_body_bytes=500)
    big = {"brand": "giftloft", "kind": "subject_line", "brief": "x" * 800}
    resp = client.post("/v1/generate", json=big)
    assert resp.status_code == 413
    assert resp.json()["error"] == "PayloadTooLarge"
    assert resp.json()["data"]["limit_bytes"] == 500
    # a streamed body without Content-Length is cut off the same way
    chunks = (b"x" * 200 for _ in range(5))
    resp = client.post("/v1/generate", content=chunks, headers={"content-type": "application/json"})
    assert resp.status_code == 413
    ok = client.post("/v1/generate", json={"brand": "giftloft", "kind": "hero"})
    assert ok.status_code == 200 and ok.json()["id"] == 1  # the refused ones left no draft


def test_rate_limit_429_with_retry_after_and_probes_exempt() -> None:
    client = client_for(api_rate_per_minute=3)
    codes = [client.get("/v1/drafts/1").status_code for _ in range(4)]
    assert codes[:3] == [404, 404, 404] and codes[3] == 429
    resp = client.get("/v1/drafts/1")
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.json()["error"] == "RateLimited" and resp.json()["fix"]
    assert client.get("/healthz").status_code == 200


def test_limiter_counts_per_key_and_says_when_to_retry() -> None:
    limiter = Limiter(2, name="t")
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert 1 <= limiter.hit("a") <= 60
    assert limiter.hit("b") == 0  # another client has its own window


def test_api_key_required_when_set() -> None:
    client = client_for(api_key="s3cret")
    body = {"brand": "giftloft", "kind": "hero"}
    assert client.post("/v1/generate", json=body).status_code == 401
    wrong = client.post("/v1/generate", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"
    ok = client.post("/v1/generate", json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert client.get("/healthz").status_code == 200


def test_chat_returns_answer_draft_id_and_rationale(client: TestClient) -> None:
    body = {
        "brand": "giftloft",
        "customer_id": "17850",
        "conversation": [
            {"role": "customer", "text": "Hello"},
            {"role": "assistant", "text": "Hi!"},
        ],
        "message": "Any Christmas gifts?",
    }
    resp = client.post("/v1/chat", json=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["answer"].startswith("Our advent calendars")
    assert out["draft_id"] >= 1
    assert out["rationale"] == "Because you often buy Christmas decorations"
    blank = client.post("/v1/chat", json={**body, "message": "   "})
    assert blank.status_code == 422 and blank.json()["data"]["fields"][0]["field"] == "body.message"


def test_readyz_reports_database(client: TestClient) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json()["checks"]["database"]["ok"] is True


def test_readyz_503_names_the_failing_check() -> None:
    services = fake_services()

    def broken(settings: Settings) -> dict[str, object]:
        raise RuntimeError("db down")

    services.ready_checks = {"database": broken}
    client = TestClient(create_app(Settings(), services=services))
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"]["message"] == "db down"


def test_openapi_lists_endpoints(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    assert {"/v1/generate", "/v1/chat", "/v1/events", "/v1/outcomes"} <= set(paths)


def test_serve_command_answers_over_loopback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`genpersona serve` really listens: start it, probe it, stop it."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GENPERSONA_API_KEY": "k"}
    cmd = [sys.executable, "-m", "genpersona.cli.main", "serve", "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        denied = httpx.get(f"http://127.0.0.1:{port}/v1/drafts/1", timeout=5)
        assert denied.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_rejects_bad_port() -> None:
    from typer.testing import CliRunner

    from genpersona.cli.main import app

    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "out of range" in result.output
