"""The ``openai`` backend.

Unit tests talk to a tiny scripted HTTP server on loopback (request mapping,
timeouts, refused connections, bad keys, bounded retries). The integration tests
run the real client against llama.cpp's OpenAI-compatible server (from the
xllamacpp binding) serving the packaged GGUF on loopback.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import BaseModel, Field

from genpersona.errors import (
    BackendAuthError,
    BackendTimeout,
    BackendUnreachable,
    LLMError,
    LLMRequestRejected,
)
from genpersona.llm.base import ChatMessage, GenerationParams
from genpersona.llm.openai_backend import OpenAILLM
from genpersona.llm.server import TRANSCRIPT_STOP
from genpersona.settings import Settings

COMPLETION = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 0,
    "model": "stub-model",
    "choices": [{"text": " Cozy candles", "index": 0, "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}
CHAT = {
    "id": "chat-1",
    "object": "chat.completion",
    "created": 0,
    "model": "stub-model",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": " Hello Anna "},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
MODELS = {"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "me"}]}


class StubServer:
    """A scripted OpenAI-compatible server: ``mode`` decides every answer."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                stub.requests.append({"path": self.path, "auth": self.headers.get("Authorization")})
                self._send(200, MODELS)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                mode = stub.mode
                if mode == "hang":
                    stub.release.wait(5)  # longer than the client's timeout, but bounded
                    return
                if mode == "401":
                    self._send(401, {"error": {"message": "Incorrect API key", "type": "auth"}})
                elif mode == "503":
                    self._send(503, {"error": {"message": "overloaded", "type": "server"}})
                elif mode == "400":
                    self._send(400, {"error": {"message": "max_tokens too big", "type": "inv"}})
                elif mode == "404":
                    self._send(404, {"error": {"message": "model nope not found", "type": "nf"}})
                elif self.path.endswith("/chat/completions"):
                    self._send(200, CHAT)
                else:
                    self._send(200, COMPLETION)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "body" in r]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.close()


def _llm(base_url: str, **kw: Any) -> OpenAILLM:
    kw.setdefault("model", "stub-model")
    kw.setdefault("api_key", "sk-test")
    kw.setdefault("timeout_s", 5.0)
    kw.setdefault("max_retries", 0)
    return OpenAILLM(base_url=base_url, **kw)


def test_completion_maps_params_and_usage(stub: StubServer) -> None:
    llm = _llm(stub.base_url, default_seed=42)
    schema = {"type": "object", "properties": {"s": {"type": "string"}}}
    params = GenerationParams(
        max_tokens=12, temperature=0.2, stop=["\n"], json_schema=schema, top_p=0.9
    )
    result = llm.complete("Subject:", params)
    assert (result.text, result.prompt_tokens, result.completion_tokens) == (" Cozy candles", 7, 3)
    assert result.backend == "openai" and result.model == "stub-model"
    assert result.finish_reason == "stop" and result.latency_s > 0
    (req,) = stub.posts()
    assert req["path"] == "/v1/completions"
    body = req["body"]
    assert body["prompt"] == "Subject:" and body["max_tokens"] == 12
    assert body["temperature"] == 0.2 and body["top_p"] == 0.9
    assert body["stop"] == ["\n"] and body["seed"] == 42
    assert body["json_schema"]["properties"] == schema["properties"]
    assert req["auth"] == "Bearer sk-test"


def test_chat_sends_messages_and_response_format(stub: StubServer) -> None:
    llm = _llm(stub.base_url)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    result = llm.chat(
        [ChatMessage(role="system", content="brief"), ChatMessage(role="user", content="hi")],
        GenerationParams(seed=3, json_schema=schema),
    )
    assert result.text == "Hello Anna"
    (req,) = stub.posts()
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["messages"] == [
        {"role": "system", "content": "brief"},
        {"role": "user", "content": "hi"},
    ]
    assert req["body"]["seed"] == 3
    fmt = req["body"]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["properties"] == schema["properties"]


def test_model_defaults_to_the_servers_first_model(stub: StubServer) -> None:
    llm = _llm(stub.base_url, model=None)
    assert llm.model == "stub-model"
    llm.complete("x")
    assert stub.posts()[0]["body"]["model"] == "stub-model"


def test_from_settings_reads_url_key_timeout_and_model(stub: StubServer) -> None:
    settings = Settings(
        llm="openai:my-model",
        openai_base_url=stub.base_url,
        openai_api_key="sk-from-settings",
        llm_timeout_s=3.0,
        llm_max_retries=1,
    )
    llm = OpenAILLM.from_settings(settings)
    assert (llm.model, llm.timeout_s, llm.max_retries) == ("my-model", 3.0, 1)
    assert llm.prompt_style == "chat"
    llm.complete("x")
    assert stub.posts()[0]["auth"] == "Bearer sk-from-settings"
    assert OpenAILLM.from_settings(settings, model="other").model == "other"


