"""Typed output from any backend: ask for a JSON schema, validate what comes back.

Backends that support constrained decoding (llama.cpp locally or behind a server)
receive the schema and can only emit matching JSON; others (the fake, plain
OpenAI completions) get the same request and their text is parsed leniently, so
a JSON object wrapped in prose still counts. Either way the result is validated
with pydantic, because constrained decoding guarantees syntax, not every
constraint, and a failure carries the raw text for the re-ask loop to show.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from genpersona.errors import OutputSchemaError
from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult

M = TypeVar("M", bound=BaseModel)


def _json_candidates(text: str) -> list[str]:
    """The whole text first, then every balanced {...} span in order of appearance."""
    candidates = [text.strip()]
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char != "{":
            continue
        try:
            _, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        candidates.append(text[start:end])
    return candidates


def parse_json_output(text: str, schema_model: type[M]) -> M:
    """Validate ``text`` as ``schema_model``; OutputSchemaError keeps the raw text."""
    first_error: ValidationError | None = None
    for candidate in _json_candidates(text):
        try:
            return schema_model.model_validate_json(candidate)
        except ValidationError as exc:
            first_error = first_error or exc
    problems = (
        "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in first_error.errors()[:5]
        )
        if first_error
        else "no JSON object found"
    )
    raise OutputSchemaError(
        f"model output does not match {schema_model.__name__}: {problems}",
        fix="re-ask with the problems listed, raise max_tokens if the JSON was cut off, "
        "or use a backend with constrained decoding (local or a llama.cpp server)",
        schema=schema_model.__name__,
        raw_text=text,
        problems=problems,
    )


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Forbid undeclared keys in every object of ``schema`` (unless it says otherwise).

    JSON Schema allows extra properties by default, and a small model under
    constrained decoding happily invents them until max_tokens runs out.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: visit(v) for k, v in node.items()}
            if out.get("type") == "object" and "additionalProperties" not in out:
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [visit(v) for v in node]
        return node

    return visit(schema)


def _with_schema(
    params: GenerationParams | None, schema_model: type[BaseModel]
) -> GenerationParams:
    params = params or GenerationParams()
    return params.model_copy(
        update={"json_schema": closed_schema(schema_model.model_json_schema())}
    )


def complete_json_with_result(
    llm: LLM, prompt: str, schema_model: type[M], params: GenerationParams | None = None
) -> tuple[M, LLMResult]:
    """Like ``complete_json`` but also returns the raw result (tokens, latency, model)."""
    result = llm.complete(prompt, _with_schema(params, schema_model))
    return parse_json_output(result.text, schema_model), result


def complete_json(
    llm: LLM, prompt: str, schema_model: type[M], params: GenerationParams | None = None
) -> M:
    """Complete ``prompt`` into an instance of ``schema_model`` (constrained where supported)."""
    return complete_json_with_result(llm, prompt, schema_model, params)[0]


def chat_json(
    llm: LLM,
    messages: list[ChatMessage],
    schema_model: type[M],
    params: GenerationParams | None = None,
) -> M:
    """The chat-turn twin of ``complete_json`` for instruction-tuned models."""
    result = llm.chat(messages, _with_schema(params, schema_model))
    return parse_json_output(result.text, schema_model)


def compact_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Ask llama.cpp's LLGuidance for single-line JSON.

    By default the grammar allows any whitespace between tokens, and a 270M model
    under constraint tends to emit newlines until max_tokens runs out.
    """
    return {
        **schema,
        "x-guidance": {
            "whitespace_flexible": False,
            "item_separator": ", ",
            "key_separator": ": ",
            **schema.get("x-guidance", {}),
        },
    }
