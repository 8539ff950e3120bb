"""Score the guardrails on the labelled lines in evals/guard/{data,heldout}/.

    python -m evals.guard.run [--split dev|heldout|all] [--json] [--verbose] [--no-semantic]

Per rule family: recall on violating lines (a line counts as caught when the
check reports a violation of that family, at any severity) and, on compliant
lines, the false-flag rate (a violation of that family) and the false-block
rate (any *blocking* violation from any rule: what would really stop a line).
Also prints the p50/p95 time of one check, warm, against the full guide.

Each file has a category ("core" for the original rule files; "euphemism.<group>",
"obfuscation" and "spelled_offer" for the lines added with the normalization and semantic
checks); the same figures are printed per category. The semantic check runs with the real
MiniLM embedder (one batch embeds every line first, as the pipeline's scoring stage would,
and each check gets its line's vector); ``--no-semantic`` scores the word rules alone.

The dev split was written alongside the rules (rules were tuned on it); the
heldout split was written afterwards and not used to tune anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from genpersona.brands.guide import BrandGuide
from genpersona.brands.loader import load_guide
from genpersona.embeddings.factory import get_embedder
from genpersona.guard.engine import as_content, check
from genpersona.guard.models import GuardReport
from genpersona.guard.semantic import SemanticGuard
from genpersona.types.content import VariantContent

HERE = Path(__file__).resolve().parent
DEFAULT_DATE = date(2026, 11, 22)  # fixed so claim validity (and the figures) never drift
TARGET_RECALL, TARGET_RULE_RECALL, TARGET_FALSE_BLOCK = 0.98, 0.95, 0.02


@dataclass
class Case:
    rule: str
    prefixes: list[str]
    label: str  # "violating" | "compliant"
    content: VariantContent | str
    guide: BrandGuide
    kwargs: dict[str, Any]
    split: str
    note: str = ""
    category: str = "core"


@dataclass
class RuleScore:
    rule: str
    n_viol: int = 0
    caught: int = 0
    n_ok: int = 0
    false_flag: int = 0
    false_block: int = 0
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.n_viol if self.n_viol else 1.0

    @property
    def false_block_rate(self) -> float:
        return self.false_block / self.n_ok if self.n_ok else 0.0

    @property
    def false_flag_rate(self) -> float:
        return self.false_flag / self.n_ok if self.n_ok else 0.0


def load_cases(split: str) -> list[Case]:
    folders = {"dev": ["data"], "heldout": ["heldout"], "all": ["data", "heldout"]}[split]
    cases: list[Case] = []
    for folder in folders:
        for path in sorted((HERE / folder).glob("*.yaml")):
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            prefixes = spec["rule"] if isinstance(spec["rule"], list) else [spec["rule"]]
            for label in ("violating", "compliant"):
                for item in spec.get(label, []):
                    cases.append(_case(path.stem, prefixes, label, item, spec, folder))
    return cases


def _case(rule: str, prefixes: list[str], label: str, item: Any, spec: dict, folder: str) -> Case:
    item = {"text": item} if isinstance(item, str) else dict(item)
    guide = load_guide(item.get("brand", spec.get("brand", "giftloft")))
    kind = item.get("kind", spec.get("kind", "subject_line"))
    content: VariantContent | str = (
        VariantContent(**item["content"]) if "content" in item else item["text"]
    )
    kwargs = {
        "kind": kind,
        "channel": item.get("channel", spec.get("channel")),
        "send_date": item.get("send_date", spec.get("send_date", DEFAULT_DATE)),
        "canary": item.get("canary"),
        "other_customer_markers": item.get("markers", []),
        "shared_facts": item.get("shared_facts", []),
    }
    split = "dev" if folder == "data" else "heldout"
    category = spec.get("category", "core")
    return Case(
        rule, prefixes, label, content, guide, kwargs, split, item.get("note", ""), category
    )


def _text(c: Case) -> str:
    return c.content if isinstance(c.content, str) else c.content.all_text()


def draft_text(c: Case) -> str:
    """What the pipeline's scoring stage embeds for a candidate (and the guard would)."""
    return as_content(c.content, c.kwargs["kind"]).all_text() or " "


def embed_cases(cases: list[Case], semantic: SemanticGuard | None) -> list[np.ndarray | None]:
    if semantic is None:
        return [None] * len(cases)
    return list(semantic.embed([draft_text(c) for c in cases]))


def score(
    cases: list[Case], semantic: SemanticGuard | None = None
) -> tuple[dict[str, RuleScore], list[float], dict[str, RuleScore]]:
    """Scores per rule file, check timings, and the same scores per category."""
    scores: dict[str, RuleScore] = {}
    by_cat: dict[str, RuleScore] = {}
    timings: list[float] = []
    vectors = embed_cases(cases, semantic)
    for c, vec in zip(cases, vectors, strict=True):
        report: GuardReport = check(
            c.content, c.guide, **c.kwargs, semantic=semantic, embedding=vec
        )
        for s in (
            scores.setdefault(c.rule, RuleScore(c.rule)),
            by_cat.setdefault(c.category, RuleScore(c.category)),
        ):
            _tally(s, c, report)
    # timing: warm guides, every case checked repeatedly
    for _ in range(5):
        for c, vec in zip(cases, vectors, strict=True):
            t0 = time.perf_counter()
            check(c.content, c.guide, **c.kwargs, semantic=semantic, embedding=vec)
            timings.append((time.perf_counter() - t0) * 1000)
    return scores, timings, by_cat