def test_no_key_and_no_base_url_is_an_auth_error(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(BackendAuthError) as info:
        OpenAILLM.from_settings(Settings(llm="openai:gpt-4o-mini"))
    assert "GENPERSONA_OPENAI_API_KEY" in info.value.fix


def test_timeout_is_reported_as_backend_timeout(stub: StubServer) -> None:
    stub.mode = "hang"
    llm = _llm(stub.base_url, timeout_s=0.5, max_retries=1)
    started = time.perf_counter()
    with pytest.raises(BackendTimeout) as info:
        llm.complete("x", GenerationParams(max_tokens=2))
    elapsed = time.perf_counter() - started
    assert "0.5 s" in info.value.message and "2 attempt(s)" in info.value.message
    assert "GENPERSONA_LLM_TIMEOUT_S" in info.value.fix
    assert len(stub.posts()) == 2  # one try + one bounded retry
    assert elapsed < 4.5  # did not wait for the server to give up (5 s)


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and now nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = _llm(f"http://127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(BackendUnreachable) as info:
        llm.chat([ChatMessage(role="user", content="hi")])
    assert f"127.0.0.1:{port}" in info.value.message
    assert "GENPERSONA_OPENAI_BASE_URL" in info.value.fix
    assert info.value.exit_code == 3


def test_bad_key_is_an_auth_error_without_retries(stub: StubServer) -> None:
    stub.mode = "401"
    llm = _llm(stub.base_url, max_retries=2)
    with pytest.raises(BackendAuthError) as info:
        llm.complete("x")
    assert "401" in info.value.message
    assert len(stub.posts()) == 1  # a bad key is not retried


def test_server_errors_are_retried_a_bounded_number_of_times(stub: StubServer) -> None:
    stub.mode = "503"
    llm = _llm(stub.base_url, max_retries=2)
    with pytest.raises(LLMError) as info:
        llm.complete("x")
    assert len(stub.posts()) == 3
    assert "503" in info.value.message and "3 attempt(s)" in info.value.message


@pytest.mark.parametrize(("mode", "needle"), [("400", "max_tokens too big"), ("404", "not found")])
def test_rejected_requests(stub: StubServer, mode: str, needle: str) -> None:
    stub.mode = mode
    with pytest.raises(LLMRequestRejected) as info:
        _llm(stub.base_url, max_retries=2).complete("x")
    assert needle in info.value.message
    assert len(stub.posts()) == 1


def test_stops_past_the_api_limit_are_applied_locally(stub: StubServer) -> None:
    """The API takes four stop sequences: the backend sends four and honours the fifth on
    the returned text, instead of refusing the request."""
    stops = ["\n1", "\n2", "\n3", "\n4", " candles"]
    result = _llm(stub.base_url).complete("x", GenerationParams(stop=stops))
    assert stub.posts()[-1]["body"]["stop"] == stops[:4]
    assert result.text == " Cozy"


# --- against llama.cpp's OpenAI-compatible server on loopback --------------------------


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from genpersona.llm.server import LlamaServer

    settings = Settings(home=tmp_path_factory.mktemp("loopback"), local_parallel=2)
    server = LlamaServer.from_settings(settings)
    yield server
    server.close()


def _real(loopback: Any) -> OpenAILLM:
    return OpenAILLM(model=None, base_url=loopback.openai_base_url, timeout_s=60, max_retries=0)


@pytest.mark.real_model
@pytest.mark.slow
def test_real_completion_through_http(loopback: Any) -> None:
    llm = _real(loopback)
    prompt = "Email subject lines for a gift shop:\n1. Cozy candles for cold nights\n2."
    params = GenerationParams(max_tokens=16, temperature=0, stop=["\n"], seed=1)
    result = llm.complete(prompt, params)
    assert result.text.strip()
    assert "\n" not in result.text
    assert 0 < result.completion_tokens <= 16 and result.prompt_tokens > 10
    # same weights, same greedy decoding: in-process and over HTTP agree
    direct = loopback.completions(
        {"prompt": prompt, "max_tokens": 16, "temperature": 0, "stop": ["\n"], "seed": 1}
    )
    assert direct["choices"][0]["text"] == result.text


@pytest.mark.real_model
@pytest.mark.slow
def test_real_chat_and_schema_through_http(loopback: Any) -> None:
    llm = _real(loopback)
    answer = llm.chat(
        [ChatMessage(role="user", content="What is the capital of France?")],
        # a base model behind a transcript template needs the next turn as a stop
        GenerationParams(max_tokens=12, temperature=0, stop=TRANSCRIPT_STOP),
    )
    assert answer.text and answer.completion_tokens <= 12
    assert "User:" not in answer.text

    class Line(BaseModel):
        subject: str = Field(max_length=60)

    from genpersona.llm.structured import chat_json, complete_json

    parsed = complete_json(
        llm,
        "A subject line for a candle sale, as JSON:\n",
        Line,
        GenerationParams(max_tokens=40, temperature=0),
    )
    assert parsed.subject
    parsed_chat = chat_json(
        llm,
        [ChatMessage(role="user", content="Give a subject line for a mug sale as JSON.")],
        Line,
        GenerationParams(max_tokens=40, temperature=0),
    )
    assert parsed_chat.subject


@pytest.mark.real_model
@pytest.mark.slow
def test_real_server_rejects_prompt_longer_than_context(loopback: Any) -> None:
    with pytest.raises(LLMRequestRejected):
        _real(loopback).complete("word " * 5000, GenerationParams(max_tokens=4))


@pytest.mark.real_model
@pytest.mark.slow
def test_real_server_too_slow_for_the_timeout(loopback: Any) -> None:
    llm = OpenAILLM(
        model=loopback.model_path.stem,  # named, so no model lookup runs under the tight timeout
        base_url=loopback.openai_base_url,
        timeout_s=0.05,
        max_retries=0,
    )
    with pytest.raises(BackendTimeout) as info:
        llm.complete("Once upon a time", GenerationParams(max_tokens=48, temperature=0))
    assert loopback.base_url.split("//")[1] in info.value.message
