"""OpenAI, or any OpenAI-compatible server (vLLM, llama.cpp server, Ollama), by base URL.

This is how generation scales beyond one machine: point ``GENPERSONA_OPENAI_BASE_URL``
at a serving engine. The official client does the bounded retries (exponential
backoff on connection errors, 408/409/429/5xx) and per-request timeouts; this module
maps its exceptions onto ours so every caller sees one error vocabulary.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Any, TypeVar

import openai

from genpersona.errors import (
    BackendAuthError,
    BackendTimeout,
    BackendUnreachable,
    LLMError,
    LLMRequestRejected,
)
from genpersona.llm.base import (
    LLM,
    MAX_STOP,
    ChatMessage,
    GenerationParams,
    LLMResult,
    PromptStyle,
    cut_at_stop,
)
from genpersona.llm.structured import compact_json_schema
from genpersona.settings import Settings

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

T = TypeVar("T")


class OpenAILLM(LLM):
    backend = "openai"
    returns_logprobs = True  # on the completions endpoint; chat answers carry none

    def __init__(
        self,
        *,
        model: str | None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        prompt_style: PromptStyle = "chat",
        default_seed: int | None = None,
        fanout: int = 64,
    ) -> None:
        if not api_key and base_url is None:
            raise BackendAuthError(
                "the openai backend needs an API key to reach OpenAI",
                fix="set GENPERSONA_OPENAI_API_KEY (or OPENAI_API_KEY), or set "
                "GENPERSONA_OPENAI_BASE_URL to an OpenAI-compatible server",
            )
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.prompt_style = prompt_style
        # a chat-style OpenAI-compatible server serves an instruction-tuned model
        self.instruction_tuned = prompt_style == "chat"
        self._default_seed = default_seed
        # Local servers usually ignore the key, but the client insists on one.
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=max_retries,
        )
        self._model = model
        self._model_lock = threading.Lock()
        #: chat requests of one ``chat_batch`` in flight at once (size it to the server)
        self.fanout = max(1, fanout)
        self._fanout_pool: ThreadPoolExecutor | None = None

    def runtime_version(self) -> str | None:
        return f"openai {_dist_version('openai')}"

    @classmethod
    def from_settings(cls, settings: Settings, model: str | None = None) -> OpenAILLM:
        style = settings.llm_prompt_style
        return cls(
            model=model or settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or os.environ.get("OPENAI_API_KEY"),
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            prompt_style="completion" if style == "completion" else "chat",
            default_seed=settings.seed,
            fanout=settings.campaign_concurrency,
        )

    # --- model name -------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The configured model; for a custom server without one, the server's first model."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    if self.base_url is None:
                        self._model = DEFAULT_OPENAI_MODEL
                    else:
                        models = self._call(lambda: self._client.models.list().data)
                        if not models:
                            raise LLMRequestRejected(
                                f"the server at {self.base_url} serves no models",
                                fix="load a model on the server or name one as "
                                "GENPERSONA_LLM=openai:<model>",
                            )
                        self._model = str(models[0].id)
        return self._model

    # --- error mapping ------------------------------------------------------------------
    def _where(self) -> str:
        return self.base_url or "api.openai.com"

    def _call(self, fn: Callable[[], T]) -> T:
        where = self._where()
        tries = self.max_retries + 1
        try:
            return fn()
        except openai.APITimeoutError as exc:
            raise BackendTimeout(
                f"the LLM server at {where} did not answer within {self.timeout_s:g} s "
                f"({tries} attempt(s))",
                fix="check the server's load, or raise GENPERSONA_LLM_TIMEOUT_S / "
                "GENPERSONA_LLM_MAX_RETRIES",
                base_url=where,
                timeout_s=self.timeout_s,
            ) from exc
        except openai.APIConnectionError as exc:
            raise BackendUnreachable(
                f"cannot connect to the LLM server at {where} ({exc.__cause__ or exc}) "
                f"after {tries} attempt(s)",
                fix="start the server or correct GENPERSONA_OPENAI_BASE_URL "
                "(it usually ends in /v1)",
                base_url=where,
            ) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise BackendAuthError(
                f"the LLM server at {where} refused the API key (HTTP {exc.status_code})",
                fix="set a valid key in GENPERSONA_OPENAI_API_KEY (or OPENAI_API_KEY)",
                base_url=where,
                status=exc.status_code,
            ) from exc
        except openai.NotFoundError as exc:
            raise LLMRequestRejected(
                f"the LLM server at {where} has no such model or endpoint: {exc.message}",
                fix="check the model name in GENPERSONA_LLM=openai:<model> and that the base "
                "URL ends in /v1",
                base_url=where,
                model=self._model,
            ) from exc
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            raise LLMRequestRejected(
                f"the LLM server at {where} rejected the request: {exc.message}",
                fix="check the generation parameters (max_tokens, stop, json_schema) and "
                "the prompt length against the model's context window",
                base_url=where,
                status=exc.status_code,
            ) from exc
        except openai.APIStatusError as exc:  # 429 / 5xx after the client's retries
            raise LLMError(
                f"the LLM server at {where} failed with HTTP {exc.status_code} after "
                f"{tries} attempt(s): {exc.message}",
                fix="retry later, or raise GENPERSONA_LLM_MAX_RETRIES if the server is overloaded",
                base_url=where,
                status=exc.status_code,
            ) from exc

    # --- generation ------------------------------------------------------------------------
    def _common(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        seed = params.seed if params.seed is not None else self._default_seed
        if seed is not None:
            kwargs["seed"] = seed
        if params.stop:
            # the API takes at most MAX_STOP; any beyond it are applied here (``_local_stops``)
            kwargs["stop"] = list(params.stop[:MAX_STOP])
        return kwargs

    @staticmethod
    def _local_stops(params: GenerationParams, text: str) -> str:
        """Stop sequences past the API's limit, applied to the returned text: a caller's
        stops always hold, and no request is refused for having too many."""
        extra = params.stop[MAX_STOP:]
        return cut_at_stop(text, extra) if extra else text

    def _result(
        self, text: str, usage: Any, finish: str | None, started: float, share: int = 1
    ) -> LLMResult:
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
        return LLMResult(
            text=text,
            model=self.model,
            backend=self.backend,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0) // share,
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0) // share,
            cached_prompt_tokens=cached // share,
            latency_s=time.perf_counter() - started,
            finish_reason=finish,
        )

    def complete(self, prompt: str, params: GenerationParams | None = None) -> LLMResult:
        params = params or GenerationParams()
        kwargs = self._common(params)
        if params.json_schema is not None:
            # The legacy completions endpoint has no standard schema field; llama.cpp
            # reads ``json_schema`` from the body. Callers validate the output anyway.
            kwargs["extra_body"] = {"json_schema": compact_json_schema(params.json_schema)}
        if params.logprobs:
            kwargs["logprobs"] = 1
        started = time.perf_counter()
        resp = self._call(lambda: self._client.completions.create(prompt=prompt, **kwargs))
        return self._completion(resp.choices[0], params, resp.usage, started, 1)

    def _completion(
        self, choice: Any, params: GenerationParams, usage: Any, started: float, share: int
    ) -> LLMResult:
        """One completion choice as a result; ``share`` splits a batch request's usage."""
        text = self._local_stops(params, choice.text or "")
        result = self._result(text, usage, choice.finish_reason, started, share)
        lp = getattr(choice, "logprobs", None)
        values = getattr(lp, "token_logprobs", None) if lp is not None else None
        if values:
            result.token_logprobs = [float(x) for x in values if x is not None]
        return result

    def chat(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> LLMResult:
        params = params or GenerationParams()
        kwargs = self._common(params)
        if params.json_schema is not None:
            # A self-hosted server (llama.cpp, vLLM) gets the compact-JSON hint too;
            # OpenAI itself gets the plain schema.
            schema = params.json_schema
            if self.base_url is not None:
                schema = compact_json_schema(schema)
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema},
            }
        started = time.perf_counter()
        resp = self._call(
            lambda: self._client.chat.completions.create(
                messages=[m.model_dump() for m in messages],  # type: ignore[misc]
                **kwargs,
            )
        )
        choice = resp.choices[0]
        text = self._local_stops(params, choice.message.content or "").strip()
        return self._result(text, resp.usage, choice.finish_reason, started)

    def complete_batch(
        self, prompts: list[str], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """All prompts in one request (the completions endpoint takes a list), seeded by
        the first seed: one entry in the server's queue instead of ``len(prompts)`` round
        trips one after another. Usage is split evenly over the results."""
        if len(prompts) <= 1 or params.json_schema is not None:
            return super().complete_batch(prompts, params, seeds)
        kwargs = self._common(params.model_copy(update={"seed": seeds[0]}))
        if params.logprobs:
            kwargs["logprobs"] = 1
        started = time.perf_counter()
        resp = self._call(lambda: self._client.completions.create(prompt=list(prompts), **kwargs))
        if len(resp.choices) < len(prompts):
            raise LLMError(
                f"the LLM server at {self._where()} returned {len(resp.choices)} choices for "
                f"{len(prompts)} prompts",
                fix="use a server whose completions endpoint takes a list of prompts (vLLM, "
                "llama.cpp server), or GENPERSONA_LLM_PROMPT_STYLE=chat",
                base_url=self._where(),
            )
        choices = sorted(resp.choices, key=lambda c: c.index)[: len(prompts)]
        return [self._completion(c, params, resp.usage, started, len(prompts)) for c in choices]

    def chat_batch(
        self, conversations: list[list[ChatMessage]], params: GenerationParams, seeds: list[int]
    ) -> list[LLMResult]:
        """Chat has no list form: the requests go out at once on a bounded pool of
        ``fanout`` threads (shared by every caller of this backend)."""
        if len(conversations) <= 1:
            return super().chat_batch(conversations, params, seeds)
        pool = self._pool()
        futures = [
            pool.submit(self.chat, m, params.model_copy(update={"seed": s}))
            for m, s in zip(conversations, seeds, strict=True)
        ]
        return [f.result() for f in futures]

    def _pool(self) -> ThreadPoolExecutor:
        with self._model_lock:
            if self._fanout_pool is None:
                self._fanout_pool = ThreadPoolExecutor(
                    max_workers=self.fanout, thread_name_prefix="genpersona-openai"
                )
            return self._fanout_pool

    def health(self) -> dict[str, Any]:
        tiny = GenerationParams(max_tokens=4, temperature=0)
        result = (
            self.complete("The capital of France is", tiny)
            if self.prompt_style == "completion"
            else self.chat([ChatMessage(role="user", content="Say OK.")], tiny)
        )
        return {
            "backend": self.backend,
            "model": self.model,
            "base_url": self._where(),
            "generate_s": round(result.latency_s, 3),
            "sample": result.text,
            "ok": True,
        }

    def close(self) -> None:
        if self._fanout_pool is not None:
            self._fanout_pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()


def _dist_version(dist: str) -> str | None:
    try:
        return _pkg_version(dist)
    except PackageNotFoundError:
        return None
