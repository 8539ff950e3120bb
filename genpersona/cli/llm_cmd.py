"""``genpersona llm complete|chat``: one generation through the configured backend.

A quick way to see that a backend answers, and what it answers, before blaming
the pipeline. The text goes to stdout alone (pipe-friendly); model, token counts
and latency go to stderr, or everything to stdout as JSON with ``--json``.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.errors import InputError
from genpersona.llm.base import ChatMessage, GenerationParams, LLMResult
from genpersona.llm.factory import get_llm

llm_app = typer.Typer(help="Try the configured LLM backend (GENPERSONA_LLM).", no_args_is_help=True)

BackendOpt = typer.Option(
    None, "--backend", "-b", help="'local', 'openai[:model]' or 'fake'; default GENPERSONA_LLM."
)
MaxTokensOpt = typer.Option(64, "--max-tokens", "-n", help="Most tokens to generate.")
TemperatureOpt = typer.Option(0.7, "--temperature", "-t", help="0 = greedy (deterministic).")
SeedOpt = typer.Option(None, "--seed", help="Sampling seed; default GENPERSONA_SEED.")
StopOpt = typer.Option(
    None, "--stop", "-s", help="Stop sequence (repeatable); '\\n' means a newline."
)


def _read_text(value: str, what: str) -> str:
    text = sys.stdin.read() if value == "-" else value
    if not text.strip():
        raise InputError(
            f"the {what} is empty",
            fix=f"pass the {what} as an argument, or '-' and pipe it on stdin",
        )
    return text


def _params(
    max_tokens: int, temperature: float, seed: int | None, stop: list[str] | None
) -> GenerationParams:
    try:
        return GenerationParams(
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            # shells make a real newline awkward to type; accept the two-character \n
            stop=[s.replace("\\n", "\n").replace("\\t", "\t") for s in stop or []],
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise InputError(
            f"invalid generation options: {problems}",
            fix="use --max-tokens 1..4096 and --temperature 0..2",
        ) from exc


def _show(result: LLMResult, json_out: bool) -> None:
    if json_out:
        emit_json(result)
        return
    console.print(result.text, markup=False, highlight=False, soft_wrap=True)
    err_console.print(
        f"[dim]{result.backend}:{result.model} · {result.prompt_tokens} prompt + "
        f"{result.completion_tokens} generated tokens · {result.latency_s:.2f}s · "
        f"finish {result.finish_reason}[/dim]",
        highlight=False,
    )


@llm_app.command("complete")
@handle_errors
def complete(
    prompt: str = typer.Argument(..., help="Prompt to continue, or '-' to read it from stdin."),
    backend: str | None = BackendOpt,
    max_tokens: int = MaxTokensOpt,
    temperature: float = TemperatureOpt,
    seed: int | None = SeedOpt,
    stop: list[str] | None = StopOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Continue a prompt (completion style: what base models such as the local one do best)."""
    params = _params(max_tokens, temperature, seed, stop)
    text = _read_text(prompt, "prompt")
    _show(get_llm(backend).complete(text, params), json_out)


@llm_app.command("chat")
@handle_errors
def chat(
    message: str = typer.Argument(..., help="The user's message, or '-' to read it from stdin."),
    system: str | None = typer.Option(None, "--system", help="A system message to put first."),
    backend: str | None = BackendOpt,
    max_tokens: int = MaxTokensOpt,
    temperature: float = TemperatureOpt,
    seed: int | None = SeedOpt,
    stop: list[str] | None = StopOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Answer one chat turn (instruction-tuned models; the local base model sees a transcript)."""
    params = _params(max_tokens, temperature, seed, stop)
    messages = [ChatMessage(role="system", content=system)] if system else []
    messages.append(ChatMessage(role="user", content=_read_text(message, "message")))
    _show(get_llm(backend).chat(messages, params), json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(llm_app, name="llm")
