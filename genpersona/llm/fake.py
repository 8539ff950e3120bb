"""A deterministic LLM for tests: scripted replies, every prompt recorded.

Modelled on pydantic-ai's ``FunctionModel``/``TestModel``: a test scripts the
replies (a list, cycled, or a function of the prompt) and then asserts on
``calls`` to check what the pipeline actually sent to the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult, PromptStyle

Responder = Callable[[str, GenerationParams], str]


_WORDS = (
    "amber", "birch", "cedar", "daisy", "ember", "fern", "garden", "harbour",
    "ivy", "juniper", "kettle", "lantern", "maple", "meadow", "nutmeg", "orchard",
    "pebble", "quilt", "ribbon", "saffron", "thistle", "umber", "velvet", "willow",
    "wren", "yarrow", "acorn", "bramble", "clover", "dune", "elder", "flint",
)  # fmt: skip


class FakeLLM(LLM):
    backend = "fake"
    shares_cpu = True
    sequential = True

    def __init__(
        self,
        replies: Sequence[str] | Responder | None = None,
        *,
        model: str = "fake-1",
        prompt_style: PromptStyle = "completion",
        instruction_tuned: bool = False,
    ) -> None:
        self._replies = replies
        self.instruction_tuned = instruction_tuned
        self._model = model
        self.prompt_style = prompt_style
        self.calls: list[dict] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def prompts(self) -> list[str]:
        return [c["prompt"] for c in self.calls]

    def _reply(self, prompt: str, params: GenerationParams) -> str:
        if callable(self._replies):
            return self._replies(prompt, params)
        if self._replies:
            return self._replies[(len(self.calls) - 1) % len(self._replies)]
        # default: a stable pseudo-reply derived from the prompt and seed, in words: hex digits
        # could spell a postcode or a phone number, and prompts carry a per-process canary,
        # so a hex reply made guard outcomes (and re-ask counts) vary from run to run
        digest = hashlib.sha256(f"{params.seed}|{prompt}".encode()).digest()[:3]
        return "Something new for you: " + " ".join(_WORDS[b % len(_WORDS)] for b in digest)

    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        params = params or GenerationParams()
        self.calls.append({"kind": "complete", "prompt": prompt, "params": params})
        text = self._reply(prompt, params)
        for stop in params.stop:
            if stop and stop in text:
                text = text.split(stop, 1)[0]
        return LLMResult(
            text=text,
            model=self.model,
            backend=self.backend,
            prompt_tokens=len(prompt.split()),
            completion_tokens=len(text.split()),
            finish_reason="stop",
        )

    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        prompt = "\n".join(f"{m.role}: {m.content}" for m in messages)
        result = self.complete(prompt, params)
        self.calls[-1]["kind"] = "chat"
        self.calls[-1]["messages"] = messages
        return result
