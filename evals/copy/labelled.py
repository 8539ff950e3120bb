"""The scorer's precision and recall on the labelled copy sets.

Sets: dev (data/, used to fit the classifier since copy-quality-2026.12.2, so its figure
is a training figure; since 2026.12.4 it holds real model outputs too), held-out 1
(heldout/, written after copy-quality-2026.12.1) and held-out 2 (heldout2/, written after
2026.12.2): both moved into development for 2026.12.4 (``train.DEV_SETS``), so their
figures from this version on are training figures too (their held-out figures are the
ones reported for 2026.12.1-2026.12.3); held-out 3 (heldout3/, written after
copy-quality-2026.12.4 was frozen) moved into development for 2026.12.5 after its figure
(75.4 %) was reported; held-out 4 (heldout4/, written after copy-quality-2026.12.5 was
frozen, never used for fitting or tuning) is the held-out set. Figures per set are also
split by source (real model outputs and written lines) and by kind, and every set is also
read by the previous scorer (``quality.PREVIOUS_MODEL_PATH``, 2026.12.4's weights) in the
same run, so the two versions are compared on the same rows.

Lines are read with their MiniLM vectors (the classifier's semantic head), as ranking
reads them when the shipped embedder is configured; ``--lexical`` reads them without;
``--embedder static [--static-dir DIR]`` reads them with the static model's vectors and
its own head (``python -m evals.copy.train --embedder static``), as campaign scoring
with ``GENPERSONA_SCORING_EMBEDDER=static`` does.

"Sendable" is predicted two ways: the copy-quality scorer alone (form: keyword lists,
fragments, echoes, filler) and the product's full gate, scorer plus the brand guardrails
(which own off-voice wording and invented offers). Positive class = sendable.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from genpersona.agent.quality import (
    PREVIOUS_MODEL_PATH,
    SENDABLE_THRESHOLD,
    QualityModel,
    assess,
    load_model,
)
from genpersona.embeddings.base import Embedder

HERE = Path(__file__).parent
SETS = ("data", "heldout", "heldout2", "heldout3", "heldout4")
#: what each set is, for the printout
ROLE = {
    "data": "dev (training)",
    "heldout": "dev since 2026.12.4 (was held-out 1)",
    "heldout2": "dev since 2026.12.4 (was held-out 2)",
    "heldout3": "dev since 2026.12.5 (was held-out 3)",
    "heldout4": "held-out (written after 2026.12.5 was frozen)",
}


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
    kind = "hero" if row["kind"] in ("hero", "subheadline") else "subject_line"
    if row["kind"] == "preheader":  # checked in its place, under a neutral subject
        content = VariantContent(subject=guide.fallbacks["subject_line"][0], preheader=row["text"])
    elif row["kind"] == "subheadline":  # likewise, under a neutral headline
        content = VariantContent(
            headline=guide.fallbacks["hero"][0], subheadline=row["text"], cta=guide.fallback_cta
        )
    elif kind == "hero":
        content = VariantContent(headline=row["text"], cta=guide.fallback_cta)
    else:
        content = VariantContent(subject=row["text"])
    report = check(content, guide, kind=kind, channel="web" if kind == "hero" else "email")
    return not any(v.severity == "block" for v in report.violations)


def vectors(rows: list[dict], embedder: Embedder | None = None) -> list[np.ndarray | None]:
    """The rows' lines' vectors (MiniLM unless ``embedder``), when the model has a semantic
    head for that embedder."""
    name = embedder.name if embedder is not None else "minilm"
    if not rows or not load_model().wants(name):
        return [None] * len(rows)
    if embedder is None:
        from genpersona.embeddings.minilm import MiniLMEmbedder
        from genpersona.settings import get_settings

        settings = get_settings()  # GENPERSONA_MINILM_RUNTIME: torch or onnx
        embedder = MiniLMEmbedder(runtime=settings.minilm_runtime,
                                  onnx_dir=settings.home / "models" / "minilm-onnx")  # fmt: skip
    return list(embedder.embed([r["text"] for r in rows]))


def metrics(
    rows: list[dict],
    with_guard: bool,
    vecs: list | None = None,
    embedder: str | None = None,
    model: QualityModel | None = None,
) -> dict:
    tp = fp = fn = tn = 0
    misses: Counter[str] = Counter()
    vecs = vecs or [None] * len(rows)
    for r, vec in zip(rows, vecs, strict=True):
        reading = assess(
            r["text"], r.get("context") or [], vector=vec, embedder=embedder, model=model
        )
        pred = reading.quality >= SENDABLE_THRESHOLD
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


def report(
    lexical: bool = False, embedder: Embedder | None = None, sets: tuple[str, ...] = SETS
) -> dict:
    """Per set, the scorer's and the full gate's figures, split by source and kind, and
    the previous scorer's on the same rows (MiniLM head only: the previous version has
    no head for another embedder)."""
    out = {}
    name = embedder.name if embedder is not None else None
    previous = load_model(PREVIOUS_MODEL_PATH) if PREVIOUS_MODEL_PATH.exists() else None
    for folder in sets:
        rows = load(folder)
        if rows:
            vecs = None if lexical else vectors(rows, embedder)
            out[folder] = {
                "role": ROLE[folder],
                "scorer": metrics(rows, False, vecs, name),
                "scorer+guard": metrics(rows, True, vecs, name),
            }
            if previous is not None and name is None:
                out[folder][f"previous scorer ({previous.version})"] = metrics(
                    rows, False, vecs, None, previous
                )
            model = [i for i, r in enumerate(rows) if r["source"].startswith("model")]
            written = [i for i, r in enumerate(rows) if not r["source"].startswith("model")]
            parts = [("model outputs", model), ("written", written)]
            parts += [(f"kind {k}", [i for i, r in enumerate(rows) if r["kind"] == k])
                      for k in sorted({r["kind"] for r in rows})]  # fmt: skip
            for part, idx in parts:
                if idx and len(idx) < len(rows):
                    sub = [rows[i] for i in idx]
                    sub_vecs = [vecs[i] for i in idx] if vecs else None
                    out[folder][f"scorer, {part}"] = metrics(sub, False, sub_vecs, name)
                    if previous is not None and name is None:
                        out[folder][f"previous scorer, {part}"] = metrics(
                            sub, False, sub_vecs, None, previous
                        )
    return out


def head_used(lexical: bool, embedder: Embedder | None) -> str:
    name = embedder.name if embedder is not None else "minilm"
    if lexical or not load_model().wants(name):
        return "lexical"
    return f"semantic ({name})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lexical", action="store_true", help="no vectors: the lexical head")
    ap.add_argument("--embedder", choices=["minilm", "static"], default="minilm")
    ap.add_argument("--static-dir", type=Path, default=None, help="default: the setting")
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    ap.add_argument("--errors", action="store_true",
                    help="also list every row the scorer gets wrong (quality, source, reason)")  # fmt: skip
    args = ap.parse_args()
    embedder = None
    if args.embedder == "static":
        from genpersona.embeddings.static import StaticEmbedder
        from genpersona.settings import get_settings

        settings = get_settings()
        folder = args.static_dir or settings.static_embedder_dir
        embedder = StaticEmbedder(folder or settings.home / "models/static-minilm")
    from genpersona.settings import get_settings

    runtime = get_settings().minilm_runtime if args.embedder == "minilm" else None
    out = {
        "head": head_used(args.lexical, embedder),
        **({"minilm_runtime": runtime} if runtime and not args.lexical else {}),
        **report(args.lexical, embedder, tuple(args.sets)),
    }
    print(json.dumps(out, indent=1))
    if args.errors:
        for folder in args.sets:
            print_errors(folder, None if args.lexical else embedder, args.lexical)


def print_errors(folder: str, embedder: Embedder | None, lexical: bool) -> None:
    """Every row of ``folder`` the scorer gets wrong: quality (new, previous), source, kind,
    gold reason, line."""
    rows = load(folder)
    if not rows:
        return
    vecs = [None] * len(rows) if lexical else vectors(rows, embedder)
    name = embedder.name if embedder is not None else None
    previous = load_model(PREVIOUS_MODEL_PATH) if PREVIOUS_MODEL_PATH.exists() else None
    print(f"# {folder}: rows the scorer gets wrong (quality, previous quality, source, kind, "
          "gold reason | line)")  # fmt: skip
    for r, vec in zip(rows, vecs, strict=True):
        ctx = r.get("context") or []
        q = assess(r["text"], ctx, vector=vec, embedder=name).quality
        if (q >= SENDABLE_THRESHOLD) == bool(r["sendable"]):
            continue
        old = assess(r["text"], ctx, vector=vec, model=previous).quality if previous else None
        print(f"{q:.2f} {old if old is None else round(old, 2)} {r['source'][:5]} "
              f"{r['kind'][:4]} {r['reason']} | {r['text']}")  # fmt: skip


if __name__ == "__main__":
    main()
