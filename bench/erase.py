"""What a complete erase costs: a plain delete (SQL rows + vector delete, no compaction) next
to the compaction that makes the bytes disappear (rebuild the vector collections into a new
generation, scrub Chroma's files, VACUUM SQLite), at 4,372 and 100,000 customers, in the
same run; and whether ``context_for`` for another customer keeps being served meanwhile.

The compaction's rebuild runs in a clean child process (``vectors/clean_child.py``), so
the reader thread here shares the machine with it but not the process.

Synthetic home on real embedded Chroma and SQLite: one memory fact per customer (the demo
has ~5), a distinct text each and no warm fact cache (so requests read the store), and random unit vectors of MiniLM's 384 dimensions written
straight to the store (no embedder runs; briefs use the fake embedder). No recommender file,
so no refit is timed (``bench/recs*.py`` times a fit).

    flock /tmp/bench.lock env PYTHONPATH=$PWD .venv/bin/python bench/erase.py [--sizes 4372 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

import numpy as np
from sqlalchemy import insert, select

DIM = 384


def _ms(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
    return f"p50 {statistics.median(xs) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, n={len(xs)}"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build(n: int) -> None:
    from genpersona.data.memory_store import memory_metadata
    from genpersona.data.repo import memory_vector_id
    from genpersona.data.tables import Brand, Customer, MemoryFact
    from genpersona.db.base import utcnow
    from genpersona.db.engine import session_scope
    from genpersona.vectors.base import MEMORY
    from genpersona.vectors.factory import get_vector_store

    now = utcnow()
    with session_scope() as s:
        s.add(Brand(slug="bench", name="Bench"))
        s.flush()
        brand_id = s.scalar(select(Brand.id))
        s.execute(
            insert(Customer),
            [
                {
                    "brand_id": brand_id, "external_id": f"C{i}", "consent_personalization": True,
                    "consent_email": True, "consent_chat_memory": True, "source": "bench",
                    "created_at": now, "updated_at": now,
                }
                for i in range(n)
            ],
        )  # fmt: skip
        ids = {e: i for e, i in s.execute(select(Customer.external_id, Customer.id))}
        s.execute(
            insert(MemoryFact),
            [
                {
                    "brand_id": brand_id, "customer_id": ids[f"C{i}"],
                    "text": f"Buys item {i} in spring", "kind": "note", "source": "behaviour",
                    "knowingly_shared": False, "provenance": {}, "created_at": now,
                }
                for i in range(n)
            ],
        )  # fmt: skip
        fact_ids = list(s.scalars(select(MemoryFact.id).order_by(MemoryFact.id)))
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((len(fact_ids), DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    get_vector_store().upsert(
        MEMORY,
        [memory_vector_id(i) for i in fact_ids],
        vecs,
        [memory_metadata("bench") for _ in fact_ids],
    )


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(
            GENPERSONA_HOME=home,
            GENPERSONA_EMBEDDER="fake",
            GENPERSONA_LLM="fake",
            GENPERSONA_CONTEXT_WARM_FACTS="0",  # every request reads its vector from the store
        )
        from genpersona.context.retrieval import clear_context_caches, context_for
        from genpersona.customers.compaction import run_pending
        from genpersona.customers.rights import erase_customer
        from genpersona.settings import get_settings
        from genpersona.vectors.factory import clear_vector_store_cache

        get_settings.cache_clear()
        clear_vector_store_cache()
        clear_context_caches()
        print(f"load average (1, 5, 15 min) at the start: {_load()}")
        t0 = time.perf_counter()
        build(n)
        print(
            f"\n== {n:,} customers, {n:,} memory vectors (built in {time.perf_counter() - t0:.0f} s)"
        )
        rng = np.random.default_rng(1)
        context_for("bench", "C3", "spring gifts")
        idle = []
        for _ in range(300):
            cid = f"C{int(rng.integers(3, n))}"
            t = time.perf_counter()
            context_for("bench", cid, "spring gifts")
            idle.append(time.perf_counter() - t)

        t = time.perf_counter()
        erase_customer("bench", "C1", compact=False)
        plain = time.perf_counter() - t

        during: list[float] = []
        errors: list[str] = []
        stop = threading.Event()

        def serve() -> None:
            r = np.random.default_rng(2)
            while not stop.is_set():
                cid = f"C{int(r.integers(3, n))}"
                t1 = time.perf_counter()
                try:
                    bundle = context_for("bench", cid, "spring gifts")
                    if not bundle.memories:
                        errors.append(f"{cid}: no memories")
                except Exception as exc:  # noqa: BLE001 - counted and printed, not hidden
                    errors.append(f"{cid}: {exc!r}")
                during.append(time.perf_counter() - t1)

        clear_context_caches()  # the reader must really go to the store during the rebuild
        reader = threading.Thread(target=serve)
        reader.start()
        t = time.perf_counter()
        report = run_pending()
        compaction = time.perf_counter() - t
        stop.set()
        reader.join()
        rebuilt = ", ".join(f"{r.physical} ({r.kept:,} kept)" for r in report.rebuilt)
        print(f"plain delete (rows + vector delete, no compaction): {plain * 1000:.0f} ms")
        print(f"compaction (rebuild {rebuilt}; scrub; VACUUM): {compaction:.2f} s {report.steps}")
        print(f"complete erase = {plain + compaction:.2f} s ({(plain + compaction) / plain:.0f}x)")
        print(f"context_for, other customers, idle:            {_ms(idle)}")
        print(f"context_for, other customers, during compaction: {_ms(during)}")
        print(f"  failed or empty answers during compaction: {len(errors)} {errors[:3]}")
        print(f"load average (1, 5, 15 min) at the end: {_load()}")
        clear_vector_store_cache()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4372, 100_000])
    for n in ap.parse_args().sizes:
        run(n)


if __name__ == "__main__":
    main()
