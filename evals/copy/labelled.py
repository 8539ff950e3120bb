"""The scorer's precision and recall on the labelled copy sets (dev: data/, held-out: heldout/).

"Sendable" is predicted two ways: the copy-quality scorer alone (form: keyword lists,
fragments, echoes, filler) and the product's full gate, scorer plus the brand guardrails
(which own off-voice wording and invented offers). Positive class = sendable.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from genpersona.agent.quality import SENDABLE_THRESHOLD, assess

HERE = Path(__file__).parent


def load(folder: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted((HERE / folder).glob("*.jsonl")):
        rows += [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return rows


def guard_passes(row: dict, brand: str = "giftloft") -> bool:
    from genpersona.brands.loader import load_guide  # evals may import any layer
    from genpersona.guard.engine import check
    from genpersona.types.content import VariantContent

    guide = load_guide(brand)
    kind = "hero" if row["kind"] == "hero" else "subject_line"
    if row["kind"] == "preheader":  # checked in its place, under a neutral subject
        content = VariantContent(subject=guide.fallbacks["subject_line"][0], preheader=row["text"])
    elif kind == "hero":
        content = VariantContent(headline=row["text"], cta=guide.fallback_cta)
    else:
        content = VariantContent(subject=row["text"])
    report = check(content, guide, kind=kind, channel="web" if kind == "hero" else "email")
    return not any(v.severity == "block" for v in report.violations)


def metrics(rows: list[dict], with_guard: bool) -> dict:
    tp = fp = fn = tn = 0
    misses: Counter[str] = Counter()
    for r in rows:
        pred = assess(r["text"], r.get("context") or []).quality >= SENDABLE_THRESHOLD
        if with_guard and pred:
            pred = guard_passes(r)
        gold = bool(r["sendable"])
        tp += pred and gold
        fp += pred and not gold
        fn += (not pred) and gold
        tn += (not pred) and not gold
        if pred != gold:
            misses[r["reason"]] += 1
    n = max(1, len(rows))
    return {
        "rows": len(rows),
        "accuracy_pct": round(100 * (tp + tn) / n, 1),
        "precision_pct": round(100 * tp / max(1, tp + fp), 1),
        "recall_pct": round(100 * tp / max(1, tp + fn), 1),
        "errors_by_reason": dict(misses),
    }


def report() -> dict:
    out = {}
    for folder in ("data", "heldout"):
        rows = load(folder)
        if rows:
            out[folder] = {"scorer": metrics(rows, False), "scorer+guard": metrics(rows, True)}
    return out


if __name__ == "__main__":
    print(json.dumps(report(), indent=1))
