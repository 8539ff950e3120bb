"""The click model's promotion gate: a new version replaces ``LATEST`` only when it ranks
held-out outcomes better than the current one, by a margin a bootstrap trusts.

The metric is pairwise accuracy on data neither model was trained on: the share of
pairs of copy shown in the same test (or campaign) that the model orders as the
customers did. Two kinds of units:

- ``group_pairs``: aggregated rows (Upworthy packages, a brand's CSV totals); a pair
  is two rows of one group with different observed click rates; the unit is a group.
- ``clicked_pairs``: one row per exposure (the brand's log); a pair is a clicked and
  an unclicked exposure of the same campaign; the unit is a clicked exposure.

``compare`` resamples the units (1000 times, seeded) and computes both models'
accuracy on the same resamples. The candidate is promoted iff the lower end of its
95% interval is above the current model's accuracy **and** the paired difference's
lower 95% bound is above 0: the rule ``learn evaluate`` applies to policies. Every
decision, with its numbers, is written next to the candidate (``decision.json``) and
appended to ``promotions.jsonl`` in the model root.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from genpersona.clickmodel.model import set_latest
from genpersona.errors import LearningInputError

GATE_METRIC = "pairwise_accuracy"


class GateScore(BaseModel):
    value: float
    low: float
    high: float
    units: int


class GateDecision(BaseModel):
    promote: bool
    #: promoted by ``--force`` although the rule said no (the rule's verdict is in ``reason``)
    forced: bool = False
    metric: str = GATE_METRIC
    #: which held-out data: e.g. "upworthy-weeks>=201502", "brand-exposures-hash30"
    holdout: str
    candidate_version: str
    current_version: str | None
    candidate: GateScore | None = None
    current: GateScore | None = None
    diff_low: float | None = None
    diff_high: float | None = None
    reason: str
    decided_at: str = ""
    #: the version ``LATEST`` names after the decision
    latest: str = ""


Units = tuple[np.ndarray, np.ndarray]


def group_pairs(
    scores: np.ndarray,
    groups: np.ndarray,
    impressions: np.ndarray,
    clicks: np.ndarray,
    texts: list[str] | None = None,
) -> Units:
    """(right, pairs) per group that has a pair with different observed rates; ties in
    the score count half. With ``texts``, pairs of the same text are left out (Upworthy
    tests often vary only the image: no text model can tell those apart), as the eval's
    pairwise scorer does."""
    z = np.asarray(scores, dtype=float)
    same_text = np.asarray(texts, dtype=object) if texts is not None else None
    rate = np.asarray(clicks, dtype=float) / np.maximum(np.asarray(impressions, float), 1)
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    right, total = [], []
    for g in range(int(inv.max()) + 1 if len(inv) else 0):
        idx = np.flatnonzero(inv == g)
        if len(idx) < 2:
            continue
        dz = z[idx][:, None] - z[idx][None, :]
        dr = rate[idx][:, None] - rate[idx][None, :]
        upper = np.triu(np.ones((len(idx), len(idx)), bool), 1) & (dr != 0)
        if same_text is not None:
            upper &= same_text[idx][:, None] != same_text[idx][None, :]
        n = int(upper.sum())
        if n == 0:
            continue
        ok = np.where(dz == 0, 0.5, (dz > 0) == (dr > 0))[upper]
        right.append(float(ok.sum()))
        total.append(float(n))
    return np.array(right), np.array(total)


def clicked_pairs(scores: np.ndarray, groups: np.ndarray, clicked: np.ndarray) -> Units:
    """(right, pairs) per clicked exposure against its campaign's unclicked ones."""
    z = np.asarray(scores, dtype=float)
    y = np.asarray(clicked).astype(bool)
    g = np.asarray(groups)
    right, total = [], []
    for i in np.flatnonzero(y):
        others = z[(g == g[i]) & ~y]
        if len(others) == 0:
            continue
        right.append(float(np.sum(others < z[i]) + 0.5 * np.sum(others == z[i])))
        total.append(float(len(others)))
    return np.array(right), np.array(total)


def compare(
    candidate: Units, current: Units | None, *, n_boot: int = 1000, seed: int = 0
) -> tuple[GateScore, GateScore | None, float | None, float | None]:
    """Both models' accuracy with percentile 95% intervals over the same resamples of the
    units, and the paired difference's interval."""
    c_num, den = candidate
    units = len(den)
    if units == 0:
        raise LearningInputError(
            "no held-out pairs to compare click models on",
            fix="collect more outcomes (clicked and unclicked copy in the same campaign or "
            "test), or pass --force to promote without the gate",
        )
    idx = np.random.default_rng(seed).integers(0, units, size=(n_boot, units))
    dsum = den[idx].sum(axis=1)
    c_boot = c_num[idx].sum(axis=1) / dsum
    cand = _score(float(c_num.sum() / den.sum()), c_boot, units)
    if current is None:
        return cand, None, None, None
    u_num = current[0]
    u_boot = u_num[idx].sum(axis=1) / dsum
    cur = _score(float(u_num.sum() / den.sum()), u_boot, units)
    d_low, d_high = np.percentile(c_boot - u_boot, [2.5, 97.5])
    return cand, cur, float(d_low), float(d_high)


def _score(value: float, boot: np.ndarray, units: int) -> GateScore:
    low, high = np.percentile(boot, [2.5, 97.5])
    return GateScore(value=value, low=float(low), high=float(high), units=units)


def rule(
    cand: GateScore, cur: GateScore | None, d_low: float | None, d_high: float | None
) -> tuple[bool, str]:
    """The promotion rule on computed scores, and its reason in words."""
    if cur is None or d_low is None:
        return True, "no current model to compare with: the first model is promoted"
    if cand.low > cur.value and d_low > 0:
        return True, (
            f"lower bound {cand.low:.4f} > current {cur.value:.4f} and paired difference "
            f"[{d_low:.4f}, {d_high:.4f}] > 0"
        )
    if cand.low <= cur.value:
        return False, f"lower bound {cand.low:.4f} does not beat current {cur.value:.4f}"
    return False, f"paired difference interval [{d_low:.4f}, {d_high:.4f}] includes 0"


def record(root: Path, decision: GateDecision) -> GateDecision:
    """Move ``LATEST`` if promoted and store the decision (version folder + root log)."""
    decision.decided_at = datetime.now(UTC).isoformat(timespec="seconds")
    latest_file = root / "LATEST"
    if decision.promote:
        set_latest(root, decision.candidate_version)
    decision.latest = (
        latest_file.read_text(encoding="utf-8").strip() if latest_file.exists() else ""
    )
    folder = root / decision.candidate_version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "decision.json").write_text(decision.model_dump_json(indent=2), encoding="utf-8")
    with (root / "promotions.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(decision.model_dump(mode="json")) + "\n")
    return decision


def decisions(root: Path) -> list[GateDecision]:
    """Every stored decision, oldest first."""
    path = root / "promotions.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [GateDecision.model_validate_json(line) for line in lines if line.strip()]
