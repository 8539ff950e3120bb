"""The request path's SQL on the read fast path against SQLAlchemy Core, in the same run.

    python bench/fast_read.py [--calls 1000]

Runs, per request, the five prebuilt SELECTs a generation request makes (customer with
profile, memory facts, exemplar version, past drafts, hero catalog check for 6 codes) on
the demo database (run the demo once first), for real customers, two ways:

- ``core``: ``engine.connect()`` + ``conn.execute(stmt)``, as the code did before the fast
  path (the baseline; the two context queries share a connection);
- ``fast``: ``FAST_READER`` (``genpersona/db/fast_read.py``).

Each way is timed "hot" (back to back) and "cold" (after reading 200 MB, which evicts
the CPU caches the way a model call between requests does, as in the agent pipeline).
Figures are per request (all five statements), p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()

    from genpersona.agent.lookups import _catalog_sql, _past_texts_sql
    from genpersona.agent.sampling import sample_customers
    from genpersona.context.retrieval import _CUSTOMER_SQL, _FACTS_SQL, _brand
    from genpersona.db.engine import get_engine
    from genpersona.db.fast_read import FAST_READER
    from genpersona.recs.store import get_recommender
    from genpersona.review.exemplar_index import _VERSION_SQL
    from genpersona.settings import get_settings

    settings = get_settings()
    brand = settings.default_brand
    engine = get_engine(settings)
    brand_id, _ = _brand(brand, settings)
    ids = sample_customers(brand, args.calls, settings, seed=11)
    if not ids:
        print("no customers: run the demo first (`make demo`)", file=sys.stderr)
        return 1
    loaded = get_recommender(brand, settings)
    codes = [r.stock_code for r in loaded.model.recommended_items(None, 6)] if loaded else []
    catalog = _catalog_sql(len(codes))
    catalog_params = {"brand": brand, **{f"code{i}": c for i, c in enumerate(codes)}}
    row_ids = {}
    for cid in ids:
        row = FAST_READER.first(engine, _CUSTOMER_SQL, {"brand_id": brand_id, "external_id": cid})
        row_ids[cid] = row.id

    def statements(cid: str) -> list[tuple[object, dict]]:
        return [
            (_CUSTOMER_SQL, {"brand_id": brand_id, "external_id": cid}),
            (_FACTS_SQL, {"customer_id": row_ids[cid]}),
            (_VERSION_SQL, {"brand": brand, "kind": "subject_line"}),
            (
                _past_texts_sql(),
                {"brand": brand, "customer_id": cid, "kind": "subject_line", "limit": 50},
            ),  # fmt: skip
            (catalog, catalog_params),
        ]

    def core(cid: str) -> int:
        """As before the fast path: the two context queries share one connection."""
        (s1, p1), (s2, p2), *rest = statements(cid)
        with engine.connect() as conn:
            n = len(conn.execute(s1, p1).all()) + len(conn.execute(s2, p2).all())
        for stmt, params in rest:
            with engine.connect() as conn:
                n += len(conn.execute(stmt, params).all())
        return n

    def fast(cid: str) -> int:
        return sum(len(FAST_READER.all(engine, stmt, params)) for stmt, params in statements(cid))

    evict = np.ones(200_000_000 // 8)
    for cid in ids[:20]:  # same rows both ways, and warm statement caches
        assert core(cid) == fast(cid)
    print(f"request-path SQL, {len(ids)} real customers, 5 statements per request "
          f"({engine.dialect.name}, {settings.sqlalchemy_url})")  # fmt: skip
    results = {}
    for cold in (False, True):
        for name, fn in (("core (baseline)", core), ("fast read path", fast)):
            times = []
            for cid in ids:
                if cold:
                    evict.sum()
                t0 = time.perf_counter()
                fn(cid)
                times.append((time.perf_counter() - t0) * 1000)
            p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
            results[(cold, name)] = p50
            print(f"  {'cold' if cold else 'hot ':4} {name:16} p50 {p50:.3f} ms  p95 {p95:.3f} ms")
    for cold in (False, True):
        ratio = results[(cold, "core (baseline)")] / results[(cold, "fast read path")]
        print(f"  {'cold' if cold else 'hot'}: fast path {ratio:.1f}x faster at p50")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
