"""Pick an LLM backend from settings or a ``provider:model`` string.

Backends are cached per spec so the local model loads once per process and is
reused across requests (loading the GGUF costs far more than one generation).
"""

from __future__ import annotations

import threading

from genpersona.errors import ConfigError, RealModelForbidden
from genpersona.llm.base import LLM
from genpersona.llm.fake import FakeLLM
from genpersona.llm.local import LocalLLM
from genpersona.settings import Settings, get_settings, real_models_forbidden

_CACHE: dict[str, LLM] = {}
_LOCK = threading.Lock()


def get_llm(spec: str | None = None, settings: Settings | None = None) -> LLM:
    settings = settings or get_settings()
    spec = spec or settings.llm
    provider, _, model = spec.partition(":")
    if provider not in {"local", "openai", "fake"}:  # a bad spec is a config error, even in tests
        raise ConfigError(
            f"unknown LLM provider {provider!r}",
            fix="use 'local', 'openai:<model>' or 'fake'",
        )
    # checked before the cache: a model cached by an opted-in test stays off-limits to others
    if provider != "fake" and real_models_forbidden():
        raise RealModelForbidden(
            f"a test tried to use the real '{provider}' LLM backend",
            fix="use the FakeLLM, or mark the test with @pytest.mark.real_model to opt in",
        )
    key = f"{spec}|{settings.openai_base_url}|{settings.local_model_path}"
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        llm: LLM
        if provider == "fake":
            llm = FakeLLM(model=model or "fake-1")
        elif provider == "local":
            llm = LocalLLM.from_settings(settings)
        else:
            # lazy: the openai client takes ~2 s to import and only this backend needs it
            from genpersona.llm.openai_backend import OpenAILLM

            llm = OpenAILLM.from_settings(settings, model=model or None)
        _CACHE[key] = llm
        return llm


def clear_llm_cache() -> None:
    with _LOCK:
        for llm in _CACHE.values():
            llm.close()
        _CACHE.clear()
