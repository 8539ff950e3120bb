"""Calibrate the semantic creepy-line check's thresholds on the dev split (never held-out).

    python -m evals.guard.calibrate_semantic [--slack N]

For each margin on a grid, each topic's threshold is set just above the highest similarity
any dev *compliant* line (of every rule file, old and new) reaches for that topic while
beating its best innocent anchor by the margin, skipping the ``--slack`` highest (0: no dev
compliant line may be flagged). The margin with the best dev recall on the euphemism lines
wins. Prints the figures per margin and the ``CALIBRATED`` entry to paste into
genpersona/guard/semantic.py.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from evals.guard.run import Case, draft_text, load_cases
from genpersona.embeddings.factory import get_embedder
from genpersona.guard.compiled import compiled
from genpersona.guard.prototypes import TOPIC_PROTOTYPES
from genpersona.guard.semantic import SemanticGuard
from genpersona.guard.text import normalize, tokenize

MARGINS = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12]
FLOOR = 0.40  # below this MiniLM cosine, lines are unrelated whatever the margin


def _allowed(c: Case) -> set[str]:
    facts = normalize(" ".join(c.kwargs.get("shared_facts") or []))
    cg = compiled(c.guide)
    return {m.payload for m in cg.sensitive.find(facts, tokenize(facts))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slack", type=int, default=0, help="dev compliant lines allowed over")
    args = ap.parse_args(argv)
    cases = load_cases("dev")
    guard = SemanticGuard(get_embedder("minilm"))
    vecs = guard.embed([draft_text(c) for c in cases])
    topics = list(TOPIC_PROTOTYPES)
    sims = np.zeros((len(cases), len(topics)))
    innocent = np.zeros(len(cases))
    for i, v in enumerate(vecs):
        scores = guard.scores(v, topics)
        sims[i] = [s.similarity for s in scores]
        innocent[i] = scores[0].innocent
    usable = np.array(
        [[t in c.guide.sensitive.categories and t not in _allowed(c) for t in topics] for c in cases]
    )
    ok = np.array([c.label == "compliant" for c in cases])
    target = np.array([c.label == "violating" and c.category.startswith("euphemism") for c in cases])
    best: tuple[float, float, dict[str, float]] | None = None
    print(f"{'margin':>7}{'dev euphemism recall (semantic alone)':>40}  thresholds")
    for margin in MARGINS:
        thr: dict[str, float] = {}
        for j, t in enumerate(topics):
            above = sims[ok & usable[:, j] & (sims[:, j] - innocent >= margin), j]
            above = np.sort(above)[::-1]
            cut = above[args.slack] if len(above) > args.slack else FLOOR
            thr[t] = round(max(FLOOR, float(cut) + 0.005), 3)
        flagged = np.zeros(len(cases), dtype=bool)
        for j, t in enumerate(topics):
            flagged |= usable[:, j] & (sims[:, j] >= thr[t]) & (sims[:, j] - innocent >= margin)
        recall = float(flagged[target].mean())
        false = int((flagged & ok).sum())
        print(f"{margin:>7.2f}{recall:>40.3f}  {thr}  (dev compliant flagged: {false})")
        if best is None or recall > best[0] + 1e-9:
            best = (recall, margin, thr)
    assert best is not None
    recall, margin, thr = best
    print(f"\nbest margin {margin} (dev euphemism recall {recall:.3f}); paste into semantic.py:")
    print(f'CALIBRATED = {{"{guard.embedder.name}": ({thr}, {margin})}}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
