"""Train the copy-quality classifier and write ``genpersona/agent/quality_model.json``.

    python -m evals.copy.train [--upworthy PATH] [--retail PATH] [--no-dev]
    python -m evals.copy.train --embedder static [--static-dir DIR]

Positives: human-written headlines (Upworthy, put in sentence case so capitalisation is
not the signal), every brand guide's do-examples and the recipes' examples. Negatives
are generated, deterministically (seed 7), from the same vocabulary: keyword lists of
catalogue descriptions and of headline words, fragments, repetitions and truncations of
positives, word-order errors, generic filler and pushy or invented-offer lines; plus the
guides' don't-examples. The labelled dev set (evals/copy/data) is added with a larger
weight, as it is the only in-domain labelled copy. Since copy-quality-2026.12.4 the dev set
is evals/copy/data (the 200 written rows, 236 real model outputs of the session-6 eval and 85
hero lines of a session-7 probe) plus held-out parts 1 and 2, moved into development after
their figures had been reported (``DEV_SETS``), and since 2026.12.5 held-out part 3 too.
Held-out part 4 (evals/copy/heldout4) and any later part are never read here. Since
2026.12.5 the script also fits the skeleton model of ``quality_structure`` on the
Upworthy headlines left over after the positives are drawn, before the features are read. The guides' and recipes' lines (shop copy, a few
hundred among 2,500 Upworthy headlines) get their own weight, picked with the others.

Two heads are written: the lexical one (23 features) and the semantic one (the same
features plus the line's MiniLM vector, the shipped embedder, loaded offline). The
regularisation and the dev weight are chosen by 5-fold cross-validation on the dev set
(every fold trains on all generated data plus the other four fifths of dev).

``--embedder static`` trains only a semantic head on the vectors of the static model
distilled from MiniLM (``genpersona.embeddings.static``), on the same data, and writes
it beside the model as ``quality_head_<embedder name>.json`` (the name carries the
distilled table's fingerprint). Campaign scoring with ``GENPERSONA_SCORING_EMBEDDER=static``
then reads copy quality from the scoring pass's vectors instead of embedding every line
again with MiniLM. Check it with ``python -m evals.copy.labelled --embedder static``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression

from evals.copy.labelled import load
from genpersona.agent.quality import (
    CUT_KEEP,
    DANGLING,
    ECHO_WEIGHT,
    FEATURES,
    FUNCTION_WORDS,
    LEXICAL_FEATURES,
    MODEL_PATH,
    QUALITY_VERSION,
    SENDABLE_THRESHOLD,
    cut_short,
    echo,
    features,
    head_path,
)
from genpersona.agent.quality_structure import STRUCTURE_PATH, fit_structure, load_structure
from genpersona.embeddings.base import Embedder

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/work/shared/data")


def sentence_case(text: str) -> str:
    text = re.sub(r"[*_]", "", text).strip()
    words = text.split()
    out = [words[0]] + [
        w if w == "I" or w.isupper() and len(w) > 1 else w.lower() for w in words[1:]
    ]
    return " ".join(out)


#: Upworthy headlines among the positives (they come first; the shop's own lines follow)
UPWORTHY_LINES = 2500


def gen_weights(n: int, n_upworthy: int, n_shop: int, shop_weight: float) -> np.ndarray:
    """Sample weights of the generated data: 1, and ``shop_weight`` for the guides' and
    recipes' lines (positives ``n_upworthy`` .. ``n_upworthy + n_shop``)."""
    w = np.ones(n)
    w[n_upworthy : n_upworthy + n_shop] = shop_weight
    return w


def positives(upworthy: Path, rng: random.Random) -> tuple[list[str], list[str]]:
    """(positives, spare headlines): the spare ones, never positives, train the skeleton
    model (``quality_structure``), so a positive's skeleton is not scored by its own count."""
    heads = pd.read_parquet(upworthy, columns=["headline"])["headline"].dropna().unique().tolist()
    heads = [sentence_case(h) for h in heads if 15 <= len(h) <= 90]
    rng.shuffle(heads)
    lines = heads[:UPWORTHY_LINES]
    spare = heads[UPWORTHY_LINES:]
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
    return lines, spare


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


