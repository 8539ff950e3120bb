"""Stage timing for one pipeline run.

Every run records how long each stage took and how much of the total was spent
inside the model, so "pipeline overhead" (total minus model time) can be
measured separately from generation speed, which we do not control.
"""

from __future__ import annotations

import contextvars
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from genpersona.embeddings.base import Embedder
from genpersona.llm.base import LLMResult
from genpersona.types.content import StageTiming, Trace


class StageTimer:
    """Accumulates stage timings, token counts and model time into a ``Trace``."""

    def __init__(self) -> None:
        self.trace = Trace()
        self._start = time.perf_counter()
        self._intervals: list[tuple[float, float]] = []
        self._embed_intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        #: set when the first model call starts: work meant to run beside decoding waits for
        #: it, instead of competing for the interpreter with the prompt's own preparation
        self.model_started = threading.Event()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.trace.stages.append(
                StageTiming(stage=name, ms=round((time.perf_counter() - t0) * 1000, 3))
            )

    def record_llm(self, result: LLMResult, started: float, ended: float) -> None:
        """Count tokens and the wall-clock interval the model call was in flight.

        Candidates may be generated concurrently, so model time is the union of
        the call intervals, not their sum: overhead = total - union stays honest.
        """
        with self._lock:
            self.trace.prompt_tokens += result.prompt_tokens
            self.trace.completion_tokens += result.completion_tokens
            self.trace.cached_prompt_tokens += result.cached_prompt_tokens
            self.trace.model_calls += 1
            self.trace.prompt_eval_ms += result.prompt_eval_ms or 0.0
            self.trace.decode_ms += result.decode_ms or 0.0
            self._intervals.append((started, ended))

    def record_embed(self, started: float, ended: float) -> None:
        with self._lock:
            self._embed_intervals.append((started, ended))

    def finish(self) -> Trace:
        self.trace.total_ms = round((time.perf_counter() - self._start) * 1000, 3)
        self.trace.model_ms = round(union_seconds(self._intervals) * 1000, 3)
        self.trace.embed_ms = round(union_seconds(self._embed_intervals) * 1000, 3)
        both = self._intervals + self._embed_intervals
        self.trace.models_ms = round(union_seconds(both) * 1000, 3)
        return self.trace


@contextmanager
def running(timer: StageTimer) -> Iterator[StageTimer]:
    """Make ``timer`` the current run's, so embedder and model time anywhere land in it."""
    token = CURRENT_TIMER.set(timer)
    try:
        yield timer
    finally:
        CURRENT_TIMER.reset(token)


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def overhead_ms(trace: Trace, *, include_embeddings: bool = True) -> float:
    """Pipeline time spent outside the LLM (context, prompt, guard, scoring, queue);
    optionally also outside the embedder, the other model in the loop."""
    spent = trace.model_ms if include_embeddings else trace.models_ms
    return max(0.0, trace.total_ms - spent)


CURRENT_TIMER: contextvars.ContextVar[StageTimer | None] = contextvars.ContextVar(
    "genpersona_agent_timer", default=None
)


@contextmanager
def substage(name: str) -> Iterator[None]:
    """Time a part of a stage into the current run's trace (no-op outside a run)."""
    timer = CURRENT_TIMER.get()
    if timer is None:
        yield
        return
    with timer.stage(name):
        yield


class TimedEmbedder(Embedder):
    """Wraps the embedder: time spent embedding is charged to the current run's trace.

    Only timing: the text -> vector cache is the embedder's own (``CachingEmbedder``,
    which ``default_deps`` puts underneath), so a cache hit costs microseconds here."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim

    @property
    def space(self) -> str:
        return self.inner.space

    def embed(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        timer = CURRENT_TIMER.get()
        if timer is not None:
            timer.record_embed(started, time.perf_counter())
        return vectors


_TIMED: weakref.WeakKeyDictionary[Embedder, TimedEmbedder] = weakref.WeakKeyDictionary()


def timed(embedder: Embedder) -> Embedder:
    """The process-wide timed wrapper of ``embedder`` (idempotent)."""
    if isinstance(embedder, TimedEmbedder):
        return embedder
    if embedder not in _TIMED:
        _TIMED[embedder] = TimedEmbedder(embedder)
    return _TIMED[embedder]
