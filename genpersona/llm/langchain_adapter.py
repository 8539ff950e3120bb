"""Bridges to LangChain, both ways.

``as_langchain(llm)`` exposes any genpersona backend (the local llama.cpp model
included) as a LangChain ``LLM``, so teams that already compose LangChain
chains can use the offline model and its seeding/stop handling unchanged.
``LangChainChatBackend`` goes the other way: any LangChain chat model (an
Anthropic, Bedrock or Vertex integration a team already uses) becomes a
genpersona backend, without genpersona growing one client per vendor.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.llms import LLM as LangChainLLM
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from genpersona.errors import LLMError
from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult


class GenpersonaLangChainLLM(LangChainLLM):
    """A LangChain completion model backed by a genpersona ``LLM``."""

    backend: Any  # genpersona LLM; typed loosely because LangChain models are pydantic
    params: GenerationParams = GenerationParams()

    @property
    def _llm_type(self) -> str:
        return f"genpersona-{self.backend.backend}"

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        params = self.params.model_copy(
            update={"stop": list(stop or self.params.stop), **kwargs.get("overrides", {})}
        )
        return self.backend.complete(prompt, params).text

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"backend": self.backend.backend, "model": self.backend.model}


def as_langchain(llm: LLM, params: GenerationParams | None = None) -> GenpersonaLangChainLLM:
    return GenpersonaLangChainLLM(backend=llm, params=params or GenerationParams())


_ROLE = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


class LangChainChatBackend(LLM):
    """A genpersona backend backed by any LangChain chat model (instruction-tuned: chat style)."""

    backend = "langchain"
    prompt_style = "chat"

    def __init__(self, chat_model: BaseChatModel, *, model: str | None = None) -> None:
        self._chat_model = chat_model
        self._model = model or getattr(chat_model, "model_name", None) or type(chat_model).__name__

    @property
    def model(self) -> str:
        return str(self._model)

    def _invoke(self, messages: list[BaseMessage], params: GenerationParams) -> LLMResult:
        started = time.perf_counter()
        try:
            reply = self._chat_model.invoke(messages, stop=params.stop or None)
        except Exception as exc:
            raise LLMError(
                f"the LangChain model {self.model} failed: {exc}",
                fix="check the LangChain integration's own configuration (key, endpoint, model)",
                model=self.model,
            ) from exc
        usage = getattr(reply, "usage_metadata", None) or {}
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        return LLMResult(
            text=text,
            model=self.model,
            backend=self.backend,
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            latency_s=time.perf_counter() - started,
            finish_reason="stop",
        )

    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        return self._invoke([HumanMessage(content=prompt)], params or GenerationParams())

    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        converted = [_ROLE[m.role](content=m.content) for m in messages]
        return self._invoke(converted, params or GenerationParams())
