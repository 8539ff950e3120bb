"""context_for latency: real 4,372 customers, then a synthetic 100k customers / 1M facts.

Each scenario times >= 1,000 calls of ``context_for`` two ways in the same run:
``by_id`` (the design: fetch the customer's own memory vectors by id, rank in
numpy) and ``filtered`` (the naive design: query the shared Chroma collection
with ``where={"customer_id": ...}``). Brief embeddings are cached, as in serving.

Synthetic data: customers, profiles and memory-fact rows are bulk-inserted via
SQLAlchemy Core; fact vectors are random unit vectors (the point is retrieval
speed, not relevance), written to embedded Chroma at ~900 vectors/s on this
machine, so the full 1M-vector build takes ~20 minutes: pick a smaller
``--facts-per-customer`` for a quick run and say so when quoting figures.

Usage: python bench/context.py [--real-home DIR] [--customers 100000]
       [--facts-per-customer 10] [--calls 1000] [--skip-real] [--skip-synthetic]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BRIEFS = [
    "Christmas decorations and gifts for the festive season",
    "Candles and lanterns for cosy autumn evenings",
    "Baking essentials: cake stands, tins and cases",
    "Garden party supplies for summer",
    "Vintage tea sets and retro kitchenware",
    "Back to school stationery",
    "Easter treats and spring decorations",
    "Jewellery gifts for Mother's Day",
    "Storage solutions for a tidy home",
    "Party bunting and birthday supplies",
]


def _reset_process_state() -> None:
    from genpersona.context.retrieval import clear_context_caches
    from genpersona.db.engine import dispose_engines
    from genpersona.recs.store import clear_recommender_cache
    from genpersona.settings import get_settings
    from genpersona.vectors.factory import clear_vector_store_cache

    get_settings.cache_clear()
    dispose_engines()
    clear_vector_store_cache()
    clear_recommender_cache()
    clear_context_caches()


def measure(
    label: str, customers: list[str], calls: int, baseline_calls: int | None = None
) -> None:
    from genpersona.context import retrieval
    from genpersona.context.retrieval import context_for

    rng = random.Random(7)
    step_ms: list[float] = []

    def timed_step(fn):  # type: ignore[no-untyped-def]
        """The memory-ranking step, timed here (the bundle carries no timings)."""

        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                step_ms.append((time.perf_counter() - start) * 1000)

        return run

    retrieval._rank_by_id = timed_step(retrieval._rank_by_id)  # type: ignore[method-assign]
    retrieval._rank_filtered = timed_step(retrieval._rank_filtered)  # type: ignore[method-assign]
    for strategy in ("by_id", "filtered"):
        for brief in BRIEFS:  # warm the brief cache and the recommender load
            context_for("giftloft", customers[0], brief, memory_strategy=strategy)
        times, mem_times = [], []
        n_calls = calls if strategy == "by_id" or baseline_calls is None else baseline_calls
        for _ in range(n_calls):
            cid = rng.choice(customers)
            step_ms.clear()
            start = time.perf_counter()
            context_for("giftloft", cid, rng.choice(BRIEFS), memory_strategy=strategy)
            times.append((time.perf_counter() - start) * 1000)
            mem_times.append(sum(step_ms))
        t = np.array(times)
        m = np.array(mem_times)
        print(
            f"   {label:<34} {strategy:<9} context_for p50 {np.percentile(t, 50):7.2f} ms  "
            f"p95 {np.percentile(t, 95):7.2f} ms   (memory step p50 {np.percentile(m, 50):6.2f} ms, "
            f"p95 {np.percentile(m, 95):6.2f} ms; {n_calls} calls)"
        )


def real(home: Path, calls: int) -> None:
    os.environ["GENPERSONA_HOME"] = str(home)
    if not (home / "genpersona.db").exists():
        print(f"== real data: building {home} with bench/ingest.py first")
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("ingest.py")), "--home", str(home)],
            check=True,
        )
    _reset_process_state()
    from sqlalchemy import select

    from genpersona.data.tables import Customer
    from genpersona.db.engine import session_scope
    from genpersona.vectors.base import MEMORY
    from genpersona.vectors.factory import get_vector_store

    with session_scope() as s:
        customers = list(s.scalars(select(Customer.external_id)))
    print(
        f"== real UCI data: {len(customers):,} customers, "
        f"{get_vector_store().count(MEMORY):,} memory vectors (embedder "
        f"{os.environ.get('GENPERSONA_EMBEDDER', 'minilm')})"
    )
    from genpersona.settings import get_settings

    _print_warm_and_served(get_settings().default_brand)
    measure(f"real ({len(customers):,} customers)", customers, calls)


def _print_warm_and_served(brand: str) -> None:
    """What the request path leans on: the once-per-process warm-up and the fit-time table."""
    import json

    from genpersona.context.retrieval import warm_context
    from genpersona.recs.serving import served_path
    from genpersona.recs.store import recommender_path

    warm = warm_context(brand)
    print(
        f"   warm-up (once per process): {warm['fact_vectors']:,} fact vectors in {warm['ms']:.0f} ms"
    )
    model = recommender_path(brand)
    meta_file, table = model.with_suffix(".json"), served_path(model)
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    if table.exists() and "served_seconds" in meta:
        import numpy as np

        with np.load(table, allow_pickle=False) as f:
            n = len(f["customer_ids"])
        print(
            f"   served recommendations: {n:,} customers, built in {meta['served_seconds']} s "
            f"at fit time, {table.stat().st_size / 1e6:.1f} MB"
        )
    else:
        print("   served recommendations: none (fitted before precompute, or turned off)")


def build_synthetic(home: Path, n_customers: int, per_customer: int, real_home: Path) -> None:
    """Customers, profiles, facts (SQL) + random fact vectors (Chroma) + a fitted recommender."""
    from datetime import datetime, timedelta

    import pandas as pd
    from sqlalchemy import insert, select

    from genpersona.data.catalog import load_items
    from genpersona.data.tables import Brand, CatalogItem, Customer, CustomerProfile, MemoryFact
    from genpersona.db.engine import get_engine, session_scope
    from genpersona.recs.recommender import Recommender
    from genpersona.vectors.base import MEMORY
    from genpersona.vectors.factory import get_vector_store

    if home.exists():
        shutil.rmtree(home)
    os.environ["GENPERSONA_HOME"] = str(home)
    _reset_process_state()
    t0 = time.perf_counter()
    engine = get_engine()
    # catalog copied from the real ingest so recommendations are realistic
    os.environ["GENPERSONA_HOME"] = str(real_home)
    _reset_process_state()
    with session_scope() as s:
        real_brand = s.scalar(select(Brand).where(Brand.slug == "giftloft"))
        items = load_items(s, real_brand)
    os.environ["GENPERSONA_HOME"] = str(home)
    _reset_process_state()
    engine = get_engine()
    now = datetime(2011, 12, 9)
    rng = np.random.default_rng(42)
    with engine.begin() as conn:
        brand_id = conn.execute(
            insert(Brand).values(slug="giftloft", name="Giftloft", created_at=now)
        ).inserted_primary_key[0]
        conn.execute(
            insert(CatalogItem),
            [
                {"brand_id": brand_id, "stock_code": r.stock_code, "description": r.description,
                 "price": r.price, "theme": r.theme, "n_orders": 0, "n_customers": 0,
                 "is_product": True}
                for r in items.itertuples()
            ],
        )  # fmt: skip
        conn.execute(
            insert(Customer),
            [
                {"id": i + 1, "brand_id": brand_id, "external_id": f"S{i:06d}",
                 "country": "United Kingdom", "locale": "en-GB", "timezone": "Europe/London",
                 "consent_personalization": True, "consent_email": True,
                 "consent_chat_memory": True, "source": "synthetic", "created_at": now,
                 "updated_at": now}
                for i in range(n_customers)
            ],
        )  # fmt: skip
        conn.execute(
            insert(CustomerProfile),
            [
                {"customer_id": i + 1, "brand_id": brand_id, "as_of": now, "recency_days": 30,
                 "frequency": 5, "monetary": 250.0, "n_returns": 0,
                 "favourite_themes": ["christmas"], "theme_shares": {"christmas": 0.5},
                 "typical_order_weekday": "Thursday", "typical_order_hour": 10,
                 "price_band": "mid", "computed_at": now}
                for i in range(n_customers)
            ],
        )  # fmt: skip
        templates = ["Favourite theme: christmas", "Orders mostly in November",
                     "Usually spends £15–30 per order", "Reorders the white metal lantern",
                     "Usually orders on Thursdays", "Mostly buys mid-priced items",
                     "Loyal customer: 12 orders", "Also often buys kitchen and baking",
                     "Buys in bulk", "Has not ordered since March"]  # fmt: skip
        batch = 100_000
        n_facts = n_customers * per_customer
        for start in range(0, n_facts, batch):
            conn.execute(
                insert(MemoryFact),
                [
                    {"id": f + 1, "brand_id": brand_id, "customer_id": f // per_customer + 1,
                     "text": f"{templates[f % len(templates)]} (#{f})", "kind": "note",
                     "source": "behaviour", "knowingly_shared": False, "provenance": {},
                     "created_at": now, "vector_id": f"mem:{f + 1}"}
                    for f in range(start, min(start + batch, n_facts))
                ],
            )  # fmt: skip
    t_sql = time.perf_counter() - t0
    store = get_vector_store()
    t1 = time.perf_counter()
    for start in range(0, n_facts, 20_000):
        end = min(start + 20_000, n_facts)
        vecs = rng.standard_normal((end - start, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.upsert(
            MEMORY,
            [f"mem:{f + 1}" for f in range(start, end)],
            vecs,
            [
                {"brand": "giftloft", "customer_id": f"S{f // per_customer:06d}"}
                for f in range(start, end)
            ],
        )
    t_vec = time.perf_counter() - t1
    # recommender: 5 purchases per synthetic customer of popular real items
    t2 = time.perf_counter()
    codes = items["stock_code"].to_numpy()
    weights = 1.0 / np.arange(1, len(codes) + 1)
    picks = rng.choice(len(codes), size=n_customers * 5, p=weights / weights.sum())
    purchases = pd.DataFrame(
        {
            "customer_id": [f"S{i // 5:06d}" for i in range(n_customers * 5)],
            "stock_code": codes[picks],
            "ts": [now - timedelta(days=int(d)) for d in rng.integers(0, 365, n_customers * 5)],
            "quantity": 1,
            "country": "United Kingdom",
        }
    )
    model = Recommender.fit(purchases, items, None)
    from genpersona.recs.store import recommender_path

    model.save(recommender_path("giftloft"))
    t_rec = time.perf_counter() - t2
    print(
        f"   built in {t_sql:.0f} s SQL ({n_customers:,} customers, {n_facts:,} facts), "
        f"{t_vec:.0f} s vectors ({n_facts / max(t_vec, 1e-9):.0f}/s), {t_rec:.0f} s recommender"
    )


def synthetic(
    home: Path,
    real_home: Path,
    n_customers: int,
    per_customer: int,
    calls: int,
    *,
    reuse: bool = False,
    baseline_calls: int | None = None,
) -> None:
    n_facts = n_customers * per_customer
    print(
        f"== synthetic: {n_customers:,} customers / {n_facts:,} memory facts "
        f"(random unit fact vectors; briefs embedded by {os.environ.get('GENPERSONA_EMBEDDER')}, cached)"
    )
    if reuse and (home / "genpersona.db").exists():
        print(f"   reusing the synthetic store in {home} (built by an earlier run)")
        os.environ["GENPERSONA_HOME"] = str(home)
    else:
        build_synthetic(home, n_customers, per_customer, real_home)
    _reset_process_state()
    customers = [f"S{i:06d}" for i in range(n_customers)]
    measure(f"synthetic ({n_customers:,} / {n_facts:,})", customers, calls, baseline_calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real-home", type=Path, default=Path("/tmp/genpersona-bench/real"))
    parser.add_argument(
        "--synthetic-home", type=Path, default=Path("/tmp/genpersona-bench/synthetic")
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--facts-per-customer", type=int, default=10)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument(
        "--reuse-synthetic",
        action="store_true",
        help="measure an existing synthetic store instead of rebuilding it (~13 min at 1M facts)",
    )
    parser.add_argument(
        "--baseline-calls",
        type=int,
        default=None,
        help="calls for the naive filtered baseline (default --calls; it takes seconds per call at 1M)",
    )
    args = parser.parse_args()
    os.environ.setdefault("GENPERSONA_EMBEDDER", "minilm")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not args.skip_real:
        real(args.real_home, args.calls)
    if not args.skip_synthetic:
        if not (args.real_home / "genpersona.db").exists():
            raise SystemExit("synthetic run copies the real catalog: run without --skip-real first")
        synthetic(
            args.synthetic_home,
            args.real_home,
            args.customers,
            args.facts_per_customer,
            args.calls,
            reuse=args.reuse_synthetic,
            baseline_calls=args.baseline_calls,
        )


if __name__ == "__main__":
    main()
