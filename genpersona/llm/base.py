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

    def complete_many(
        self, prompt: str, params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """One continuation per seed. Here one call each (what a one-by-one run does, so
        fakes give identical drafts); servers that sample ``n`` choices at once override
        it with a single request, which a batching GPU engine serves far faster."""
        return [self.complete(prompt, params.model_copy(update={"seed": s})) for s in seeds]

    def chat_many(
        self, messages: list[ChatMessage], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """``chat`` once per seed; see ``complete_many``."""
        return [self.chat(messages, params.model_copy(update={"seed": s})) for s in seeds]

    def health(self) -> dict[str, Any]:
        """Cheap check used by ``genpersona doctor``; override to add detail."""
        return {"backend": self.backend, "model": self.model, "ok": True}

    def runtime_version(self) -> str | None:
        """The library that runs the model and its version, for ``genpersona doctor``."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, sockets)."""
