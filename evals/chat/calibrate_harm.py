"""Calibrate the semantic harmful-text thresholds on the labelled dev lines; report held-out.

    python -m evals.chat.calibrate_harm [--slack N] [--dry-run]

Data (``evals/chat/harm/``, versioned by ``DATA_VERSION`` and the files' SHA-256):
``dev.jsonl`` and ``heldout.jsonl``, lines ``{"text", "label"}`` with label ``hate``,
``violence``, ``harassment``, ``sexual`` or ``none``. The harmful lines are paraphrases the
lexicon mostly misses; the innocent ones are shop copy and replies with risky words
("a killer gift", "prices to die for", "cosy up in bed").

Per category, on the dev part only: the threshold is just above the ``--slack``-th highest
score (0: the highest) that an innocent line, or a harmful line of *another* category,
gets for that category, never below ``FLOOR``: precision first, as a false block costs a
re-ask and at worst the handoff line, while the lexicon still catches the plain words.
Writes ``genpersona/guard/semantic_models/harm_thresholds.json`` and prints precision and
recall (harmful vs innocent, and per category) on dev and held-out, for the semantic layer
alone and for the whole check (lexicon, then semantic) as the chat guard runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from genpersona.embeddings.factory import get_caching_embedder
from genpersona.guard.validators.harmful import (
    LEXICON_RE,
    PROTOTYPES,
    THRESHOLDS_PATH,
    semantic_flags,
    semantic_scores,
    sentences,
)

HERE = Path(__file__).parent / "harm"
DATA_VERSION = "chat-harm/1"
FLOOR = 0.45
MARGIN = 0.01
CATEGORIES = list(PROTOTYPES)


def load(split: str) -> list[dict]:
    path = HERE / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def line_scores(texts: list[str], embed) -> list[dict[str, float]]:
    """Per line and category, the highest score of any of its sentences."""
    out = []
    for text in texts:
        parts = [s for _, _, s in sentences(text)] or [text]
        per = semantic_scores(parts, embed)
        out.append({c: max(p[c] for p in per) for c in CATEGORIES})
    return out


def fit(rows: list[dict], scores: list[dict[str, float]], slack: int) -> dict[str, float]:
    thresholds = {}
    for cat in CATEGORIES:
        others = sorted(
            (s[cat] for r, s in zip(rows, scores, strict=True) if r["label"] != cat), reverse=True
        )
        bar = others[min(slack, len(others) - 1)] if others else 0.0
        thresholds[cat] = round(max(FLOOR, bar + MARGIN), 3)
    return thresholds


def lexicon_hit(text: str) -> str | None:
    for cat, rx in LEXICON_RE.items():
        if rx.search(text):
            return cat
    return None


def predict(text: str, embed, thresholds: dict[str, float], with_lexicon: bool) -> str:
    """The category the guard would block ``text`` for, or ``none``."""
    if with_lexicon:
        hit = lexicon_hit(text)
        if hit:
            return hit
    flags = semantic_flags(text, embed, thresholds)
    return flags[0][2] if flags else "none"


def report(name: str, rows: list[dict], predicted: list[str]) -> dict:
    harmful = [r["label"] != "none" for r in rows]
    flagged = [p != "none" for p in predicted]
    tp = sum(h and f for h, f in zip(harmful, flagged, strict=True))
    fp = sum(f and not h for h, f in zip(harmful, flagged, strict=True))
    fn = sum(h and not f for h, f in zip(harmful, flagged, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    per_cat = {}
    for cat in CATEGORIES:
        idx = [i for i, r in enumerate(rows) if r["label"] == cat]
        per_cat[cat] = sum(predicted[i] != "none" for i in idx) / len(idx) if idx else 0.0
    innocent = sum(not h for h in harmful)
    print(f"  {name:28} precision {precision:6.1%}  recall {recall:6.1%}  "
          f"innocent blocked {fp}/{innocent}  recall by category "
          + " ".join(f"{c} {v:.0%}" for c, v in per_cat.items()))  # fmt: skip
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "innocent_blocked": fp, "innocent": innocent, "recall_by_category": per_cat}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.chat.calibrate_harm")
    ap.add_argument("--slack", type=int, default=0)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    embedder = get_caching_embedder()
    embed = embedder.embed
    dev, held = load("dev"), load("heldout")
    dev_scores = line_scores([r["text"] for r in dev], embed)
    thresholds = fit(dev, dev_scores, args.slack)
    print(f"harm calibration ({DATA_VERSION}) · embedder {embedder.name} · dev {len(dev)} · "
          f"held-out {len(held)} · slack {args.slack}")  # fmt: skip
    print("thresholds: " + ", ".join(f"{c} {t:.3f}" for c, t in thresholds.items()))
    results = {}
    hand = dict.fromkeys(CATEGORIES, 0.62)
    for split, rows in (("dev", dev), ("heldout", held)):
        print(f"{split}:")
        texts = [r["text"] for r in rows]
        for label, limits, lex in (
            ("hand-set 0.62, semantic only", hand, False),
            ("calibrated, semantic only", thresholds, False),
            ("calibrated, lexicon + semantic", thresholds, True),
        ):
            predicted = [predict(t, embed, limits, lex) for t in texts]
            results[f"{split}: {label}"] = report(label, rows, predicted)
    digests = {
        name: hashlib.sha256((HERE / f"{name}.jsonl").read_bytes()).hexdigest()[:16]
        for name in ("dev", "heldout")
    }
    out = {
        "version": DATA_VERSION,
        "embedder": embedder.name,
        "thresholds": thresholds,
        "method": f"per category: {MARGIN} above the {args.slack}-th highest score of a dev "
        f"line of another label, floor {FLOOR}",
        "fitted_on": f"evals/chat/harm/dev.jsonl sha256:{digests['dev']}",
        "heldout": f"evals/chat/harm/heldout.jsonl sha256:{digests['heldout']}",
        "results": results,
    }
    if not args.dry_run:
        THRESHOLDS_PATH.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {THRESHOLDS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
