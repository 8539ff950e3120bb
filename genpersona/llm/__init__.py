"""LLM backends: local (llama.cpp), openai (any compatible server), fake (tests)."""

from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult
from genpersona.llm.factory import get_llm

__all__ = ["LLM", "ChatMessage", "GenerationParams", "LLMResult", "get_llm"]
