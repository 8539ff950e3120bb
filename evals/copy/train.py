"""Train the copy-quality classifier and write ``genpersona/agent/quality_model.json``.

    python -m evals.copy.train [--upworthy PATH] [--retail PATH]

Positives: human-written headlines (Upworthy, put in sentence case so capitalisation is
not the signal), every brand guide's do-examples and the recipes' examples. Negatives
are generated, deterministically (seed 7), from the same vocabulary: keyword lists of
catalogue descriptions and words, fragments, repetitions and truncations of positives.
The labelled lines in evals/copy/data and heldout are never used here.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression

from genpersona.agent.quality import DANGLING, FEATURES, MODEL_PATH, QUALITY_VERSION, features

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/work/shared/data")


def sentence_case(text: str) -> str:
    text = re.sub(r"[*_]", "", text).strip()
    words = text.split()
    out = [words[0]] + [
        w if w == "I" or w.isupper() and len(w) > 1 else w.lower() for w in words[1:]
    ]
    return " ".join(out)


def positives(upworthy: Path, rng: random.Random) -> list[str]:
    heads = pd.read_parquet(upworthy, columns=["headline"])["headline"].dropna().unique().tolist()
    heads = [sentence_case(h) for h in heads if 15 <= len(h) <= 90]
    rng.shuffle(heads)
    lines = heads[:2500]
    for guide in sorted((ROOT / "brand_guides").glob("*.yaml")):
        spec = yaml.safe_load(guide.read_text()) or {}
        for kind in ("subject_line", "hero"):
            lines += [
                t.split("|")[0].strip()
                for t in (spec.get("examples", {}).get(kind) or {}).get("do", [])
            ]
        for kind in ("subject_line", "hero"):
            lines += list((spec.get("fallbacks") or {}).get(kind) or [])
    recipes = yaml.safe_load((ROOT / "prompts" / "recipes.yaml").read_text())["recipes"]
    for spec in recipes.values():
        for kind in ("subject_line", "hero"):
            for e in spec.get(kind, []):
                lines += [
                    e[k] for k in ("subject", "preheader", "headline", "subheadline") if e.get(k)
                ]
    return lines


def vocabulary(retail: Path, rng: random.Random) -> list[str]:
    desc = (
        pd.read_parquet(retail, columns=["Description"])["Description"].dropna().unique().tolist()
    )
    desc = [d.strip().lower() for d in desc if d and d.strip() and not d.strip()[0].isdigit()]
    rng.shuffle(desc)
    themes = [
        "christmas",
        "home",
        "decor",
        "party",
        "supplies",
        "gift",
        "wrap",
        "kitchen",
        "garden",
        "bags",
        "jumbo",
        "bags",
        "vintage",
        "tea",
        "time",
        "lunch",
        "bags",
        "candles",
        "lanterns",
        "cushions",
        "wall",
        "art",
        "storage",
        "baking",
        "children's",
        "toys",
        "stationery",
        "bunting",
        "retrospot",
        "ornaments",
        "heart",
        "decorations",
        "housewarming",
        "gift",
        "new",
        "season",
        "gift",
        "pick",
        "winter",
        "season",
        "bird",
        "ornament",
        "alarm",
        "clock",
        "green",
    ]
    return desc[:3000] + themes


def _case(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return text.title()
    if r < 0.6:
        return text[:1].upper() + text[1:]
    return text


def negatives(pos: list[str], vocab: list[str], rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    starters = ["", "", "", "A new ", "The ", "Your ", "New ", "Gift: ", "For you: "]
    generic = ["Check out our", "Shop our", "Browse our", "Great", "See our", "Discover our",
               "New", "The best", "Quality", "Find"]  # fmt: skip
    generic_tail = ["products", "items", "deals", "range", "selection", "collection", "goods",
                    "offers", "stuff", "things"]  # fmt: skip
    generic_end = ["", " today", " now", " online", " for everyone", " at great prices",
                   " on our website", " in store"]  # fmt: skip
    while len(out) < n:
        kind = rng.randrange(8)
        if kind == 6:  # generic filler: fluent, but about any shop and anyone
            out.append(f"{rng.choice(generic)} {rng.choice(['', 'latest ', 'new ', 'great '])}"
                       f"{rng.choice(generic_tail)}{rng.choice(generic_end)}")  # fmt: skip
            continue
        if kind == 7:  # awkward: a positive with its words out of order or doubled
            words = rng.choice(pos).split()
            if len(words) < 4:
                continue
            i = rng.randrange(len(words) - 1)
            if rng.random() < 0.5:
                words[i], words[i + 1] = words[i + 1], words[i]
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
            else:
                words.insert(i, rng.choice(["the", "a", "of", "to", words[i]]))
            out.append(" ".join(words))
            continue
        if kind <= 1:  # keyword list
            items = rng.sample(vocab, rng.randint(2, 5))
            sep = rng.choice([", ", ", ", " | ", "; "])
            line = sep.join(items)
            if rng.random() < 0.4:
                line = sep.join(items[:-1]) + " and " + items[-1]
            out.append(_case(rng.choice(starters) + line, rng))
        elif kind == 2:  # fragment: a positive cut before it finishes, often on a dangling word
            words = rng.choice(pos).split()
            if len(words) < 4:
                continue
            k = rng.randint(2, max(2, len(words) - 2))
            cut = words[:k]
            if rng.random() < 0.6:
                cut.append(rng.choice(sorted(DANGLING)))
            out.append(" ".join(cut))
        elif kind == 3:  # repetition
            phrase = " ".join(rng.choice(pos).split()[: rng.randint(2, 4)])
            out.append(", ".join([phrase] * rng.randint(2, 3)))
        elif kind == 4:  # content words only (a positive with its grammar stripped)
            words = [w for w in rng.choice(pos).split() if w.lower().strip(",.") not in
                     {"a", "an", "the", "for", "of", "to", "your", "you", "our", "and", "with",
                      "in", "on", "is", "are", "it", "this", "that", "we"}]  # fmt: skip
            if len(words) < 2:
                continue
            out.append(_case(", ".join(words[:5]), rng))
        else:  # a product name or two, bare
            out.append(_case(" ".join(rng.sample(vocab, rng.randint(1, 2))), rng))
    return out


def train(upworthy: Path, retail: Path) -> dict:
    rng = random.Random(7)
    pos = positives(upworthy, rng)
    neg = negatives(pos, vocabulary(retail, rng), rng, len(pos))
    X = np.array([features(t) for t in pos + neg])
    y = np.array([1] * len(pos) + [0] * len(neg))
    clf = LogisticRegression(C=1.0, max_iter=2000, fit_intercept=False)
    clf.fit(X, y)
    acc = float((clf.predict(X) == y).mean())
    model = {
        "version": QUALITY_VERSION,
        "features": FEATURES,
        "coef": [round(float(c), 5) for c in clf.coef_[0]],
        "trained_on": {
            "positives": len(pos),
            "negatives": len(neg),
            "train_accuracy_pct": round(100 * acc, 1),
        },
    }
    MODEL_PATH.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upworthy", type=Path, default=DATA / "upworthy_headline_tests.parquet")
    ap.add_argument("--retail", type=Path, default=DATA / "online_retail.parquet")
    args = ap.parse_args()
    model = train(args.upworthy, args.retail)
    print(json.dumps(model["trained_on"]), "->", MODEL_PATH)


if __name__ == "__main__":
    main()