#: the grid searched by 5-fold cross-validation on dev, per head: (C, dev weight, weight of
#: the guides' and recipes' lines among the positives)
GRID = {
    "lexical": [(1.0, 10.0, 1.0), (1.0, 20.0, 20.0)],
    "semantic": [(1.0, 20.0, 20.0), (0.5, 20.0, 20.0), (1.0, 10.0, 20.0), (3.0, 5.0, 1.0)],
}
THRESHOLDS = [round(0.1 + 0.025 * i, 3) for i in range(25)]
#: the issue's demo outputs (#14): keyword lists every head must score as not sendable
MUST_FAIL = (
    "A new bag, big bags, christmas, jumbo bags",
    "Home Decor, Christmas, assorted colour bird ornament",
    "The gift-maker's house, home decoration, garden party",
    "Party supplies, home decor, alarm clock, green",
    "Housewarming gift, new winter season gift pick",
)
#: the labelled sets training reads (development data); held-out 4 and later never.
#: Held-out 3 moved in for copy-quality-2026.12.5, after its figure (75.4 %) was reported.
DEV_SETS = ("data", "heldout", "heldout2", "heldout3")
EMB_CACHE = Path("/tmp/genpersona-copy-train-vectors.npz")


def guide_donts() -> list[str]:
    """Every guide's don't-examples: human-written lines the brand would not send."""
    out: list[str] = []
    for guide in sorted((ROOT / "brand_guides").glob("*.yaml")):
        spec = yaml.safe_load(guide.read_text()) or {}
        for kind in ("subject_line", "hero"):
            out += [
                t.split("|")[0].strip()
                for t in (spec.get("examples", {}).get(kind) or {}).get("dont", [])
            ]
    return out


def headline_words(pos: list[str]) -> list[str]:
    """Content words of the positives: keyword lists made of them, so a list is told from a
    sentence by its shape and meaning, not by being about shop goods."""
    words = [w.strip(",.!?:;'\"").lower() for line in pos for w in line.split()]
    return sorted({w for w in words if len(w) > 3 and w.isalpha()})


def pushy(rng: random.Random, vocab: list[str]) -> str:
    """Off-voice or invented-offer lines: shouting, pressure, claims nobody approved."""
    thing = rng.choice(vocab)
    forms = [
        f"{thing.upper()} - BUY NOW!!!",
        f"Last chance to buy {thing}, act fast",
        f"Don't miss out: {thing} at unbeatable prices",
        f"{rng.choice([20, 30, 50, 70])}% off all {thing} today only",
        f"Free delivery on every {thing}, guaranteed",
        f"Hurry! {thing} selling out fast",
        f"You won't believe these {thing} deals",
        f"Limited time offer on {thing}, order now",
        f"Best {thing} in the world, guaranteed lowest price",
        f"URGENT: your {thing} is waiting",
    ]
    return rng.choice(forms)


def dev_rows() -> list[dict]:
    return [r for folder in DEV_SETS for r in load(folder)]


def context_keep(row: dict) -> float:
    """The factor ``assess`` applies for the row's context: the echo penalty and a
    catalogue name cut short."""
    ctx = row.get("context") or []
    keep = 1 - ECHO_WEIGHT * max(0.0, (echo(row["text"], ctx) - 0.8) / 0.2)
    return keep * (CUT_KEEP if cut_short(row["text"], ctx) else 1.0)


def embed_all(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """MiniLM vectors of every line (cached by text across runs of this script), or
    ``embedder``'s (a static model: microseconds per line, not cached)."""
    from genpersona.embeddings.minilm import MiniLMEmbedder

    if embedder is not None:
        return embedder.embed(texts)

    cached: dict[str, np.ndarray] = {}
    if EMB_CACHE.exists():
        data = np.load(EMB_CACHE, allow_pickle=False)
        cached = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    missing = [t for t in dict.fromkeys(texts) if t not in cached]
    if missing:
        vecs = MiniLMEmbedder().embed(missing)
        cached.update(zip(missing, vecs, strict=True))
        keys = list(cached)
        np.savez(EMB_CACHE, texts=np.array(keys), vectors=np.stack([cached[k] for k in keys]))
    return np.stack([cached[t] for t in texts])


def _fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, C: float) -> LogisticRegression:
    clf = LogisticRegression(C=C, max_iter=4000, fit_intercept=False)
    clf.fit(X, y, sample_weight=w)
    return clf


def _design(texts: list[str], vecs: np.ndarray | None, names: list[str] = FEATURES) -> np.ndarray:
    lex = np.array([features(t, names) for t in texts])
    return lex if vecs is None else np.hstack([lex, vecs])


