"""The benchmark's stand-in GPU backend, spoken to by the official ``openai`` client."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import openai
import pytest

from bench.stub_openai import StubServer, line_for, preheader_for, reply_for
from genpersona.agent.generation import GenerationPlan, plan_for
from genpersona.llm.base import GenerationParams
from genpersona.llm.openai_backend import OpenAILLM


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    with StubServer(latency_s=0.05, max_in_flight=2) as server:
        yield server


def client(stub: StubServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.base_url, api_key="none", max_retries=0)


def test_completions_n_choices_vary_by_seed(stub: StubServer) -> None:
    c = client(stub)
    a = c.completions.create(model="stub", prompt="Subject:", n=3, seed=7, max_tokens=20)
    b = c.completions.create(model="stub", prompt="Subject:", n=3, seed=7, max_tokens=20)
    other = c.completions.create(model="stub", prompt="Subject:", n=3, seed=8, max_tokens=20)
    texts = [ch.text.strip() for ch in a.choices]
    assert len(texts) == 3 and len(set(texts)) > 1
    assert texts == [ch.text.strip() for ch in b.choices]  # reproducible per seed
    assert texts != [ch.text.strip() for ch in other.choices]
    # under an open subject-line field the record goes on with its preheader
    assert (
        texts[0]
        == f"{line_for(7, 0)}\nPreheader: {preheader_for(7, 0)}"
        == reply_for(7, 0, "Subject:")
    )
    assert a.usage is not None and a.usage.completion_tokens > 0


def test_chat_and_streaming(stub: StubServer) -> None:
    c = client(stub)
    resp = c.chat.completions.create(
        model="stub", messages=[{"role": "user", "content": "hi"}], seed=3, n=2
    )
    assert [ch.message.content for ch in resp.choices] == [line_for(3, 0), line_for(3, 1)]
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in c.chat.completions.create(
            model="stub", messages=[{"role": "user", "content": "hi"}], seed=3, stream=True
        )
        if chunk.choices
    ]
    assert "".join(pieces).strip() == line_for(3, 0)
    streamed = "".join(
        ch.choices[0].text
        for ch in c.completions.create(model="stub", prompt="x", seed=5, stream=True)
    )
    assert streamed.strip() == line_for(5, 0)


def test_in_flight_limit_is_never_exceeded(stub: StubServer) -> None:
    def call() -> None:
        client(stub).completions.create(model="stub", prompt="x", seed=1)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = httpx.get(stub.base_url.removesuffix("/v1") + "/stats").json()
    assert stats["peak_in_flight"] <= 2
    assert stats["served"] >= 8
    assert stub.ideal_rps == pytest.approx(40.0)
    # every served request held its slot for at least the latency (2 slots, 40/s: 50 ms)
    assert stats["held_s"] >= stats["served"] * 0.05 * 0.99


def test_genpersona_backend_talks_to_it(stub: StubServer) -> None:
    llm = OpenAILLM(base_url=stub.base_url, api_key="none", model="stub")
    result = llm.complete("Headline:", GenerationParams(seed=11, max_tokens=20))
    assert result.text.strip() == line_for(11, 0)


def test_candidates_prompts_in_one_request(stub: StubServer) -> None:
    """A list of prompts is one request: n choices each, in prompt order (as vLLM and the
    legacy OpenAI completions endpoint answer it)."""
    llm = OpenAILLM(base_url=stub.base_url, api_key="none", model="stub", prompt_style="completion")
    before = stub.gate.served
    results = llm.complete_batch(["A:", "B:", "C:"], GenerationParams(max_tokens=20), [21, 22, 23])
    assert [r.text.strip() for r in results] == [line_for(21, i) for i in range(3)]
    assert stub.gate.served - before == 1
    before = stub.gate.served
    chats = llm.chat_batch([[], []], GenerationParams(max_tokens=20), [4, 5])
    assert [r.text for r in chats] == [line_for(4, 0), line_for(5, 0)]  # one request each
    assert stub.gate.served - before == 2


def test_stop_sequences_as_openai(stub: StubServer) -> None:
    """Like OpenAI: more than four stop sequences is a 400; the ones given are honoured."""
    c = client(stub)
    with pytest.raises(openai.BadRequestError):
        c.completions.create(model="stub", prompt="x", seed=7, stop=list("abcde"))
    word = line_for(7, 0).split()[1]
    got = c.completions.create(model="stub", prompt="x", seed=7, stop=[" " + word])
    assert got.choices[0].text.strip() == line_for(7, 0).split()[0]


def test_every_completion_plan_reaches_an_openai_server(stub: StubServer) -> None:
    """The plans' stop sequences fit the API (main sent five for subject lines and the
    backend refused it); each kind's plan goes through the client to the stub."""
    llm = OpenAILLM(base_url=stub.base_url, api_key="none", model="stub", prompt_style="completion")
    for kind in ("subject_line", "hero", "chat_answer"):
        plan = plan_for(kind, "completion")
        params = GenerationParams(max_tokens=plan.max_tokens, stop=plan.stop, seed=9)
        assert llm.complete("Subject:", params).text.strip() == reply_for(9, 0, "Subject:")
    with pytest.raises(ValueError):
        GenerationPlan(max_tokens=4, stop=list("abcde"))


def test_a_subject_line_record_parses_into_a_complementing_preheader() -> None:
    """The stub finishes a subject-line record as a model does, and the pipeline's parser
    keeps its preheader (no content word of the subject repeated)."""
    from agent_support import World

    from genpersona.agent.context_stage import build_context
    from genpersona.agent.generation import parse_output
    from genpersona.types.content import ContentRequest

    actx = build_context(
        ContentRequest(brand="teashop", kind="subject_line", customer_id="c1"), World().deps()
    )
    for seed in range(50):
        content = parse_output("subject_line", " " + reply_for(seed, 0, "Subject:"), actx)
        assert content.subject == line_for(seed, 0)
        assert content.preheader == preheader_for(seed, 0)
