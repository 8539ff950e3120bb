"""Copy quality on real demo customers: the previous prompt version against the new one.

    python -m evals.copy.run --customers 100 [--n 3] [--json] [--skip-model]
        [--partial summary.json] [--drafts drafts.jsonl]   # rerun with --drafts to resume

Both arms run in the same process on the same customers with the same seeds (seeds
come from each request's key), through the configured (local) model:

- previous: prompts/archive/2026.11.2 (the "Customer likes: ..." prompts), 3 candidates
  written for 3 shown, the 2026.11 ranking (copy-quality weight 0);
- new: prompts/ (recipes, full-sentence shots, background line), ``copy_candidates``
  written and the best n shown, quality-weighted ranking (``--previous`` picks another
  archived version, e.g. 2026.12.1, for the "previous" arm).

Per arm: share of top variants that are keyword lists or fragments (judged by
``shape_rules``, independent rules, not the ranking's own classifier), echo rate, the
copy-quality scorer's mean, specificity (top variant vs own interests against 9 random
others, as evals/agent), guardrail first-try and final pass, fallbacks, latency per draft;
then the scorer's precision and recall on the labelled dev and held-out sets.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

from evals.agent.run import percentile, specificity_hit
from evals.copy.labelled import report as labelled_report

SCORERS = {
    "shape": "shape-rules-2026.12.1 (keyword list: >=2 separators and no chunk with a function "
    "word, or no function word at all in 3+ words; fragment: <3 words or ends on a dangling word)",
    "echo": "copy-quality-2026.12.5 echo >= 0.67 (verbatim context phrases or the prompt's framing)",
    "copied": "copy-quality-2026.12.5 copied >= 0.9 (a few-shot line of the prompt, a near copy, or a clause of 4+ words lifted from one)",
    "quality": "copy-quality-2026.12.5 (the ranking's own reading of the top variant)",
    "specificity": "specificity-1of10-2026.11.1 (as evals/agent)",
}
FUNCTION = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "your",
        "you",
        "our",
        "we",
        "it",
        "is",
        "are",
        "this",
        "that",
        "what",
        "how",
        "why",
        "when",
        "all",
        "every",
        "some",
        "one",
        "little",
        "new",
        "just",
        "so",
        "now",
        "can",
        "will",
        "be",
    ]
)
DANGLING = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "your",
        "our",
        "my",
    ]
)


def shape(text: str) -> str:
    """'keyword_list', 'fragment' or 'ok': rules a reader would apply at a glance."""
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*", text)
    low = [w.lower() for w in words]
    chunks = [c for c in re.split(r"[,;|]", text) if c.strip()]
    if len(chunks) >= 3 and not any(
        any(w.lower() in FUNCTION for w in re.findall(r"[A-Za-z']+", c)) for c in chunks[1:]
    ):
        return "keyword_list"
    if len(low) >= 3 and not any(w in FUNCTION for w in low):
        return "keyword_list"
    if len(low) < 3 or low[-1] in DANGLING or text.rstrip().endswith((",", "-", ":")):
        return "fragment"
    return "ok"


def draft_one(name: str, deps, cid: str, brand: str, n: int, brief: str):  # type: ignore[no-untyped-def]
    from genpersona.agent.pipeline import generate
    from genpersona.types.content import ContentRequest

    req = ContentRequest(brand=brand, kind="subject_line", customer_id=cid, brief=brief, n=n)
    return generate(req, deps=deps, submit=False)


def summarize(
    name: str, drafts: list, errors: list[str], deps, interests: dict[str, str], seed: int
) -> dict:  # type: ignore[no-untyped-def]
    from genpersona.agent.quality import assess

    tops = [d.top for d in drafts]
    shapes = [shape(v.content.main_text()) for v in tops]
    quality = [v.scores.quality if v.scores.quality else assess(v.content.main_text(), []).quality
               for v in tops]  # fmt: skip
    echo = [v.scores.echo >= 0.67 for v in tops]
    copied = [v.scores.copied >= 0.9 for v in tops]
    cand = sum(d.trace.candidates for d in drafts) or 1
    first = sum(d.trace.first_try_passed for d in drafts)
    fallbacks = sum(d.trace.fallbacks for d in drafts)
    totals = [d.trace.total_ms for d in drafts]
    arm = {
        "arm": name,
        "prompt_version": drafts[0].rationale.prompt_version if drafts else "",
        "drafts": len(drafts),
        "errors": errors,
        "candidates_per_draft": round(cand / max(1, len(drafts)), 2),
        "keyword_list_or_fragment_pct": round(
            100 * sum(s != "ok" for s in shapes) / max(1, len(shapes)), 1
        ),
        "keyword_list_pct": round(100 * shapes.count("keyword_list") / max(1, len(shapes)), 1),
        "fragment_pct": round(100 * shapes.count("fragment") / max(1, len(shapes)), 1),
        "echo_pct": round(100 * sum(echo) / max(1, len(echo)), 1),
        "copied_example_pct": round(100 * sum(copied) / max(1, len(copied)), 1),
        "quality_mean": round(float(np.mean(quality)), 3) if quality else 0.0,
        "guard_first_try_pct": round(100 * first / cand, 1),
        "guard_final_pass_pct": round(100 * (cand - fallbacks) / cand, 1),
        "fallback_pct": round(100 * fallbacks / cand, 1),
        "latency_ms_p50": round(percentile(totals, 50)),
        "latency_ms_p95": round(percentile(totals, 95)),
        "samples": [
            {
                "customer": d.customer_id,
                "recipe": d.top.content.recipe_id,
                "subject": d.top.content.subject,
                "preheader": d.top.content.preheader,
                "quality": d.top.scores.quality,
            }  # fmt: skip
            for d in drafts
        ],
    }
    add_specificity(arm, drafts, deps, interests, seed)
    return arm


def add_specificity(arm: dict, drafts: list, deps, interests: dict[str, str], seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    scored = [d for d in drafts if d.customer_id in interests]
    if not scored:
        arm["specificity_pct"] = 0.0
        return
    vecs = deps.embedder.embed([d.top.content.main_text() for d in scored])
    pool = [c for c in interests if c]
    needed = sorted({d.customer_id for d in scored} | set(pool))
    ivecs = dict(zip(needed, deps.embedder.embed([interests[c] for c in needed]), strict=True))
    hits = 0
    for j, d in enumerate(scored):
        others = rng.sample([c for c in pool if c != d.customer_id], 9)
        hits += specificity_hit(vecs[j], ivecs[d.customer_id], np.stack([ivecs[c] for c in others]))
    arm["specificity_pct"] = round(100 * hits / len(scored), 1)


def load_done(path: str | None) -> dict[str, dict[str, object]]:
    """Drafts a stopped run already wrote (``--drafts``): arm -> customer -> Draft or error."""
    from genpersona.types.content import Draft

    done: dict[str, dict[str, object]] = {}
    if not path or not Path(path).exists():
        return done
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        value = Draft.model_validate(rec["draft"]) if rec.get("draft") else str(rec["error"])
        done.setdefault(rec["arm"], {})[rec["customer"]] = value
    return done


def run(customers: int, n: int, brand: str | None, seed: int, previous: str = "2026.11.2",
        partial: str | None = None, drafts_path: str | None = None) -> dict:  # fmt: skip
    """Both arms customer by customer (previous, then new, for each), so a run stopped
    early still compares the same customers; ``partial`` gets the summary so far every
    five customers. With ``drafts_path`` every draft is appended there as it is made and a
    rerun with the same arguments resumes after the last customer both arms finished (so a
    long run can be done in pieces, each inside the benchmark lock's time)."""
    from genpersona.agent.deps import default_deps
    from genpersona.agent.lookups import other_interest_texts
    from genpersona.agent.sampling import sample_customers
    from genpersona.cli.demo import ensure_demo_data
    from genpersona.settings import get_settings

    settings = get_settings()
    brand = brand or settings.default_brand
    ensure_demo_data(brand, settings, quiet=True)
    ids = sample_customers(brand, customers, settings, seed=seed)
    brief = "our new season gift picks"
    arms_settings = {
        "previous": settings.model_copy(update={
            "prompts_dir": settings.prompts_dir / "archive" / previous,
            "copy_candidates": n, "copy_quality_weight": 0.0}),
        "new": settings,
    }  # fmt: skip
    interests = dict(other_interest_texts(brand, settings, limit=100_000))
    deps = {name: default_deps(settings=s) for name, s in arms_settings.items()}
    drafts: dict[str, list] = {name: [] for name in arms_settings}
    errors: dict[str, list[str]] = {name: [] for name in arms_settings}
    started = time.perf_counter()
    done_before = load_done(drafts_path)

    def record(name: str, cid: str, value: object) -> None:
        if not drafts_path:
            return
        rec = {"arm": name, "customer": cid}
        if isinstance(value, str):
            rec["error"] = value
        else:
            rec["draft"] = value.model_dump(mode="json")  # type: ignore[attr-defined]
        with open(drafts_path, "a") as fh:
            fh.write(json.dumps(rec, default=str) + "\n")

    def result(done: int) -> dict:
        return {
            "brand": brand,
            "customers": done,
            "customers_planned": len(ids),
            "scorers": SCORERS,
            "wall_s": round(time.perf_counter() - started, 1),
            "arms": [
                summarize(name, drafts[name], errors[name], deps[name], interests, seed)
                for name in arms_settings
            ],  # fmt: skip
        }

    for i, cid in enumerate(ids):
        for name in arms_settings:
            earlier = done_before.get(name, {}).get(cid)
            if earlier is not None:  # resumed: this arm already drafted this customer
                if isinstance(earlier, str):
                    errors[name].append(earlier)
                else:
                    drafts[name].append(earlier)
                continue
            try:
                made = draft_one(name, deps[name], cid, brand, n, brief)
                drafts[name].append(made)
                record(name, cid, made)
            except Exception as exc:  # an eval counts failures instead of stopping
                errors[name].append(f"{cid}: {type(exc).__name__}: {exc}")
                record(name, cid, errors[name][-1])
        print(f"  {i + 1}/{len(ids)} customers, both arms", file=sys.stderr, flush=True)
        if partial and ((i + 1) % 5 == 0 or i + 1 == len(ids)):
            Path(partial).write_text(json.dumps(result(i + 1), indent=1, default=str))
    return result(len(ids))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--brand", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-model", action="store_true", help="only the labelled sets")
    parser.add_argument("--previous", default="2026.11.2", help="archived prompt version")
    parser.add_argument("--partial", default=None, help="write the summary so far here")
    parser.add_argument(
        "--drafts", default=None, help="append every draft here (JSON lines); a rerun resumes"
    )
    args = parser.parse_args(argv)
    out: dict = {"labelled": labelled_report()}
    if not args.skip_model:
        out["pipeline"] = run(args.customers, args.n, args.brand, args.seed, args.previous,
                              args.partial, args.drafts)  # fmt: skip
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return 0
    for folder, by in out["labelled"].items():
        print(f"labelled/{folder}: {by['role']}")
        for gate, m in by.items():
            if gate == "role":
                continue
            print(f"  {gate:22s} rows {m['rows']}  accuracy {m['accuracy_pct']}%  "
                  f"precision {m['precision_pct']}%  recall {m['recall_pct']}%  errors {m['errors_by_reason']}")  # fmt: skip
    if "pipeline" in out:
        p = out["pipeline"]
        print(f"\n{p['customers']} customers of {p['brand']}, {p['wall_s']} s")
        for a in p["arms"]:
            print(
                f"[{a['arm']}] prompt {a['prompt_version']}  drafts {a['drafts']}  "
                f"candidates/draft {a['candidates_per_draft']}  errors {len(a['errors'])}"
            )
            print(
                f"  keyword list or fragment {a['keyword_list_or_fragment_pct']}% "
                f"(lists {a['keyword_list_pct']}%, fragments {a['fragment_pct']}%)  echo {a['echo_pct']}%  "
                f"copied example {a['copied_example_pct']}%  "
                f"quality mean {a['quality_mean']}  specificity {a['specificity_pct']}%"
            )
            print(
                f"  guard first-try {a['guard_first_try_pct']}%  final {a['guard_final_pass_pct']}%  "
                f"fallbacks {a['fallback_pct']}%  latency p50 {a['latency_ms_p50']} ms  p95 {a['latency_ms_p95']} ms"
            )
            for s in a["samples"][:12]:
                print(
                    f"    {s['customer']}: {s['subject']!r} / {s['preheader']!r}  [{s['recipe']}] q={s['quality']}"
                )
        # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