def _tally(s: RuleScore, c: Case, report: GuardReport) -> None:
    mine = [v for v in report.violations if any(v.rule_id.startswith(p) for p in c.prefixes)]
    if c.label == "violating":
        s.n_viol += 1
        if mine:
            s.caught += 1
        else:
            s.misses.append(f"{_text(c)!r} -> {[v.rule_id for v in report.violations]}")
    else:
        s.n_ok += 1
        s.false_flag += bool(mine)
        if report.blocking:
            s.false_block += 1
        if mine or report.blocking:
            got = sorted({v.rule_id for v in mine + report.blocking})
            s.false_hits.append(f"{_text(c)!r} -> {got}")


def summary(scores: dict[str, RuleScore], timings: list[float]) -> dict[str, Any]:
    n_viol = sum(s.n_viol for s in scores.values())
    n_ok = sum(s.n_ok for s in scores.values())
    recall = sum(s.caught for s in scores.values()) / max(n_viol, 1)
    fb = sum(s.false_block for s in scores.values()) / max(n_ok, 1)
    ff = sum(s.false_flag for s in scores.values()) / max(n_ok, 1)
    q = statistics.quantiles(timings, n=100) if len(timings) > 1 else [0.0] * 99
    worst = min((s.recall for s in scores.values()), default=1.0)
    return {
        "violating": n_viol,
        "compliant": n_ok,
        "recall": recall,
        "false_block_rate": fb,
        "false_flag_rate": ff,
        "worst_rule_recall": worst,
        "check_ms_p50": q[49],
        "check_ms_p95": q[94],
        "targets_met": recall >= TARGET_RECALL
        and fb <= TARGET_FALSE_BLOCK
        and worst >= TARGET_RULE_RECALL,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="list misses and false hits")
    ap.add_argument("--no-semantic", action="store_true", help="word rules only (no MiniLM)")
    args = ap.parse_args(argv)
    splits = ["dev", "heldout"] if args.split == "all" else [args.split]
    semantic = None if args.no_semantic else SemanticGuard(get_embedder("minilm"))
    result: dict[str, Any] = {}
    for split in splits:
        cases = load_cases(split)
        if not cases:
            continue
        scores, timings, by_cat = score(cases, semantic)
        result[split] = {
            "rules": _table(scores),
            "categories": _table(by_cat),
            "overall": summary(scores, timings),
        }
        for name, part in (("core", ["core"]), ("new", [k for k in by_cat if k != "core"])):
            sub = {k: v for k, v in by_cat.items() if k in part}
            if sub:
                result[split][f"overall_{name}"] = summary(sub, timings)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    for split, res in result.items():
        sem = "word rules only" if semantic is None else "with the semantic check (MiniLM)"
        print(f"\n== guard eval, {split} split, {sem} ==")
        _print_table("rule", res["rules"], args.verbose)
        o = res["overall"]
        _print_row("OVERALL", o)
        print(
            f"worst rule recall {o['worst_rule_recall']:.3f}; one check: p50 {o['check_ms_p50']:.3f} ms,"
            f" p95 {o['check_ms_p95']:.3f} ms; targets (recall>=0.98, false block<=2%,"
            f" every rule>=0.95): {'MET' if o['targets_met'] else 'NOT MET'}"
        )
        print(f"-- {split} split by category --")
        _print_table("category", res["categories"], False)
        for name in ("core", "new"):
            if f"overall_{name}" in res:
                o = res[f"overall_{name}"]
                _print_row(f"OVERALL {name}", o)
                print(
                    f"   {name} sets: worst category recall {o['worst_rule_recall']:.3f}; targets:"
                    f" {'MET' if o['targets_met'] else 'NOT MET'}"
                )
    return 0


def _table(scores: dict[str, RuleScore]) -> dict[str, dict[str, Any]]:
    return {
        r: {
            "violating": s.n_viol,
            "recall": round(s.recall, 4),
            "compliant": s.n_ok,
            "false_flag_rate": round(s.false_flag_rate, 4),
            "false_block_rate": round(s.false_block_rate, 4),
            "misses": s.misses,
            "false_hits": s.false_hits,
        }
        for r, s in sorted(scores.items())
    }


def _print_row(label: str, o: dict[str, Any]) -> None:
    print(
        f"{label:<24}{o['violating']:>5}{o['recall']:>8.3f}{o['compliant']:>5}"
        f"{o['false_flag_rate']:>12.3f}{o['false_block_rate']:>13.3f}"
    )


def _print_table(head: str, rows: dict[str, dict[str, Any]], verbose: bool) -> None:
    print(f"{head:<24}{'viol':>5}{'recall':>8}{'ok':>5}{'false flag':>12}{'false block':>13}")
    for rule, r in rows.items():
        print(
            f"{rule:<24}{r['violating']:>5}{r['recall']:>8.3f}{r['compliant']:>5}"
            f"{r['false_flag_rate']:>12.3f}{r['false_block_rate']:>13.3f}"
        )
        if verbose:
            for m in r["misses"]:
                print(f"    MISS  {m}")
            for m in r["false_hits"]:
                print(f"    FALSE {m}")


if __name__ == "__main__":
    sys.exit(main())
