"""Two processes opening one new embedded Chroma store at the same moment.

Celery workers started together on a fresh home each open the store on their first task.
Chroma creates its tables on first open with no cross-process guard; without our lock one
of them fails with "table collections already exists" (seen in CI: a worker's first
customers failed). Each process here waits for a shared start time, then opens the store
and creates a collection.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _warm() -> None:
    import chromadb  # noqa: F401  (the ~1 s import is done before the shared start time)


def _open_at(path: str, start: float) -> str:
    import numpy as np

    from genpersona.vectors.chroma import ChromaVectorStore

    while time.time() < start:
        pass
    try:
        store = ChromaVectorStore(path=path)
        store.upsert(
            "memory", ["a"], np.array([[1.0, 0.0, 0.0]], dtype=np.float32), [{"customer_id": "c1"}]
        )
        return "ok"
    except Exception as exc:  # the test reports what each process saw
        return f"{type(exc).__name__}: {exc}"


def test_processes_opening_a_new_store_together_all_succeed(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(3, initializer=_warm) as pool:
        pool.map(str, range(3))  # the children are up before any start time is set
        for attempt in range(4):
            path = str(tmp_path / f"home{attempt}" / "chroma")
            start = time.time() + 2.0  # the import of chromadb happens before this moment
            results = pool.starmap(_open_at, [(path, start)] * 3)
            assert results == ["ok", "ok", "ok"], results