def _cv(
    gen_X, gen_y, gen_w, dev_X, dev_y, dev_keep, C: float, dev_w: float, rng_seed: int = 7
) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(balanced accuracy, threshold) on held-back fifths of dev, each fold fitted on
    everything else; the decision as ``assess`` makes it (classifier times the context
    rules' factor), at the probability threshold that does best out of fold."""
    idx = np.arange(len(dev_y))
    np.random.default_rng(rng_seed).shuffle(idx)
    folds = np.array_split(idx, 5)
    probs = np.zeros(len(dev_y))
    for k in range(5):
        test = folds[k]
        train = np.concatenate([folds[j] for j in range(5) if j != k])
        X = np.vstack([gen_X, dev_X[train]])
        y = np.concatenate([gen_y, dev_y[train]])
        w = np.concatenate([gen_w, np.full(len(train), dev_w)])
        clf = _fit(X, y, w, C)
        probs[test] = clf.predict_proba(dev_X[test])[:, 1] * dev_keep[test]
    gold = dev_y.astype(bool)
    scored = [
        (balanced_accuracy(probs >= t, gold), -abs(t - SENDABLE_THRESHOLD), t) for t in THRESHOLDS
    ]
    acc, _, t = max(scored)
    return acc, t


def balanced_accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    """Mean of the recall of sendable lines and of not-sendable ones: the dev set is about
    a quarter sendable (most real model outputs are not), the held-out parts are balanced,
    and a threshold picked on plain accuracy would lean on the dev set's mix."""
    return 0.5 * (float(pred[gold].mean()) + float((~pred[~gold]).mean()))


def write_structure(spare: list[str]) -> None:
    """The skeleton model of the spare headlines, into ``STRUCTURE_PATH`` (read by the
    structure features from then on)."""
    model = fit_structure(spare, FUNCTION_WORDS, QUALITY_VERSION)
    STRUCTURE_PATH.write_text(
        json.dumps(model.model_dump(), sort_keys=True) + "\n", encoding="utf-8"
    )
    load_structure.cache_clear()


def train(
    upworthy: Path,
    retail: Path,
    use_dev: bool = True,
    embedder: Embedder | None = None,
    names: list[str] = FEATURES,
    write: bool = True,
) -> dict:
    """Both heads into ``MODEL_PATH``; with ``embedder``, only a semantic head on its
    vectors, into its own head file. ``names``: the features (another list, e.g.
    ``LEXICAL_FEATURES``, with ``write`` false, is an ablation: CV figures only)."""
    rng = random.Random(7)
    pos, spare = positives(upworthy, rng)
    if write and embedder is None:
        write_structure(spare)
    n_upworthy = min(UPWORTHY_LINES, len(pos))
    vocab = vocabulary(retail, rng)
    neg = negatives(pos, vocab, rng, len(pos))
    neg += [pushy(rng, vocab[:3000]) for _ in range(len(pos) // 10)]
    words = headline_words(pos)
    for _ in range(len(pos) // 8):  # keyword lists of headline words
        items = rng.sample(words, rng.randint(2, 5))
        neg.append(_case(rng.choice([", ", ", ", " | ", "; "]).join(items), rng))
    neg += guide_donts()
    gen_texts = pos + neg
    gen_y = np.array([1] * len(pos) + [0] * len(neg))
    dev = dev_rows() if use_dev else []
    dev_texts = [r["text"] for r in dev]
    dev_y = np.array([int(bool(r["sendable"])) for r in dev])
    dev_keep = np.array([context_keep(r) for r in dev])
    n_shop = len(pos) - n_upworthy
    vecs = embed_all(gen_texts + dev_texts + list(MUST_FAIL), embedder)
    must_vecs = vecs[len(gen_texts) + len(dev_texts) :]
    vecs = vecs[: len(gen_texts) + len(dev_texts)]
    heads: dict[str, dict] = {}
    kinds = (
        (("semantic", True),) if embedder is not None else (("lexical", False), ("semantic", True))
    )
    for name, use_vec in kinds:
        gen_X = _design(gen_texts, vecs[: len(gen_texts)] if use_vec else None, names)
        dev_X = _design(dev_texts, vecs[len(gen_texts) :] if use_vec else None, names)
        tried = [(0.0, 1.0, 5.0, 1.0, SENDABLE_THRESHOLD)]
        if dev:
            tried = []
            for C, dw, sw in GRID[name]:
                acc, t = _cv(gen_X, gen_y, gen_weights(len(gen_y), n_upworthy, n_shop, sw),
                             dev_X, dev_y, dev_keep, C, dw)  # fmt: skip
                print(
                    f"  {name} C={C} dev_weight={dw} shop_weight={sw}: "
                    f"dev 5-fold balanced accuracy {100 * acc:.1f}% at {t}",
                    flush=True,
                )
                tried.append((acc, C, dw, sw, t))
        X = np.vstack([gen_X, dev_X]) if dev else gen_X
        y = np.concatenate([gen_y, dev_y]) if dev else gen_y
        must_X = _design(list(MUST_FAIL), must_vecs if use_vec else None, names)
        # the best grid point whose fit keeps every one of the lists under its
        # threshold (a keyword list must never pass, whatever the dev figure)
        ranked = sorted(tried, key=lambda r: (r[0], -abs(r[4] - SENDABLE_THRESHOLD)), reverse=True)
        for point in ranked:
            acc, C, dw, sw, t = point
            w = np.concatenate(
                [gen_weights(len(gen_y), n_upworthy, n_shop, sw), np.full(len(dev_y), dw)]
            )
            clf = _fit(X, y, w, C)
            passing = [m for m, p in zip(MUST_FAIL, clf.predict_proba(must_X)[:, 1], strict=True)
                       if p >= t]  # fmt: skip
            if not passing:
                break
            print(f"  {name} C={C} dev_weight={dw} shop_weight={sw}: passes {passing}; next")
        else:
            raise SystemExit(f"no {name} fit keeps the issue's keyword lists under threshold")
        coef = [float(c) for c in clf.coef_[0]]
        # shift the bias so the shared threshold (SENDABLE_THRESHOLD) sits where this head's
        # best out-of-fold threshold was: ranking compares every head's output to one number
        coef[0] += math.log(SENDABLE_THRESHOLD / (1 - SENDABLE_THRESHOLD)) - math.log(t / (1 - t))
        heads[name] = {
            "coef": [round(c, 5) for c in coef],
            "threshold_moved_from": t,
            "C": C,
            "dev_weight": dw,
            "shop_weight": sw,
            "dev_cv_balanced_accuracy_pct": round(100 * acc, 1),
            "train_accuracy_pct": round(100 * float((clf.predict(X) == y).mean()), 1),
        }
    sem = heads["semantic"]["coef"]
    if not write:
        return {"trained_on": {f"{h}_{k}": v for h, d in heads.items() for k, v in d.items()
                               if k != "coef"}}  # fmt: skip
    if embedder is not None:
        return write_head(embedder, sem, heads["semantic"], len(pos), len(neg), len(dev))
    model = {
        "version": QUALITY_VERSION,
        "features": names,
        "coef": heads["lexical"]["coef"],
        "semantic": {
            "embedder": "minilm",
            "dim": 384,
            "lex_coef": sem[: len(names)],
            "emb_coef": sem[len(names) :],
        },
        "trained_on": {
            "positives": len(pos),
            "negatives": len(neg),
            "dev_rows": len(dev),
            **{f"{h}_{k}": v for h, d in heads.items() for k, v in d.items() if k != "coef"},
        },
    }
    MODEL_PATH.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    return model


def write_head(
    embedder: Embedder, coef: list[float], fit: dict, n_pos: int, n_neg: int, n_dev: int
) -> dict:
    """The semantic head of ``embedder`` in its own file (``quality.head_path``)."""
    head = {
        "version": QUALITY_VERSION,
        "features": FEATURES,
        "head": {
            "embedder": embedder.name,
            "dim": embedder.dim,
            "lex_coef": coef[: len(FEATURES)],
            "emb_coef": coef[len(FEATURES) :],
            "trained_on": {
                "positives": n_pos,
                "negatives": n_neg,
                "dev_rows": n_dev,
                **{k: v for k, v in fit.items() if k != "coef"},
            },
        },
    }
    path = head_path(embedder.name)
    path.write_text(json.dumps(head, indent=1) + "\n", encoding="utf-8")
    return {"trained_on": head["head"]["trained_on"], "path": str(path)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upworthy", type=Path, default=DATA / "upworthy_headline_tests.parquet")
    ap.add_argument("--retail", type=Path, default=DATA / "online_retail.parquet")
    ap.add_argument("--no-dev", action="store_true", help="generated data only")
    ap.add_argument("--embedder", choices=["minilm", "static"], default="minilm")
    ap.add_argument("--static-dir", type=Path, default=None, help="default: the setting")
    ap.add_argument("--ablate-lexical", action="store_true",
                    help="CV only, with the 2026.12.4 lexical features (no structure ones)")  # fmt: skip
    args = ap.parse_args()
    if args.ablate_lexical:
        out = train(args.upworthy, args.retail, names=LEXICAL_FEATURES, write=False)
        print(json.dumps(out["trained_on"]))
        return
    embedder = None
    if args.embedder == "static":
        from genpersona.embeddings.static import StaticEmbedder
        from genpersona.settings import get_settings

        settings = get_settings()
        folder = args.static_dir or settings.static_embedder_dir
        embedder = StaticEmbedder(folder or settings.home / "models/static-minilm")
    model = train(args.upworthy, args.retail, use_dev=not args.no_dev, embedder=embedder)
    print(json.dumps(model["trained_on"]), "->", model.get("path", MODEL_PATH))


if __name__ == "__main__":
    main()
