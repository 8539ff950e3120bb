"""Send-time eval on UCI Online Retail: does the predicted hour-of-week catch the next order?

    python -m evals.sendtime.run [--data PATH] [--cutoff 2011-09-01] [--json]

Protocol (scorer version ``sendtime-v1``):
- orders = distinct invoices (cancellations "C..." dropped), timed by their first line;
- profiles from orders strictly before the cutoff; the prior weight is chosen on a
  validation split inside the training period (profiles < 2011-06-01, next order
  2011-06-01..cutoff), never on the test period;
- for each customer with at least one order before the cutoff and one after, the
  target is the hour-of-week of their first order after the cutoff; a hit is a
  circular distance of at most 2 hours from the prediction.
Baselines, in the same run: the population's most common hour-of-week (raw mode),
the population's best 5-hour window (the same smoothing as ours, no personal data),
the customer's last order hour-of-week, and a uniformly random hour (seeded).
The UCI timestamps are the shop's (UK) local time, so no zone conversion is applied.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from genpersona.delivery.sendtime import (
    DEFAULT_PRIOR_WEIGHT,
    HOURS_PER_WEEK,
    best_hour,
    circular_distance,
    population_prior,
    smooth,
)

SCORER_VERSION = "sendtime-v1"
DEFAULT_DATA = Path("/work/shared/data/online_retail.parquet")
TOLERANCE_H = 2
TARGET_RATIO = 1.5
WEIGHTS = (0.5, 2.0, 10.0, 30.0, 100.0)


def load_orders(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path, columns=["InvoiceNo", "InvoiceDate", "CustomerID"])
    df = df[df["CustomerID"].notna() & ~df["InvoiceNo"].astype(str).str.startswith("C")]
    orders = df.groupby(["CustomerID", "InvoiceNo"], as_index=False)["InvoiceDate"].min()
    ts = orders["InvoiceDate"]
    orders["how"] = ts.dt.day_of_week * 24 + ts.dt.hour
    return orders.sort_values(["CustomerID", "InvoiceDate"]).reset_index(drop=True)


def _cases(
    orders: pd.DataFrame, start: pd.Timestamp | None, cutoff: pd.Timestamp, end: pd.Timestamp | None
) -> tuple[dict[float, list[int]], dict[float, int], list[int]]:
    """(history hours per customer, target hour per customer, all history hours)."""
    train = orders[orders["InvoiceDate"] < cutoff]
    if start is not None:
        train = train[train["InvoiceDate"] >= start]
    later = orders[orders["InvoiceDate"] >= cutoff]
    if end is not None:
        later = later[later["InvoiceDate"] < end]
    history = {c: list(g["how"]) for c, g in train.groupby("CustomerID")}
    target = {c: int(g["how"].iloc[0]) for c, g in later.groupby("CustomerID") if c in history}
    return history, target, list(train["how"])


def _hit_rate(pred: dict[float, int], target: dict[float, int]) -> float:
    hits = sum(circular_distance(pred[c], t) <= TOLERANCE_H for c, t in target.items())
    return hits / len(target) if target else 0.0


def _ours(history: dict[float, list[int]], prior: np.ndarray, weight: float) -> dict[float, int]:
    return {c: best_hour(h, prior, prior_weight=weight)[0] for c, h in history.items()}


def evaluate(path: Path, cutoff: str = "2011-09-01") -> dict[str, object]:
    orders = load_orders(path)
    cut = pd.Timestamp(cutoff)
    val_cut = pd.Timestamp("2011-06-01")
    # validation: choose the prior weight inside the training period only
    v_hist, v_target, v_all = _cases(orders, None, val_cut, cut)
    v_prior = population_prior(v_all)
    val = {w: _hit_rate(_ours(v_hist, v_prior, w), v_target) for w in WEIGHTS}
    weight = max(val, key=lambda w: (val[w], w == DEFAULT_PRIOR_WEIGHT))

    history, target, all_hours = _cases(orders, None, cut, None)
    prior = population_prior(all_hours)
    mode = int(np.argmax(prior))
    window_best = int(np.argmax(smooth(prior)))
    rng = np.random.default_rng(42)
    random_pred = {c: int(rng.integers(0, HOURS_PER_WEEK)) for c in target}
    rates = {
        "ours": _hit_rate(_ours(history, prior, weight), target),
        "population_mode": _hit_rate({c: mode for c in target}, target),
        "population_best_window": _hit_rate({c: window_best for c in target}, target),
        "last_order_hour": _hit_rate({c: history[c][-1] for c in target}, target),
        "random_hour": _hit_rate(random_pred, target),
    }
    ratio = rates["ours"] / rates["population_mode"] if rates["population_mode"] else 0.0
    return {
        "scorer": SCORER_VERSION,
        "cutoff": cutoff,
        "customers": len(target),
        "tolerance_hours": TOLERANCE_H,
        "prior_weight": weight,
        "validation_hit_rate_by_weight": val,
        "hit_rate": rates,
        "ratio_vs_population_mode": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cutoff", default="2011-09-01")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"data file {args.data} not found; pass --data PATH", file=sys.stderr)
        return 2
    report = evaluate(args.data, args.cutoff)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"send-time ({report['scorer']}): {report['customers']} customers, next order "
            f"within ±{TOLERANCE_H} h of the predicted hour-of-week; prior weight "
            f"{report['prior_weight']} (chosen on validation {report['validation_hit_rate_by_weight']})"
        )
        for name, rate in report["hit_rate"].items():  # type: ignore[attr-defined]
            print(f"  {name:24s} {rate:.3f}")
        print(
            f"  ours / population mode = {report['ratio_vs_population_mode']:.2f}x "
            f"(target >= {TARGET_RATIO}x): {'met' if report['meets_target'] else 'NOT met'}"
        )
    return 0 if report["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
