"""Real model lines for a labelled set: every candidate the product writes for some demo
customers, unlabelled, one JSON row per line.

    GENPERSONA_HOME=<copy of the demo home> nice -n 10 python -m evals.copy.sample_outputs \\
        --customers 10 --seed 48 --out /tmp/model_lines.jsonl [--kinds subject_line hero]

Customers are sampled as the copy eval samples them (``sample_customers``) with another
seed, and any customer who already has a row in a labelled set (``labelled.SETS``) is
skipped, so the lines are new. Each draft asks for as many variants as candidates are
written (``copy_candidates`` set to ``--n``), so every candidate is kept, not only the
ranking's best: a labelled set built from top variants alone would hold only what this
scorer already likes. Each row carries the draft's context terms as scoring reads them
(``scoring.context_terms``, for the echo rule), the customer, the recipe and the prompt
version, and no label: the rows are labelled by hand, by reading them, before any scorer
reads them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evals.copy.labelled import SETS, load
from genpersona.agent.context_stage import build_context
from genpersona.agent.deps import default_deps
from genpersona.agent.pipeline import generate
from genpersona.agent.sampling import sample_customers
from genpersona.agent.scoring import context_terms
from genpersona.cli.demo import ensure_demo_data
from genpersona.settings import get_settings
from genpersona.types.content import ContentRequest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10)
    ap.add_argument("--seed", type=int, default=48)
    ap.add_argument("--n", type=int, default=4, help="candidates written = variants kept")
    ap.add_argument("--kinds", nargs="+", default=["subject_line"])
    ap.add_argument("--brief", default="our new season gift picks")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    settings = get_settings().model_copy(
        update={"copy_candidates": args.n, "local_copy_candidates": args.n}
    )
    brand = settings.default_brand
    ensure_demo_data(brand, settings, quiet=True)
    seen = {str(r.get("customer")) for s in SETS for r in load(s) if r.get("customer")}
    ids = [c for c in sample_customers(brand, args.customers * 3, settings, seed=args.seed)
           if c not in seen][: args.customers]  # fmt: skip
    deps = default_deps(settings=settings)
    written = 0
    with args.out.open("a", encoding="utf-8") as fh:
        for i, cid in enumerate(ids):
            for kind in args.kinds:
                req = ContentRequest(brand=brand, kind=kind, customer_id=cid, brief=args.brief,
                                     n=args.n)  # fmt: skip
                try:
                    draft = generate(req, deps=deps, submit=False)
                    terms = context_terms(build_context(req, deps))
                except Exception as exc:  # a sample run counts failures instead of stopping
                    print(f"{cid} {kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                for v in draft.variants:
                    c = v.content
                    pairs = [("subject_line", c.subject), ("preheader", c.preheader)]
                    if kind == "hero":
                        pairs = [("hero", c.headline), ("subheadline", c.subheadline)]
                    for line_kind, text in pairs:
                        if not text or v.is_fallback or text.startswith("Featuring our "):
                            continue  # the guide's fallback and the pipeline's own line
                        fh.write(json.dumps({
                            "kind": line_kind, "text": text, "context": terms,
                            "source": "model:gemma-3-270m", "customer": cid,
                            "recipe": c.recipe_id, "prompt": draft.rationale.prompt_version,
                        }) + "\n")  # fmt: skip
                        written += 1
            print(f"  {i + 1}/{len(ids)} customers, {written} lines", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
