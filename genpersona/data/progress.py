"""Rich progress bars for long ingest steps, silent when disabled (tests, --json)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

Advance = Callable[..., None]


class Steps:
    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress

    def task(self, label: str, total: int | None = None) -> Advance:
        """A callback ``(done, total=None)`` that moves this step's bar."""
        if self._progress is None:
            return lambda *_a, **_k: None
        task_id = self._progress.add_task(label, total=total)

        def advance(done: int, new_total: int | None = None) -> None:
            assert self._progress is not None
            if new_total is not None:
                self._progress.update(task_id, total=new_total)
            self._progress.update(task_id, completed=done)

        return advance


@contextmanager
def steps(enabled: bool) -> Iterator[Steps]:
    if not enabled:
        yield Steps(None)
        return
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as progress:
        yield Steps(progress)
