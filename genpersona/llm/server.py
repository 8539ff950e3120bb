"""An in-process llama.cpp server (xllamacpp) on loopback.

xllamacpp's ``Server`` loads the GGUF once, runs llama.cpp's C++ server loop
(parallel slots, continuous batching, prompt cache, thread-safe) and also
listens on ``127.0.0.1:<random port>`` with the OpenAI-compatible HTTP API.
The local backend calls it in-process (no HTTP); tests and the benchmark point
the ``openai`` backend at its HTTP address, so both paths run the same weights
and the HTTP overhead can be measured as a ratio.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from genpersona.errors import LLMError, LLMRequestRejected, ModelFileCorrupt, ModelPackageMissing
from genpersona.llm.gguf import resolve_model_path
from genpersona.settings import Settings

#: Gemma 3 270M is a base model and its GGUF carries no chat template, so llama.cpp
#: would fall back to ChatML tokens the model never saw. A plain transcript is what
#: a base model continues best; ``TRANSCRIPT_STOP`` ends the answer at the next turn.
TRANSCRIPT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}User: {{ m['content'] }}\n"
    "{% else %}Assistant: {{ m['content'] }}\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
TRANSCRIPT_STOP = ["\nUser:"]


def _import_xllamacpp():
    try:  # lazy: the llama.cpp binding is heavy and optional (only the local backend needs it)
        import xllamacpp
    except ImportError as exc:
        raise ModelPackageMissing(
            f"the local LLM needs the llama.cpp binding 'xllamacpp', which cannot be imported ({exc})",
            fix="pip install xllamacpp (or `make install`), or use GENPERSONA_LLM=openai:<model>",
            package="xllamacpp",
        ) from exc
    return xllamacpp


def binding_version() -> str | None:
    try:
        return str(_import_xllamacpp().__version__)
    except ModelPackageMissing:
        return None


class LlamaServer:
    """One loaded model behind llama.cpp's server; close() frees it and its port."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 2048,
        n_parallel: int = 2,
        threads: int = 0,
        seed: int = 42,
        cache_prompt: bool = False,
        kv_unified: bool = True,
        swa_full: bool = True,
    ) -> None:
        xlc = _import_xllamacpp()
        self.model_path = Path(model_path)
        params = xlc.CommonParams()
        params.model.path = str(self.model_path)
        params.model_alias = {self.model_path.stem}  # /v1/models names it, not its path
        params.n_ctx = n_ctx
        params.n_parallel = n_parallel
        n_threads = threads or os.cpu_count() or 1
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.sampling.seed = seed
        params.hostnames = ["127.0.0.1"]  # loopback only; never exposed
        params.port = 0  # a free port, so parallel processes never collide
        params.warmup = True  # pay the first-graph cost at load, not on the first request
        params.verbosity = 0
        params.use_jinja = True
        # llama.cpp is not batch-invariant: a prefix served from the KV cache is
        # evaluated in a different batch shape and can change even greedy output.
        params.cache_prompt = cache_prompt
        # one KV pool for all slots: a slot may use the whole context (a split cache gives
        # each of 6 slots a sixth), and cached prompt prefixes stay where any slot finds them
        params.kv_unified = kv_unified
        # Gemma 3 attends over a sliding window in most layers, and llama.cpp keeps only that
        # window's KV for them: a cached prefix could then never be reused (every request
        # re-evaluated its whole prompt; measured cache_n = 0 on every copy candidate). The
        # full-size cache for those layers (~75 MB at 4096 context for the 270M model) lets
        # the shared few-shot prefix be served from cache: 455 -> ~100 tokens evaluated.
        params.swa_full = swa_full
        params.chat_template = TRANSCRIPT_TEMPLATE
        started = time.perf_counter()
        try:
            self._server: Any = xlc.Server(params)
        except RuntimeError as exc:
            # llama.cpp reports every load failure the same way; the header was
            # already checked, so a failure here means a truncated or damaged body.
            raise ModelFileCorrupt(
                f"llama.cpp could not load the model file {self.model_path} ({exc})",
                fix="the file is truncated or damaged: delete it (it is re-assembled from the "
                "package) or point GENPERSONA_LOCAL_MODEL_PATH at an intact GGUF",
                path=str(self.model_path),
            ) from exc
        self.load_s = time.perf_counter() - started
        self.n_ctx = n_ctx
        self.cache_prompt = cache_prompt
        self.threads = n_threads
        self._closed = False
        self._close_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, model_path: Path | None = None) -> LlamaServer:
        return cls(
            model_path or resolve_model_path(settings),
            n_ctx=settings.local_n_ctx,
            n_parallel=settings.local_parallel,
            threads=settings.local_threads,
            seed=settings.seed,
            cache_prompt=settings.local_cache_prompt,
        )

    # --- addresses ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; append ``/v1`` for OpenAI clients."""
        return str(self._server.listening_address)

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    # --- in-process calls ----------------------------------------------------------
    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._closed:
            raise LLMError(
                "the local llama.cpp server was closed",
                fix="get a fresh backend with genpersona.llm.get_llm() after clear_llm_cache()",
            )
        result = getattr(self._server, method)(body)
        if isinstance(result, dict) and "error" in result:
            err = result["error"]
            message = err.get("message", str(err)) if isinstance(err, dict) else str(err)
            raise LLMRequestRejected(
                f"llama.cpp rejected the request: {message}",
                fix="check the generation parameters; a prompt longer than the context window "
                "needs a shorter prompt or a larger GENPERSONA_LOCAL_N_CTX",
                detail=err,
            )
        return dict(result)

    def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("handle_completions", body)

    def chat_completions(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("handle_chat_completions", body)

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Stop the server loop and HTTP listener (xllamacpp stops them on dealloc)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._server = None
        gc.collect()

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
