"""The default backend: the packaged Gemma 3 270M GGUF on CPU via llama.cpp.

The model loads lazily on the first call and then stays loaded for the life of
the process (the factory caches this object). Requests go straight into
llama.cpp's server loop in-process: it is thread-safe and decodes up to
``GENPERSONA_LOCAL_PARALLEL`` requests together, so callers need no lock of
their own. Gemma 3 270M is a *base* model: ``complete`` with few-shot prompts
is the primary path; ``chat`` renders the turns as a plain transcript.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from genpersona.llm.base import LLM, ChatMessage, GenerationParams, LLMResult, PromptStyle
from genpersona.llm.server import TRANSCRIPT_STOP, LlamaServer, binding_version
from genpersona.llm.structured import compact_json_schema
from genpersona.settings import Settings


def request_body(params: GenerationParams, default_seed: int) -> dict[str, Any]:
    """GenerationParams -> llama.cpp/OpenAI request fields (shared with the HTTP path)."""
    body: dict[str, Any] = {
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "seed": params.seed if params.seed is not None else default_seed,
    }
    if params.stop:
        body["stop"] = list(params.stop)
    if params.json_schema is not None:
        body["json_schema"] = compact_json_schema(params.json_schema)
    if params.logprobs:
        body["logprobs"] = 1
    return body


def token_logprobs(choice: dict[str, Any]) -> list[float] | None:
    """Per-token log-probabilities from a llama.cpp/OpenAI completion choice, if present."""
    lp = choice.get("logprobs") or {}
    if isinstance(lp, dict) and isinstance(lp.get("content"), list):
        return [float(t["logprob"]) for t in lp["content"] if "logprob" in t]
    if isinstance(lp, dict) and isinstance(lp.get("token_logprobs"), list):
        return [float(x) for x in lp["token_logprobs"] if x is not None]
    return None


class LocalLLM(LLM):
    backend = "local"
    shares_cpu = True
    returns_logprobs = True

    def __init__(self, settings: Settings, *, model_path: Path | None = None) -> None:
        self._settings = settings
        self._model_path = model_path
        self._server: LlamaServer | None = None
        self._load_lock = threading.Lock()
        self.prompt_style: PromptStyle = (
            "chat" if settings.llm_prompt_style == "chat" else "completion"
        )
        self.max_copy_candidates = settings.local_copy_candidates

    def runtime_version(self) -> str | None:
        return f"xllamacpp {binding_version()}"

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalLLM:
        return cls(settings)

    # --- loading ------------------------------------------------------------------
    def load(self) -> LlamaServer:
        """Load the model once; every later call reuses it."""
        if self._server is None:
            with self._load_lock:
                if self._server is None:
                    self._server = LlamaServer.from_settings(self._settings, self._model_path)
        return self._server

    @property
    def loaded(self) -> bool:
        return self._server is not None

    @property
    def load_s(self) -> float | None:
        return self._server.load_s if self._server else None

    @property
    def model(self) -> str:
        if self._server is not None:
            return self._server.model_path.stem
        if self._model_path is not None:
            return self._model_path.stem
        if self._settings.local_model_path is not None:
            return Path(self._settings.local_model_path).stem
        return "gemma-3-270m-q4_k_m"

    # --- generation -----------------------------------------------------------------
    def _result(self, raw: dict[str, Any], text: str, started: float) -> LLMResult:
        usage = raw.get("usage") or {}
        timings = raw.get("timings") or {}
        details = usage.get("prompt_tokens_details") or {}
        choice = raw["choices"][0]
        return LLMResult(
            text=text,
            model=self.model,
            backend=self.backend,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            latency_s=time.perf_counter() - started,
            finish_reason=choice.get("finish_reason"),
            token_logprobs=token_logprobs(choice),
            cached_prompt_tokens=int(timings.get("cache_n", details.get("cached_tokens", 0)) or 0),
            prompt_eval_ms=timings.get("prompt_ms"),
            decode_ms=timings.get("predicted_ms"),
        )

    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        params = params or GenerationParams()
        server = self.load()
        started = time.perf_counter()
        body = request_body(params, self._settings.seed)
        body["cache_prompt"] = (
            server.cache_prompt if params.cache_prompt is None else params.cache_prompt
        )
        body["prompt"] = prompt
        raw = server.completions(body)
        return self._result(raw, raw["choices"][0].get("text") or "", started)

    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        params = params or GenerationParams()
        server = self.load()
        started = time.perf_counter()
        body = request_body(params, self._settings.seed)
        body["cache_prompt"] = server.cache_prompt
        body["stop"] = list(dict.fromkeys([*params.stop, *TRANSCRIPT_STOP]))
        body["messages"] = [m.model_dump() for m in messages]
        raw = server.chat_completions(body)
        text = (raw["choices"][0].get("message") or {}).get("content") or ""
        return self._result(raw, text.strip(), started)

    # --- ops ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        was_loaded = self.loaded
        server = self.load()
        result = self.complete(
            "The capital of France is", GenerationParams(max_tokens=4, temperature=0)
        )
        return {
            "backend": self.backend,
            "model": self.model,
            "path": str(server.model_path),
            "load_s": None if was_loaded else round(server.load_s, 3),
            "threads": server.threads,
            "generate_s": round(result.latency_s, 3),
            "sample": result.text,
            "ok": bool(result.completion_tokens),
        }

    def close(self) -> None:
        with self._load_lock:
            if self._server is not None:
                self._server.close()
                self._server = None
