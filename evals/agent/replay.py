"""An LLM wrapper that records every answer once and replays it: the same candidates
scored by two scorers, without paying the model twice.

Why: the scorer comparison (``run.py --scorers minilm,static``) must differ only in how
the candidates are ranked. Decoding them again would cost the model time twice and, on a
server with prompt caching, might not even give the same text.
"""

from __future__ import annotations

import json
import threading

from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult


class RecordingLLM(LLM):
    """Passes calls to ``inner`` and keeps each answer under (prompt, params)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.answers: dict[str, LLMResult] = {}
        self.replaying = False
        self._lock = threading.Lock()
        for attr in ("backend", "prompt_style", "shares_cpu", "instruction_tuned",
                     "sequential", "returns_logprobs"):  # fmt: skip
            setattr(self, attr, getattr(inner, attr))

    @property
    def model(self) -> str:
        return self.inner.model

    def _key(self, what: str, prompt: object, params: GenerationParams | None) -> str:
        p = (params or GenerationParams()).model_dump(mode="json")
        return json.dumps([what, prompt, p], sort_keys=True, default=str)

    def _answer(self, key: str, call: object) -> LLMResult:
        with self._lock:
            hit = self.answers.get(key)
        if hit is not None:
            return hit
        if self.replaying:
            raise KeyError("a replayed run asked for a call the recorded run did not make")
        result = call()  # type: ignore[operator]
        with self._lock:
            self.answers[key] = result
        return result  # type: ignore[no-any-return]

    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        return self._answer(
            self._key("c", prompt, params), lambda: self.inner.complete(prompt, params)
        )

    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        key = self._key("m", [m.model_dump() for m in messages], params)
        return self._answer(key, lambda: self.inner.chat(messages, params))
