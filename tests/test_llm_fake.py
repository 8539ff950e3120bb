"""Unit tests of the LLM interface on the fake backend: factory, guard, structured output, CLI."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from genpersona.cli.main import app
from genpersona.errors import ConfigError, OutputSchemaError, RealModelForbidden
from genpersona.llm import ChatMessage, GenerationParams, get_llm
from genpersona.llm.factory import clear_llm_cache
from genpersona.llm.fake import FakeLLM
from genpersona.llm.structured import (
    closed_schema,
    compact_json_schema,
    complete_json,
    complete_json_with_result,
    parse_json_output,
)

runner = CliRunner()


class Subject(BaseModel):
    subject: str = Field(max_length=40)
    emoji: bool = False


class Nested(BaseModel):
    items: list[Subject]


@pytest.fixture(autouse=True)
def _fresh_llm_cache():
    clear_llm_cache()
    yield
    clear_llm_cache()


def test_factory_returns_fake_from_settings_and_caches_it() -> None:
    llm = get_llm()
    assert isinstance(llm, FakeLLM)
    assert get_llm() is llm
    assert get_llm("fake:other").model == "other"


@pytest.mark.parametrize("spec", ["local", "openai:gpt-4o-mini"])
def test_real_backends_are_refused_in_unit_tests(spec: str) -> None:
    with pytest.raises(RealModelForbidden) as info:
        get_llm(spec)
    assert "real_model" in info.value.fix


def test_a_real_backend_cached_by_an_opted_in_test_stays_forbidden(monkeypatch) -> None:
    from genpersona.llm import factory
    from genpersona.settings import get_settings

    settings = get_settings()
    key = f"local|{settings.openai_base_url}|{settings.local_model_path}"
    monkeypatch.setitem(factory._CACHE, key, FakeLLM(model="pretend-local"))
    with pytest.raises(RealModelForbidden):
        get_llm("local")


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        get_llm("mystery:model")
    assert "'local'" in info.value.fix


def test_fake_records_prompts_and_applies_stop_sequences() -> None:
    llm = FakeLLM(["Cozy candles\nsecond line", "Warm mugs"])
    first = llm.complete("p1", GenerationParams(stop=["\n"]))
    second = llm.chat([ChatMessage(role="user", content="p2")])
    assert first.text == "Cozy candles"
    assert second.text == "Warm mugs"
    assert llm.prompts == ["p1", "user: p2"]
    assert [c["kind"] for c in llm.calls] == ["complete", "chat"]


def test_fake_default_reply_depends_on_seed_and_prompt_only() -> None:
    llm = FakeLLM()
    a = llm.complete("hello", GenerationParams(seed=1)).text
    b = llm.complete("hello", GenerationParams(seed=1)).text
    c = llm.complete("hello", GenerationParams(seed=2)).text
    assert a == b != c


def test_closed_schema_forbids_extra_keys_everywhere() -> None:
    schema = closed_schema(Nested.model_json_schema())
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Subject"]["additionalProperties"] is False
    compact = compact_json_schema(schema)
    assert compact["x-guidance"]["whitespace_flexible"] is False
    assert "x-guidance" not in schema  # the input is not mutated


def test_complete_json_sends_the_schema_and_parses_the_reply() -> None:
    llm = FakeLLM(['{"subject": "Candles for cold nights", "emoji": true}'])
    parsed, result = complete_json_with_result(
        llm, "Write JSON:", Subject, GenerationParams(seed=3)
    )
    assert parsed == Subject(subject="Candles for cold nights", emoji=True)
    sent = llm.calls[0]["params"]
    assert sent.json_schema["properties"]["subject"]["maxLength"] == 40
    assert sent.json_schema["additionalProperties"] is False
    assert sent.seed == 3
    assert result.backend == "fake"


def test_complete_json_finds_an_object_wrapped_in_prose() -> None:
    llm = FakeLLM(['Sure! Here it is: {"subject": "Hi"} hope that helps {"x": 1}'])
    assert complete_json(llm, "p", Subject).subject == "Hi"


def test_complete_json_failure_carries_raw_text_and_problems() -> None:
    raw = '{"subject": "' + "x" * 60 + '"}'
    llm = FakeLLM([raw])
    with pytest.raises(OutputSchemaError) as info:
        complete_json(llm, "p", Subject)
    err = info.value
    assert err.data["raw_text"] == raw
    assert "subject" in err.data["problems"]
    assert "at most 40" in err.message
    assert err.fix


def test_parse_json_output_without_any_json() -> None:
    with pytest.raises(OutputSchemaError) as info:
        parse_json_output("no json here", Subject)
    assert info.value.data["raw_text"] == "no json here"


# --- CLI ---------------------------------------------------------------------------


def test_cli_complete_prints_text_and_stats_separately() -> None:
    result = runner.invoke(app, ["llm", "complete", "Hello there", "--seed", "5"])
    assert result.exit_code == 0, result.output
    expected = FakeLLM().complete("Hello there", GenerationParams(seed=5)).text
    assert result.stdout.strip() == expected
    assert "fake:fake-1" in result.stderr


def test_cli_complete_json_and_stdin_prompt() -> None:
    result = runner.invoke(
        app, ["llm", "complete", "-", "--json", "-n", "5", "--stop", "\\n"], input="from stdin"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "fake"
    llm = get_llm()
    assert llm.calls[-1]["prompt"] == "from stdin"
    assert llm.calls[-1]["params"].stop == ["\n"]
    assert llm.calls[-1]["params"].max_tokens == 5


def test_cli_stop_keeps_non_ascii_text() -> None:
    result = runner.invoke(app, ["llm", "complete", "x", "--stop", "£", "--stop", "a\\tb"])
    assert result.exit_code == 0, result.output
    assert get_llm().calls[-1]["params"].stop == ["£", "a\tb"]


def test_cli_chat_sends_system_and_user_turns() -> None:
    result = runner.invoke(app, ["llm", "chat", "hi", "--system", "be brief", "--json"])
    assert result.exit_code == 0, result.output
    messages = get_llm().calls[-1]["messages"]
    assert [(m.role, m.content) for m in messages] == [("system", "be brief"), ("user", "hi")]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["llm", "complete", "x", "--temperature", "5"], "temperature"),
        (["llm", "complete", "x", "--max-tokens", "0"], "max_tokens"),
        (["llm", "complete", "   "], "prompt is empty"),
        (["llm", "complete", "x", "--backend", "nope"], "unknown LLM provider"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "fix:" in result.stderr
    assert result.stdout == ""


def test_cli_real_backend_refused_exits_3() -> None:
    result = runner.invoke(app, ["llm", "complete", "x", "--backend", "local"])
    assert result.exit_code == 3
    assert "real_model" in result.stderr
