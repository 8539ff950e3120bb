"""Evaluate the personalization agent on real demo customers with the configured (local) model.

    python -m evals.agent.run --customers 100 [--n 3] [--heroes 10] [--json]

Prints, each with the version of the scorer that produced it:
- guardrails: first-try and final pass rates per candidate, share of fallbacks;
- specificity: is a customer's top subject line closer to their own interests
  than to those of 9 random other customers? (accuracy vs 10% chance), with a
  control of generic, unpersonalised copy scored the same way;
- grounding: share of hero drafts whose featured items all exist in the catalog;
- latency per draft p50/p95, pipeline overhead excluding model time p95, and
  drafts per minute on this machine.
Drafts are not queued (``submit=False``) so a run leaves the review queue as it was.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

import numpy as np

SCORERS = {
    "guard_pass": "guard-pass-2026.11.1 (per candidate; final = passed after autofix/re-ask, not fallback)",
    "specificity": "specificity-1of10-2026.11.1 (MiniLM cosine: top variant vs favourite-theme text, own vs 9 random others)",
    "grounding": "grounding-2026.11.1 (every featured stock code found in the brand's catalog table)",
    "latency": "latency-2026.11.3 (Trace.total_ms; overhead = total - union of LLM-call intervals; "
    "also minus embedder time: total - union of LLM and embedder intervals)",
}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def specificity_hit(vec: np.ndarray, own: np.ndarray, others: np.ndarray) -> bool:
    """True when the draft is closer to its own customer than to every one of the others."""
    return bool(float(own @ vec) > float(np.max(others @ vec)))


def specificity(drafts: list, generic: list, interests: dict, embedder: object, seed: int) -> dict:
    """Own interests vs 9 random others (judged by ``embedder``, MiniLM), with the generic
    control; the same ``seed`` draws the same others for every scorer compared."""
    rng = random.Random(seed)
    pool = [c for c in interests if c]
    scored = [d for d in drafts if d.customer_id in interests]
    texts = [d.top.content.main_text() for d in scored] + [
        g.top.content.main_text() for g in generic
    ]
    vecs = embedder.embed(texts) if texts else np.zeros((0, embedder.dim))  # type: ignore[attr-defined]
    needed = sorted({d.customer_id for d in scored} | set(pool))
    ivecs = dict(zip(needed, embedder.embed([interests[c] for c in needed]), strict=True))  # type: ignore[attr-defined]
    hits, generic_hits = 0, 0
    for j, d in enumerate(scored):
        others = rng.sample([c for c in pool if c != d.customer_id], 9)
        other_vecs = np.stack([ivecs[c] for c in others])
        hits += specificity_hit(vecs[j], ivecs[d.customer_id], other_vecs)
        g = vecs[len(scored) + j % len(generic)]
        generic_hits += specificity_hit(g, ivecs[d.customer_id], other_vecs)
    return {
        "customers_scored": len(scored),
        "accuracy": round(hits / len(scored), 3) if scored else None,
        "generic_copy_accuracy": round(generic_hits / len(scored), 3) if scored else None,
        "chance": 0.1,
    }


def compare_scorers(
    names: list[str], ids: list[str], brand: str, n: int, brief: str, deps: object,
    interests: dict, seed: int,
) -> dict:  # fmt: skip
    """The first pass's candidates (replayed, not decoded again) ranked by each scorer in
    ``names``; specificity judged by the main embedder (MiniLM) for all of them."""
    from dataclasses import replace

    from genpersona.agent.pipeline import generate
    from genpersona.agent.trace import timed
    from genpersona.embeddings.factory import get_caching_embedder
    from genpersona.types.content import ContentRequest

    deps.llm.replaying = True  # type: ignore[attr-defined]
    out = {}
    for name in names:
        scorer = timed(get_caching_embedder(name, settings=deps.settings))  # type: ignore[attr-defined]
        d2 = replace(deps, scorer=scorer)  # type: ignore[type-var]
        drafts, generic = [], []
        for cid in ids:
            try:
                drafts.append(generate(ContentRequest(brand=brand, kind="subject_line", customer_id=cid,
                                                      brief=brief, n=n), deps=d2, submit=False))  # fmt: skip
            except Exception:  # counted by the first pass already
                continue
        for k in range(10):
            generic.append(generate(ContentRequest(brand=brand, kind="subject_line", brief=brief,
                                                   campaign=f"generic-{k}", n=1), deps=d2, submit=False))  # fmt: skip
        out[name] = specificity(drafts, generic, interests, deps.embedder, seed)  # type: ignore[attr-defined]
        out[name]["scorer"] = scorer.name
    return out


def run(
    customers: int, n: int, heroes: int, brand: str | None, seed: int, repeat: int = 1,
    scorers: list[str] | None = None,
) -> dict:  # fmt: skip
    from genpersona.agent.deps import default_deps
    from genpersona.agent.lookups import other_interest_texts
    from genpersona.agent.pipeline import generate
    from genpersona.agent.sampling import sample_customers
    from genpersona.cli.demo import ensure_demo_data
    from genpersona.settings import get_settings
    from genpersona.types.content import ContentRequest

    settings = get_settings()
    brand = brand or settings.default_brand
    ensure_demo_data(brand, settings, quiet=True)
    ids = sample_customers(brand, customers, settings, seed=seed)
    deps = default_deps(settings=settings)
    if scorers:  # record the model's answers, so other scorers rank the same candidates
        from evals.agent.replay import RecordingLLM

        deps = default_deps(RecordingLLM(deps.llm), settings)
    # what a server or campaign job does once before its first request (measured, reported)
    from genpersona.context.retrieval import warm_context

    warm = warm_context(brand, settings)
    interests = dict(other_interest_texts(brand, settings, limit=100_000))
    brief = "our new season gift picks"

    drafts, errors = [], []
    started = time.perf_counter()
    for i, cid in enumerate(ids):
        try:
            drafts.append(generate(ContentRequest(brand=brand, kind="subject_line", customer_id=cid,
                                                  brief=brief, n=n), deps=deps, submit=False))  # fmt: skip
        except Exception as exc:  # an eval counts failures instead of stopping
            errors.append(f"{cid}: {type(exc).__name__}: {exc}")
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{len(ids)} customers", file=sys.stderr, flush=True)
    hero_drafts = []
    for cid in ids[:heroes]:
        try:
            hero_drafts.append(generate(ContentRequest(brand=brand, kind="hero", customer_id=cid,
                                                       brief=brief, n=2), deps=deps, submit=False))  # fmt: skip
        except Exception as exc:
            errors.append(f"hero {cid}: {type(exc).__name__}: {exc}")
    # extra passes over the same requests add latency samples only (quality is scored on
    # the first pass): one pass gives 110 drafts, so its p95 rests on the slowest six
    extra: list = []
    for _ in range(repeat - 1):
        for kind, cids, k in (("subject_line", ids, n), ("hero", ids[:heroes], 2)):
            for cid in cids:
                try:
                    extra.append(generate(ContentRequest(brand=brand, kind=kind, customer_id=cid,
                                                         brief=brief, n=k), deps=deps, submit=False))  # fmt: skip
                except Exception as exc:
                    errors.append(f"repeat {kind} {cid}: {type(exc).__name__}: {exc}")
    generic = [
        generate(
            ContentRequest(
                brand=brand, kind="subject_line", brief=brief, campaign=f"generic-{k}", n=1
            ),
            deps=deps,
            submit=False,
        )  # fmt: skip
        for k in range(10)
    ]
    wall = time.perf_counter() - started

    all_drafts = drafts + hero_drafts
    cand = sum(d.trace.candidates for d in all_drafts) or 1
    first = sum(d.trace.first_try_passed for d in all_drafts)
    fallbacks = sum(d.trace.fallbacks for d in all_drafts)

    # specificity: own interests vs 9 random others, same embedder as the pipeline
    spec = specificity(drafts, generic, interests, deps.embedder, seed)
    by_scorer = (
        compare_scorers(scorers, ids, brand, n, brief, deps, interests, seed) if scorers else {}
    )

    grounded = 0
    for d in hero_drafts:
        codes = {f.stock_code for v in d.variants for f in v.content.featured_items}
        found = deps.catalog_items(brand, sorted(codes), settings)
        grounded += bool(codes) and all(c in found for c in codes)

    timed = all_drafts + extra
    totals = [d.trace.total_ms for d in timed]
    overheads = [max(0.0, d.trace.total_ms - d.trace.model_ms) for d in timed]
    no_models = [max(0.0, d.trace.total_ms - d.trace.models_ms) for d in timed]
    stage_ms: dict[str, list[float]] = {}
    for d in timed:
        for st in d.trace.stages:
            stage_ms.setdefault(st.stage, []).append(st.ms)
    return {
        "brand": brand,
        "model": f"{deps.llm.backend}:{deps.llm.model}",
        "embedder": deps.embedder.name,
        "prompt_version": drafts[0].rationale.prompt_version if drafts else "",
        "scorers": SCORERS,
        "customers": len(ids),
        "drafts": len(all_drafts),
        "timed_drafts": len(timed),
        "passes": repeat,
        "candidates": cand,
        "errors": errors,
        "guard": {
            "first_try_pass_rate": round(first / cand, 3),
            "final_pass_rate": round((cand - fallbacks) / cand, 3),
            "fallback_share": round(fallbacks / cand, 3),
            "violations_caught": sum(d.trace.violations_caught for d in all_drafts),
        },
        "specificity": spec,
        "specificity_by_scorer": by_scorer,
        "grounding": {
            "hero_drafts": len(hero_drafts),
            "share_all_items_in_catalog": round(grounded / len(hero_drafts), 3)
            if hero_drafts
            else None,
        },
        "latency_ms": {
            "p50": round(percentile(totals, 50), 1),
            "p95": round(percentile(totals, 95), 1),
            "overhead_p50": round(percentile(overheads, 50), 2),
            "overhead_p95": round(percentile(overheads, 95), 2),
            "overhead_excl_embedder_p50": round(percentile(no_models, 50), 2),
            "overhead_excl_embedder_p95": round(percentile(no_models, 95), 2),
            "embed_p50": round(percentile([d.trace.embed_ms for d in all_drafts], 50), 2),
            "stages_p50": {k: round(percentile(v, 50), 2) for k, v in stage_ms.items()},
            "stages_p95": {k: round(percentile(v, 95), 2) for k, v in stage_ms.items()},
            "mean_model_ms": round(statistics.fmean([d.trace.model_ms for d in timed]), 1)
            if timed
            else 0,
        },
        "warm_up": warm,
        "drafts_per_minute": round((len(timed) + len(generic)) / (wall / 60), 1) if wall else 0,
        "wall_s": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("-n", type=int, default=3, help="subject-line variants per customer")
    parser.add_argument("--heroes", type=int, default=10, help="hero drafts (grounding check)")
    parser.add_argument("--brand", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="passes over the same requests for latency (quality is scored on the first)",
    )
    parser.add_argument(
        "--scorers",
        default="",
        help="e.g. minilm,static: the same candidates ranked by each scorer, specificity side by side",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    scorers = [x for x in args.scorers.split(",") if x]
    result = run(args.customers, args.n, args.heroes, args.brand, args.seed, args.repeat, scorers)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    g, s, gr, lat = (
        result["guard"],
        result["specificity"],
        result["grounding"],
        result["latency_ms"],
    )
    print(
        f"agent eval · {result['model']} · {result['embedder']} · prompt {result['prompt_version']}"
    )
    print(f"customers {result['customers']}, drafts {result['drafts']}, candidates {result['candidates']}, "
          f"errors {len(result['errors'])}")  # fmt: skip
    print(f"guardrails  first-try pass {g['first_try_pass_rate']:.1%}  final pass {g['final_pass_rate']:.1%}  "
          f"fallbacks {g['fallback_share']:.1%}  violations caught {g['violations_caught']}")  # fmt: skip
    if s["accuracy"] is not None:
        print(f"specificity 1-of-10 accuracy {s['accuracy']:.1%} (generic copy {s['generic_copy_accuracy']:.1%}, "
              f"chance 10%) over {s['customers_scored']} customers")  # fmt: skip
    for name, sp in result["specificity_by_scorer"].items():
        print(f"  scored by {name:8s} ({sp['scorer']}): specificity {sp['accuracy']:.1%} "
              f"(generic {sp['generic_copy_accuracy']:.1%}) over {sp['customers_scored']} "
              "customers, same candidates, judged by the main embedder")  # fmt: skip
    if gr["share_all_items_in_catalog"] is not None:
        print(
            f"grounding   {gr['share_all_items_in_catalog']:.1%} of {gr['hero_drafts']} hero drafts feature only catalog items"
        )
    print(f"latency     over {result['timed_drafts']} drafts ({result['passes']} pass(es)): "
          f"p50 {lat['p50']:.0f} ms  p95 {lat['p95']:.0f} ms  overhead excl. model "
          f"p50 {lat['overhead_p50']:.1f} ms  p95 {lat['overhead_p95']:.1f} ms")  # fmt: skip
    print(f"            excl. LLM and embedder p50 {lat['overhead_excl_embedder_p50']:.1f} ms  "
          f"p95 {lat['overhead_excl_embedder_p95']:.1f} ms (embedder p50 {lat['embed_p50']:.1f} ms)")  # fmt: skip
    print("            stages p50/p95 ms: " + ", ".join(
        f"{k} {v:.1f}/{lat['stages_p95'][k]:.1f}" for k, v in lat["stages_p50"].items()))  # fmt: skip
    print(f"throughput  {result['drafts_per_minute']} drafts/min (wall {result['wall_s']} s)")
    print(f"warm-up     {result['warm_up']['ms']:.0f} ms once per process before the first draft "
          f"({result['warm_up']['fact_vectors']} common fact vectors loaded)")  # fmt: skip
    for name, version in result["scorers"].items():
        print(f"  scorer {name}: {version}")
    for e in result["errors"][:5]:
        print(f"  error: {e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
