"""Fit the semantic creepy-line classifier for MiniLM and choose its thresholds (dev only).

    python -m evals.guard.train_semantic [--slack N] [--c C] [--dry-run]

Training lines: the prototypes and innocent anchors of genpersona/guard/prototypes.py plus
every dev eval line of the guard (evals/guard/data/, never heldout/): compliant lines as
"none", euphemism lines as their topic (identity lines: the closest of religion, ethnicity and
sexuality by the built-in-lines model), creepy-rule lines as the category the word rules
report. Lines with shared facts are left out (the topic is allowed there).

Thresholds: 5-fold out-of-fold probabilities; per topic, just above the ``--slack``-th highest
probability any dev compliant line gets (0: no compliant line would be blocked), never
below 0.5. Writes genpersona/guard/semantic_models/minilm.npz and prints out-of-fold recall.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold

from evals.guard.run import draft_text, load_cases
from genpersona.embeddings.factory import get_embedder
from genpersona.guard.engine import check
from genpersona.guard.semantic import FIT_C, MODELS_DIR, NONE, TopicModel, fit, training_lines

GROUPS = {
    "pregnancy": ["pregnancy"],
    "health": ["health"],
    "life_events": ["life_events"],
    "identity": ["religion", "ethnicity", "sexuality"],
    "money": ["financial_distress"],
    "surveillance": ["surveillance"],
}
FLOOR = 0.5


def dev_lines(
    base: TopicModel, vecs_of: dict[str, np.ndarray]
) -> tuple[list[str], list[str], list[bool]]:
    texts, labels, euphemism = [], [], []
    topics = [t for t in base.classes if t != NONE]
    for c in load_cases("dev"):
        if c.kwargs.get("shared_facts"):
            continue
        text = draft_text(c)
        if c.label == "compliant":
            label = NONE
        elif c.category.startswith("euphemism"):
            options = GROUPS[c.category.split(".", 1)[1]]
            probs = dict(zip(base.classes, base.probabilities(vecs_of[text]), strict=True))
            label = max(options, key=lambda t: probs[t])
        elif c.rule == "creepy":
            found = [
                v.rule_id.split(".", 1)[1]
                for v in check(c.content, c.guide, **c.kwargs).violations
                if v.rule_id.startswith("creepy.")
            ]
            found = [t for t in found if t in topics]
            if not found:
                continue
            label = found[0]
        else:
            continue
        texts.append(text)
        labels.append(label)
        euphemism.append(c.category.startswith("euphemism"))
    return texts, labels, euphemism


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slack", type=int, default=0)
    ap.add_argument("--c", type=float, default=FIT_C, help="inverse regularisation strength")
    ap.add_argument("--dry-run", action="store_true", help="print figures, write nothing")
    args = ap.parse_args(argv)
    embedder = get_embedder("minilm")
    base_texts, base_labels = training_lines()
    all_dev = sorted({draft_text(c) for c in load_cases("dev")})
    vecs = np.asarray(embedder.embed(base_texts + all_dev), dtype=np.float32)
    base_x = vecs[: len(base_texts)]
    vecs_of = dict(zip(all_dev, vecs[len(base_texts) :], strict=True))
    base = fit(base_x, base_labels, {})
    texts, labels, euphemism = dev_lines(base, vecs_of)
    x = np.vstack([base_x, np.stack([vecs_of[t] for t in texts])])
    y = np.array(base_labels + labels)
    is_dev = np.array([False] * len(base_texts) + [True] * len(texts))
    is_eu = np.array([False] * len(base_texts) + euphemism)
    # out-of-fold topic probabilities for every line
    classes = sorted(set(y))
    oof = np.zeros((len(y), len(classes)))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        m = fit(x[train], list(y[train]), {}, args.c)
        cols = [m.classes.index(c) for c in classes]
        oof[test] = np.stack([m.probabilities(v)[cols] for v in x[test]])
    topics = [str(c) for c in classes if c != NONE]
    neg = is_dev & (y == NONE)
    thresholds: dict[str, float] = {}
    for t in topics:
        p = np.sort(oof[neg, classes.index(t)])[::-1]
        cut = float(p[args.slack]) + 1e-3 if len(p) > args.slack else FLOOR
        thresholds[str(t)] = round(max(FLOOR, cut), 3)
    flagged = np.zeros(len(y), dtype=bool)
    for t in topics:
        flagged |= oof[:, classes.index(t)] >= thresholds[t]
    pos = is_dev & (y != NONE)
    print(f"training lines: {len(base_texts)} built-in + {len(texts)} dev")
    print(f"thresholds: {thresholds}")
    print(
        f"out-of-fold on dev: recall {flagged[pos].mean():.3f} (euphemism lines"
        f" {flagged[pos & is_eu].mean():.3f}), compliant blocked {int(flagged[neg].sum())}"
        f"/{int(neg.sum())}"
    )
    model = fit(x, list(y), thresholds, args.c)
    model = TopicModel(model.classes, model.coef, model.intercept, thresholds, "shipped")
    if not args.dry_run:
        path = MODELS_DIR / f"{embedder.name}.npz"
        model.save(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
