"""The one small interface every LLM backend implements.

Completion (``complete``) is first-class because the default local model is a
*base* model that is prompted few-shot; ``chat`` is for instruction-tuned
models behind OpenAI-compatible servers. ``json_schema`` asks for constrained
decoding where the backend supports it; callers still validate the output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from pydantic import BaseModel, Field

PromptStyle = Literal["completion", "chat"]

#: stop sequences the OpenAI API accepts per request (vLLM and llama.cpp take more): plans
#: stay within it so they reach every OpenAI-compatible server unchanged
MAX_STOP = 4


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class GenerationParams(BaseModel):
    max_tokens: int = Field(default=64, ge=1, le=4096)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    #: ask for each generated token's log-probability (backends with ``returns_logprobs``)
    logprobs: bool = False
    #: reuse the KV cache of a prompt prefix seen before (llama.cpp); None: the backend's
    #: default. Faster for prompts that share a long static prefix, but llama.cpp then
    #: samples from slightly different numbers, so outputs are not bit-reproducible
    cache_prompt: bool | None = None


class LLMResult(BaseModel):
    text: str
    model: str
    backend: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str | None = None
    #: log-probability of each generated token, when asked for and the backend returns them
    token_logprobs: list[float] | None = None
    #: prompt tokens served from the server's prompt cache (not evaluated again), when the
    #: backend reports it (llama.cpp ``timings.cache_n``, OpenAI ``cached_tokens``)
    cached_prompt_tokens: int = 0
    #: the server's own clock for evaluating the prompt and for decoding, when reported
    #: (llama.cpp ``timings``); with parallel slots they overlap other requests' time
    prompt_eval_ms: float | None = None
    decode_ms: float | None = None

    @property
    def mean_logprob(self) -> float | None:
        """Length-normalised log-probability: the model's own fluency reading of its text."""
        if not self.token_logprobs:
            return None
        return sum(self.token_logprobs) / len(self.token_logprobs)


class LLM(ABC):
    """A text generator. Implementations are cheap to call repeatedly; loading is lazy."""

    backend: str = "abstract"
    #: the prompt style that suits this model best (base models: completion)
    prompt_style: PromptStyle = "completion"
    #: decodes on this machine's cores (in-process model, instant fake): work started beside
    #: it only competes for the same CPU, so the pipeline keeps such work inline
    shares_cpu: bool = False
    #: follows instructions well enough to write a grounded answer itself (instruction-tuned
    #: chat models); a small base model's chat answers are composed from retrieved passages
    instruction_tuned: bool = False
    #: answers strictly in call order (scripted fakes): candidates are requested one by one
    sequential: bool = False
    #: completions can carry per-token log-probabilities (llama.cpp, OpenAI-compatible
    #: completion servers); callers request them with ``GenerationParams.logprobs``
    returns_logprobs: bool = False
    #: at most this many copy candidates per draft (None: ``GENPERSONA_COPY_CANDIDATES``).
    #: A backend that decodes on this machine's cores pays every candidate's decoding in
    #: the reviewer's wait, so it may ask for fewer (never fewer than the variants shown)
    max_copy_candidates: int | None = None

    @property
    @abstractmethod
    def model(self) -> str:
        """A name for the model, stored with every draft."""

    @abstractmethod
    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        """Continue ``prompt``."""

    @abstractmethod
    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        """Answer the last user turn of ``messages``."""

    def complete_batch(
        self, prompts: list[str], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """One continuation per (prompt, seed). Here one call each, in order (what a
        one-by-one run does, so fakes give identical drafts); servers that take a list of
        prompts override it with one request, which a batching GPU engine serves at once."""
        return [
            self.complete(p, params.model_copy(update={"seed": s}))
            for p, s in zip(prompts, seeds, strict=True)
        ]

    def chat_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """``chat`` once per (conversation, seed); see ``complete_batch``."""
        return [
            self.chat(m, params.model_copy(update={"seed": s}))
            for m, s in zip(conversations, seeds, strict=True)
        ]

    def health(self) -> dict[str, Any]:
        """Cheap check used by ``genpersona doctor``; override to add detail."""
        return {"backend": self.backend, "model": self.model, "ok": True}

    def runtime_version(self) -> str | None:
        """The library that runs the model and its version, for ``genpersona doctor``."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, sockets)."""


def cut_at_stop(text: str, stops: list[str]) -> str:
    """``text`` up to the first of ``stops``, as a server that honours them would return it."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]
