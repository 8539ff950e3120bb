"""Stage timing for one pipeline run.

Every run records how long each stage took and how much of the total was spent
inside the model, so "pipeline overhead" (total minus model time) can be
measured separately from generation speed, which we do not control.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from genpersona.agent.models import StageTiming, Trace
from genpersona.llm.base import LLMResult


class StageTimer:
    """Accumulates stage timings, token counts and model time into a ``Trace``."""

    def __init__(self) -> None:
        self.trace = Trace()
        self._start = time.perf_counter()
        self._intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()

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
            self._intervals.append((started, ended))

    def finish(self) -> Trace:
        self.trace.total_ms = round((time.perf_counter() - self._start) * 1000, 3)
        self.trace.model_ms = round(union_seconds(self._intervals) * 1000, 3)
        return self.trace


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


def overhead_ms(trace: Trace) -> float:
    """Pipeline time spent outside the model (context, prompt, guard, scoring, queue)."""
    return max(0.0, trace.total_ms - trace.model_ms)
