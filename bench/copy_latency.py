"""Subject-line draft latency with the local model, as a reviewer waits for it.

Runs the whole pipeline (context, prompts, ``copy_candidates`` candidates decoded
together in llama.cpp's parallel slots, guard, scoring, rationale; no queue write) for
real demo customers and prints p50/p95 of the draft's total time, the model's share,
the tokens per draft and the load average before and after. One warm-up draft first
(model load, first-graph cost, the brand's static prompt prefix into llama.cpp's cache).
Each configuration runs in a fresh process, because the server's slot count is fixed
when the model loads.

    GENPERSONA_HOME=<copy of the demo home> python bench/copy_latency.py \\
        [--customers 20] [--candidates 6] [--parallel 6] [--no-cache] [--json]

Time it alone: ``flock /tmp/bench.lock python bench/copy_latency.py ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=20)
    ap.add_argument("--candidates", type=int, default=None, help="default: the settings")
    ap.add_argument("--parallel", type=int, default=None, help="llama.cpp slots")
    ap.add_argument("--no-cache", action="store_true", help="prompt cache off (the old way)")
    ap.add_argument(
        "--sliding-kv",
        action="store_true",
        help="keep only the sliding window's KV (before 2026.12.3: no cached prefix reuse)",
    )
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (0 = cores)")
    ap.add_argument("--n-ctx", type=int, default=None, help="llama.cpp context (KV pool)")
    ap.add_argument("--n", type=int, default=3, help="variants shown")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from genpersona.agent import generation
    from genpersona.agent.deps import default_deps
    from genpersona.agent.pipeline import generate
    from genpersona.agent.sampling import sample_customers
    from genpersona.settings import get_settings
    from genpersona.types.content import ContentRequest

    settings = get_settings()
    update: dict = {}
    if args.candidates:  # exactly this many, whatever the backend's own cap
        update["copy_candidates"] = args.candidates
        update["local_copy_candidates"] = args.candidates
    if args.parallel:
        update["local_parallel"] = args.parallel
    if args.threads is not None:
        update["local_threads"] = args.threads
    if args.n_ctx:
        update["local_n_ctx"] = args.n_ctx
    settings = settings.model_copy(update=update)
    if args.no_cache:
        plan_for = generation.plan_for
        generation.plan_for = lambda kind, style: plan_for(kind, style).model_copy(  # type: ignore[assignment]
            update={"cache_prompt": False}
        )
    if args.sliding_kv:
        import functools

        from genpersona.llm import server

        server.LlamaServer.__init__ = functools.partialmethod(  # type: ignore[method-assign]
            server.LlamaServer.__init__, swa_full=False
        )
    # why candidates are re-asked (each re-ask is one more sequential model round)
    reask_rules: dict[str, int] = {}
    reask_note = generation.format_violations_for_prompt

    def counted(violations):  # type: ignore[no-untyped-def]
        for v in violations:
            reask_rules[v.rule_id] = reask_rules.get(v.rule_id, 0) + 1
        return reask_note(violations)

    generation.format_violations_for_prompt = counted  # type: ignore[assignment]
    brand = settings.default_brand
    ids = sample_customers(brand, args.customers + 1, settings, seed=11)
    deps = default_deps(settings=settings)
    load_before = os.getloadavg()

    def draft(cid: str):  # type: ignore[no-untyped-def]
        req = ContentRequest(brand=brand, kind="subject_line", customer_id=cid,
                             brief="our new season gift picks", n=args.n)  # fmt: skip
        return generate(req, deps=deps, submit=False)

    t0 = time.perf_counter()
    draft(ids[0])  # warm-up
    warm_s = time.perf_counter() - t0
    reask_rules.clear()
    totals, model, prompt_tok, out_tok, cands = [], [], [], [], []
    cached, calls, eval_ms, decode_ms, embed_ms = [], [], [], [], []
    stage_ms: dict[str, list[float]] = {}
    for cid in ids[1:]:
        d = draft(cid)
        t = d.trace
        totals.append(t.total_ms)
        model.append(t.model_ms)
        prompt_tok.append(t.prompt_tokens)
        out_tok.append(t.completion_tokens)
        cands.append(t.candidates)
        cached.append(t.cached_prompt_tokens)
        calls.append(t.model_calls)
        eval_ms.append(t.prompt_eval_ms)
        decode_ms.append(t.decode_ms)
        embed_ms.append(t.embed_ms)
        for st in t.stages:
            stage_ms.setdefault(st.stage, []).append(st.ms)
    out = {
        "drafts": len(totals),
        "candidates_per_draft": statistics.mean(cands) if cands else 0,
        "parallel_slots": settings.local_parallel,
        "prompt_cache": not args.no_cache,
        "full_kv": not args.sliding_kv,
        "warmup_s": round(warm_s, 2),
        "total_ms_p50": round(percentile(totals, 50)),
        "total_ms_p95": round(percentile(totals, 95)),
        "model_ms_p50": round(percentile(model, 50)),
        "prompt_tokens_per_draft": round(statistics.mean(prompt_tok)) if prompt_tok else 0,
        "completion_tokens_per_draft": round(statistics.mean(out_tok)) if out_tok else 0,
        # where the time goes (means per draft): prompt tokens evaluated vs served from the
        # cache, the server's own prompt-eval and decode clocks (summed over calls, so they
        # overlap across slots), model calls (candidates + re-asks), our time outside the model
        "cached_prompt_tokens_per_draft": round(statistics.mean(cached)) if cached else 0,
        "evaluated_prompt_tokens_per_draft": (
            round(statistics.mean(p - c for p, c in zip(prompt_tok, cached, strict=True)))
            if cached
            else 0
        ),
        "model_calls_per_draft": round(statistics.mean(calls), 2) if calls else 0,
        "server_prompt_eval_ms_per_draft": round(statistics.mean(eval_ms)) if eval_ms else 0,
        "server_decode_ms_per_draft": round(statistics.mean(decode_ms)) if decode_ms else 0,
        "outside_model_ms_p50": round(
            percentile([a - b for a, b in zip(totals, model, strict=True)], 50)
        ),
        "embed_ms_p50": round(percentile(embed_ms, 50)),
        "stage_ms_p50": {k: round(percentile(v, 50)) for k, v in stage_ms.items()},
        "threads": settings.local_threads,
        "reask_rules": dict(sorted(reask_rules.items(), key=lambda kv: -kv[1])),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"subject-line draft, {out['drafts']} customers, {out['candidates_per_draft']} "
            f"candidates, {out['parallel_slots']} slots, prompt cache {out['prompt_cache']}, "
            f"full KV {out['full_kv']}: "
            f"p50 {out['total_ms_p50']} ms, p95 {out['total_ms_p95']} ms (model p50 "
            f"{out['model_ms_p50']} ms; tokens/draft {out['prompt_tokens_per_draft']} in, "
            f"{out['completion_tokens_per_draft']} out); load {out['load_before']} -> "
            f"{out['load_after']}"
        )
        print(
            f"  split per draft: {out['model_calls_per_draft']} model calls; prompt tokens "
            f"{out['evaluated_prompt_tokens_per_draft']} evaluated + "
            f"{out['cached_prompt_tokens_per_draft']} from cache; server clocks (summed over "
            f"calls) prompt eval {out['server_prompt_eval_ms_per_draft']} ms, decode "
            f"{out['server_decode_ms_per_draft']} ms; outside the model p50 "
            f"{out['outside_model_ms_p50']} ms (embedder p50 {out['embed_ms_p50']} ms); "
            f"stages p50 {out['stage_ms_p50']}; re-asked for {out['reask_rules']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
