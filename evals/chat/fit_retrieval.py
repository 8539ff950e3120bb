"""Fit the chat's answer/hand-off decision on the dev part only (never a held-out file).

    python -m evals.chat.fit_retrieval [--dry-run]

For every dev case that reaches retrieval (``grounding.screen`` lets it through) this
computes each FAQ entry's dense and lexical scores once, then grid-searches the lexical
weight ``w``, the margin weight ``m`` and the threshold on the confidence
``top + m * (top - second)`` (genpersona/agent/passage_search.py). Objective, per case:

- answerable (``expect: answer``): +1 when the best entry is the named one and reaches the
  threshold; -2 when a *wrong* entry reaches it (a wrong answer is worse than a handoff);
- not answerable (``expect: handoff/decline``): -2 when any entry reaches it (it too
  would be answered from a passage that does not answer it).

Among the best (w, m) pairs the one with the widest run of equally good thresholds wins
(then the smaller weights), and the threshold is the middle of that run. Writes
``genpersona/agent/chat_retrieval.json`` for the configured embedder (the shipped MiniLM),
with the dev file's SHA-256 so a figure can name the data it was fitted on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from evals.chat.run import BRAND, HERE, load
from genpersona.agent.chat_input import focus_question
from genpersona.agent.deps import default_deps
from genpersona.agent.grounding import screen
from genpersona.agent.passage_search import PARAMS_PATH, RetrievalParams, rank
from genpersona.settings import get_settings
from genpersona.vectors.memory import InMemoryVectorStore

WEIGHTS = [round(x, 2) for x in np.arange(0.0, 0.51, 0.05)]
MARGINS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
THRESHOLDS = [round(x, 3) for x in np.arange(0.20, 1.20, 0.005)]
WRONG_PENALTY = 2.0


def case_scores(deps, guide, cases: list[dict]) -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """(case, dense per entry, lexical per entry) for the cases that reach retrieval."""
    raw = RetrievalParams(embedder=deps.embedder.name, lexical_weight=0.0)
    out = []
    for case in cases:
        if case["expect"] not in ("answer", "handoff", "decline") or screen(case["message"]):
            continue
        scored = sorted(
            rank(guide, focus_question(case["message"]), deps.embedder, deps.store, raw),
            key=lambda s: s.index,
        )
        out.append(
            (case, np.array([s.dense for s in scored]), np.array([s.lexical for s in scored]))
        )
    return out


def objective(rows, w: float, m: float, t: float) -> tuple[float, int, int, int]:
    """(objective, right answers, wrong answers, unanswerable answered)."""
    right = wrong = false = 0
    for case, dense, lexical in rows:
        score = (1 - w) * dense + w * lexical
        order = np.argsort(-score)
        best = int(order[0])
        if score[best] + m * (score[best] - score[order[1]]) < t:
            continue
        if case["expect"] == "answer":
            if f"faq:{best}" == case["faq"]:
                right += 1
            else:
                wrong += 1
        else:
            false += 1
    return right - WRONG_PENALTY * (wrong + false), right, wrong, false


def widest_run(values: list[float]) -> tuple[int, int]:
    """(start, length) of the longest run of maximal values."""
    top = max(values)
    best = (0, 0)
    start = None
    for i, v in enumerate([*values, float("-inf")]):
        if v == top and start is None:
            start = i
        elif v != top and start is not None:
            if i - start > best[1]:
                best = (start, i - start)
            start = None
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.chat.fit_retrieval")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    settings = get_settings()
    deps = default_deps(settings=settings)
    deps.store = InMemoryVectorStore()
    guide = deps.load_guide(BRAND)
    rows = case_scores(deps, guide, load("dev"))
    n_ans = sum(c["expect"] == "answer" for c, _, _ in rows)
    print(f"dev cases reaching retrieval: {len(rows)} ({n_ans} answerable) · "
          f"embedder {deps.embedder.name}")  # fmt: skip
    best: tuple[float, int, float, float, float] | None = None  # (objective, run, -w, -m, t)
    for w in WEIGHTS:
        for m in MARGINS:
            values = [objective(rows, w, m, t)[0] for t in THRESHOLDS]
            start, length = widest_run(values)
            key = (values[start], length, -w, -m, THRESHOLDS[start + length // 2])
            if best is None or key[:4] > best[:4]:
                best = key
    assert best is not None
    w, m, t = -best[2], -best[3], best[4]
    obj, right, wrong, false = objective(rows, w, m, t)
    print(f"chosen: lexical weight {w:.2f}, margin weight {m:.1f}, threshold {t:.3f} "
          f"(best objective {obj:.0f} for {best[1]} thresholds) -> right {right}/{n_ans}, "
          f"wrong passage {wrong}, unanswerable answered {false}")  # fmt: skip
    dev_file = HERE / "dataset.jsonl"
    digest = hashlib.sha256(dev_file.read_bytes()).hexdigest()[:16]
    params = RetrievalParams(
        embedder=deps.embedder.name,
        lexical_weight=w,
        margin_weight=m,
        threshold=t,
        fitted_on=f"evals/chat/dataset.jsonl sha256:{digest} ({len(rows)} cases)",
    )
    if args.dry_run:
        return 0
    path = Path(PARAMS_PATH)
    current = json.loads(path.read_text()) if path.exists() else {"embedders": {}}
    current["embedders"][params.embedder] = params.model_dump()
    path.write_text(json.dumps(current, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
