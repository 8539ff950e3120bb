"""Every scored candidate of a draft, not only the ones shown: is a miss the ranking's or the
writing's? For each of N demo customers one subject-line draft keeps all its candidates
(n = the number written), and each candidate's subject is judged as ``evals.copy.run``
judges the top one (specificity: closer to the customer's own themes than to each of 9
random others'). Prints the top variant's figures beside what the pool held.

    python -m evals.copy.candidate_pool --customers 80 --seed 13 [--out pool.json]

``GENPERSONA_LOCAL_COPY_CANDIDATES`` / ``GENPERSONA_LOCAL_PARALLEL`` vary how many are
written; session 10 compared 4 against 6 with it (docs/experiments/copy-eval-s10/).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

import numpy as np

from evals.agent.run import specificity_hit
from genpersona.agent.deps import default_deps
from genpersona.agent.generation import written_count
from genpersona.agent.lookups import other_interest_texts
from genpersona.agent.pipeline import generate
from genpersona.agent.quality import SENDABLE_THRESHOLD
from genpersona.agent.sampling import sample_customers
from genpersona.cli.demo import ensure_demo_data
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest

BRIEF = "our new season gift picks"


def collect(customers: int, seed: int) -> list[dict]:
    settings = get_settings()
    brand = settings.default_brand
    ensure_demo_data(brand, settings, quiet=True)
    deps = default_deps(settings=settings)
    interests = dict(other_interest_texts(brand, settings, limit=100_000))
    pool = list(interests)
    ivecs = dict(zip(pool, deps.embedder.embed([interests[c] for c in pool]), strict=True))
    rng = random.Random(seed)
    written = written_count("subject_line", 3, settings, deps.llm)
    rows = []
    for i, cid in enumerate(sample_customers(brand, customers, settings, seed=seed)):
        req = ContentRequest(
            brand=brand, kind="subject_line", customer_id=cid, brief=BRIEF, n=written
        )
        draft = generate(req, deps=deps, submit=False)
        hits: list[bool | None] = [None] * len(draft.variants)
        if cid in interests:
            others = rng.sample([c for c in pool if c != cid], 9)
            other_vecs = np.stack([ivecs[c] for c in others])
            vecs = deps.embedder.embed([v.content.main_text() for v in draft.variants])
            hits = [specificity_hit(v, ivecs[cid], other_vecs) for v in vecs]
        rows.append({
            "customer": cid,
            "interests": interests.get(cid),
            "ms": draft.trace.total_ms,
            "candidates": [
                {"subject": v.content.subject, "preheader": v.content.preheader,
                 "recipe": v.content.recipe_id, "scores": v.scores.model_dump(), "hit": h}
                for v, h in zip(draft.variants, hits, strict=True)
            ],
        })  # fmt: skip
        print(f"  {i + 1}/{customers}", file=sys.stderr, flush=True)
    return rows


def summary(rows: list[dict]) -> dict:
    judged = [r for r in rows if r["candidates"] and r["candidates"][0]["hit"] is not None]
    tops = [r["candidates"][0] for r in rows if r["candidates"]]  # variants come best first
    n = max(1, len(judged))
    sendable = [[c for c in r["candidates"] if c["scores"]["quality"] >= SENDABLE_THRESHOLD]
                for r in judged]  # fmt: skip
    return {
        "customers": len(rows),
        "candidates_per_draft": round(statistics.mean(len(r["candidates"]) for r in rows), 2),
        "top_specific_pct": round(100 * sum(r["candidates"][0]["hit"] for r in judged) / n, 1),
        "any_specific_pct": round(100 * sum(any(c["hit"] for c in r["candidates"]) for r in judged) / n, 1),
        "any_sendable_specific_pct": round(100 * sum(any(c["hit"] for c in s) for s in sendable) / n, 1),
        "top_quality_mean": round(statistics.mean(t["scores"]["quality"] for t in tops), 3),
        "top_sendable_pct": round(100 * sum(t["scores"]["quality"] >= SENDABLE_THRESHOLD for t in tops) / len(tops), 1),
        "top_without_preheader_pct": round(100 * sum(not t["preheader"] for t in tops) / len(tops), 1),
        "latency_ms_p50": round(statistics.median(r["ms"] for r in rows)),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=80)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help="every candidate, as JSON")
    args = parser.parse_args(argv)
    rows = collect(args.customers, args.seed)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, default=str))
    print(json.dumps(summary(rows), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
