"""Temporal splits: fit on everything before a cutoff, score on what came after.

A customer counts when they bought before the cutoff (so there is a history to
personalize from) and after it (so there is something to hit). "All" held-out
items are every distinct stock code they bought in the window, repurchases
included; "new" keeps only codes they had never bought before the cutoff,
which is where discovery (and excluding what they already own) matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Split:
    name: str
    cutoff: pd.Timestamp
    end: pd.Timestamp
    train: pd.DataFrame
    prior: dict[str, set[str]]  # customer -> codes bought before the cutoff
    held_all: dict[str, set[str]]  # customer -> codes bought in [cutoff, end)
    held_new: dict[str, set[str]]  # held_all minus prior, customers with >= 1 such code
    new_customers: dict[str, tuple[str, set[str]]]  # first purchase in window: country, codes

    def customers(self, which: str) -> list[str]:
        return sorted(self.held_all if which == "all" else self.held_new)


def make_split(
    purchases: pd.DataFrame,
    cutoff: str,
    end: str | None = None,
    *,
    name: str,
    limit: int | None = None,
    seed: int = 0,
) -> Split:
    cut = pd.Timestamp(cutoff)
    stop = pd.Timestamp(end) if end else purchases["ts"].max() + pd.Timedelta(seconds=1)
    train = purchases[purchases["ts"] < cut]
    window = purchases[(purchases["ts"] >= cut) & (purchases["ts"] < stop)]
    known_train = train[train["customer_id"].notna()]
    known_window = window[window["customer_id"].notna()]
    prior = known_train.groupby("customer_id")["stock_code"].agg(set).to_dict()
    after = known_window.groupby("customer_id")["stock_code"].agg(set).to_dict()
    both = sorted(set(prior) & set(after))
    if limit is not None and limit < len(both):
        rng = np.random.default_rng(seed)
        both = sorted(rng.choice(both, size=limit, replace=False).tolist())
    held_all = {c: after[c] for c in both}
    held_new = {c: after[c] - prior[c] for c in both if after[c] - prior[c]}
    countries = known_window.groupby("customer_id")["country"].first().to_dict()
    newcomers = sorted(set(after) - set(prior))
    if limit is not None and limit < len(newcomers):
        newcomers = newcomers[:limit]
    new_customers = {c: (countries[c], after[c]) for c in newcomers}
    return Split(name, cut, stop, train, prior, held_all, held_new, new_customers)
