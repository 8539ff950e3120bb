"""Recommendation quality on UCI Online Retail: tuned blend vs a popularity baseline.

    python -m evals.recs.run [--data PATH] [--limit N] [--embedder minilm|fake] [--no-tune]
                             [--objective both|all|new] [--json]

1. Tune on a validation split carved from the training period only
   (fit < 2011-07-01, score purchases 2011-07-01..2011-09-01).
2. Refit on everything before 2011-09-01 with the tuned parameters and score the
   held-out purchases from 2011-09-01 to the end of the data, side by side with
   the popularity baselines, in the same run.
(The learned second-stage re-ranker was deleted in session 6: no user-facing figure
gained 5%; its last figures are in docs/experiments/recommender-rounds.md.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evals.recs.evaluate import (
    EXCLUDE_RECENT_DAYS,
    PROTOCOLS,
    Score,
    popularity_fn,
    recommender_fn,
    score,
    score_cold_start,
    tune,
)
from evals.recs.split import make_split
from genpersona.recs.models import RecParams
from genpersona.recs.recommender import Recommender
from genpersona.recs.retail import load_online_retail
from genpersona.settings import get_settings

TEST_CUTOFF = "2011-09-01"
VAL_CUTOFF = "2011-07-01"


def item_vectors(items: pd.DataFrame, embedder_name: str, log) -> np.ndarray:
    """Embed descriptions once; cached under the home dir keyed by embedder and texts."""
    from genpersona.embeddings.factory import get_embedder

    texts = items["description"].fillna("").str.lower().tolist()
    key = hashlib.sha1(("\n".join(texts) + embedder_name).encode()).hexdigest()[:16]
    cache = get_settings().home_dir / "cache" / f"recs_item_vectors_{embedder_name}_{key}.npy"
    if cache.exists():
        log(f"item vectors: {embedder_name}, {len(texts)} descriptions (cached {cache})")
        return np.load(cache)
    start = time.perf_counter()
    vectors = get_embedder(embedder_name).embed(texts)
    log(
        f"item vectors: {embedder_name}, {len(texts)} descriptions in {time.perf_counter() - start:.1f} s"
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def methods(rec: Recommender, split) -> dict[str, object]:
    out = {
        "popularity (all-time, global)": popularity_fn(split),
        "popularity (recent, country)": recommender_fn(
            rec.with_params(w_co_purchase=0.0, w_content=0.0, w_popular=1.0, w_trend=0.0), split
        ),
        "co-purchase only": recommender_fn(
            rec.with_params(w_co_purchase=1.0, w_content=0.0, w_popular=0.0, w_trend=0.0), split
        ),
    }
    if rec.content is not None:
        out["content only"] = recommender_fn(
            rec.with_params(w_co_purchase=0.0, w_content=1.0, w_popular=0.0, w_trend=0.0), split
        )
    out["blend (tuned)"] = recommender_fn(rec, split)
    return out


def recommend_latency_ms(rec: Recommender, split) -> dict[str, float]:
    """Wall time of one recommend() call for each evaluated customer (what context_for pays)."""
    times = []
    for customer in split.customers("all"):
        start = time.perf_counter()
        rec.recommend(customer, 10, when=split.cutoff)
        times.append((time.perf_counter() - start) * 1000)
    arr = np.array(times) if times else np.zeros(1)
    return {
        "calls": len(times),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": float(arr.max()),
    }


def print_table(title: str, rows: list[Score], baseline: dict[str, Score]) -> None:
    """Ratios are against the classic popularity baseline of the same protocol."""
    print(f"\n{title}")
    print(
        f"{'method':32} {'protocol':10} {'customers':>9} {'HR@10':>7} {'NDCG@10':>8} "
        f"{'HR x pop':>9} {'NDCG x pop':>11}"
    )
    for r in rows:
        base = baseline.get(r.protocol)
        hr_ratio = f"{r.hr / base.hr:.2f}x" if base and base.hr else "n/a"
        nd_ratio = f"{r.ndcg / base.ndcg:.2f}x" if base and base.ndcg else "n/a"
        print(
            f"{r.method:32} {r.protocol:10} {r.customers:9d} {r.hr:7.4f} {r.ndcg:8.4f} "
            f"{hr_ratio:>9} {nd_ratio:>11}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.recs.run", description=__doc__)
    parser.add_argument(
        "--data", type=Path, default=get_settings().data_dir / "online_retail.parquet"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="evaluate at most N customers per split"
    )
    parser.add_argument("--embedder", choices=("minilm", "fake"), default="minilm")
    parser.add_argument(
        "--no-tune", action="store_true", help="skip validation tuning, use RecParams defaults"
    )
    parser.add_argument(
        "--objective",
        choices=("both", *PROTOCOLS),
        default="both",
        help="validation objective: mean HR@10 of both protocols (default), or one of them",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON only")
    args = parser.parse_args(argv)
    protocols = PROTOCOLS if args.objective == "both" else (args.objective,)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr if args.json else sys.stdout, flush=True)

    started = time.perf_counter()
    purchases, items = load_online_retail(args.data)
    log(f"data: {args.data} ({len(purchases)} purchase rows, {len(items)} products after cleaning)")
    vectors = item_vectors(items, args.embedder, log)

    tuned: dict[str, object] = {}
    validation: list[Score] = []
    val = make_split(purchases, VAL_CUTOFF, TEST_CUTOFF, name="validation", limit=args.limit)
    if not args.no_tune:
        log(
            f"tuning on validation split: fit < {VAL_CUTOFF}, score {VAL_CUTOFF}..{TEST_CUTOFF}, "
            f"{len(val.held_all)} customers (objective: mean HR@10 of protocol(s) "
            f"{'/'.join(protocols)})"
        )
        tuned, val_score = tune(items, vectors, val, log, protocols)
        log(f"tuned parameters: {tuned} (validation objective {val_score:.4f})")
        val_rec = Recommender.fit(
            val.train, items, vectors, now=val.cutoff, params=RecParams(**tuned)
        )
    else:
        val_rec = Recommender.fit(val.train, items, vectors, now=val.cutoff, params=RecParams())
    val_methods = {
        "popularity (all-time, global)": popularity_fn(val),
        "blend (tuned)": recommender_fn(val_rec, val),
    }
    validation = [
        score(name, fn, val, protocol) for protocol in PROTOCOLS for name, fn in val_methods.items()
    ]
    params = RecParams(**tuned)

    test = make_split(purchases, TEST_CUTOFF, name="test", limit=args.limit)
    rec = Recommender.fit(test.train, items, vectors, now=test.cutoff, params=params)
    rows = [
        score(name, fn, test, protocol)
        for protocol in PROTOCOLS
        for name, fn in methods(rec, test).items()
    ]
    cold = score_cold_start(rec, test)
    latency = recommend_latency_ms(rec, test)
    base_rows = {r.protocol: r for r in rows if r.method.startswith("popularity (all-time")}
    base_rows["newcomers"] = cold[1]
    baseline = {p: r.hr for p, r in base_rows.items()}
    strong = {r.protocol: r.hr for r in rows if r.method.startswith("popularity (recent")}
    blend = {r.protocol: r.hr for r in rows if r.method == "blend (tuned)"}
    result = {
        "data": str(args.data),
        "embedder": args.embedder,
        "test_cutoff": TEST_CUTOFF,
        "validation_cutoff": VAL_CUTOFF,
        "objective": args.objective,
        "tuned": tuned,
        "validation_rows": [r.__dict__ for r in validation],
        "params": params.model_dump(),
        "rows": [r.__dict__ for r in [*rows, *cold]],
        "blend_vs_popularity_hr": {p: blend[p] / baseline[p] for p in PROTOCOLS if baseline[p]},
        "blend_vs_recent_popularity_hr": {p: blend[p] / strong[p] for p in PROTOCOLS if strong[p]},
        # HR@10 cannot exceed 1, so against a baseline at HR b the best possible ratio is 1/b.
        "hr_ratio_ceiling": {p: 1.0 / baseline[p] for p in PROTOCOLS if baseline[p]},
        "recommend_latency_ms": latency,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(
        f"\nTEST: fit on purchases before {TEST_CUTOFF}, score held-out purchases "
        f"{TEST_CUTOFF}..end of data; parameters tuned on the validation split only; "
        f"embedder={args.embedder}; exclusion: 'all' drops items bought in the last "
        f"{EXCLUDE_RECENT_DAYS} days, 'new' drops everything bought before the cutoff"
    )
    if validation and args.no_tune:
        print("VALIDATION rows use RecParams defaults (--no-tune), which are the tuned values")
    if validation:
        val_base = {r.protocol: r for r in validation if r.method.startswith("popularity")}
        print_table(
            f"VALIDATION (the split the parameters were tuned on; objective {args.objective})",
            validation,
            val_base,
        )
    print_table("TEST: customers with purchases on both sides", rows, base_rows)
    print_table(
        "Cold start: customers whose first purchase is after the cutoff", list(cold), base_rows
    )
    for p in PROTOCOLS:
        print(
            f"blend HR@10 / popularity HR@10 ({p}): {result['blend_vs_popularity_hr'][p]:.2f}x "
            f"(target >= 2x; highest possible here {result['hr_ratio_ceiling'][p]:.2f}x, "
            f"as HR@10 <= 1); vs recent-country popularity: "
            f"{result['blend_vs_recent_popularity_hr'][p]:.2f}x"
        )
    print(
        f"recommend() latency over {latency['calls']} calls: p50 {latency['p50']:.2f} ms, "
        f"p95 {latency['p95']:.2f} ms, max {latency['max']:.2f} ms (single process, this host)"
    )
    print(f"total {result['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
