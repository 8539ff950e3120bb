"""Popularity tables: global (recent), by country, by month-of-year season.

They serve two jobs: the cold-start answer for new or anonymous visitors, and a
prior mixed into personal scores. Country and season tables are *shares of
buyers* shrunk toward the global share, so a country with five customers does
not get a top-10 made of whatever those five happened to buy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def _scale(v: np.ndarray) -> np.ndarray:
    top = float(v.max()) if len(v) else 0.0
    return (v / top).astype(np.float32) if top > 0 else np.zeros(len(v), np.float32)


@dataclass
class PopularityTables:
    global_recent: np.ndarray  # (n_items,) recency-decayed buyers, scaled to max 1
    countries: np.ndarray  # (n_countries,) str
    country_share: np.ndarray  # (n_countries, n_items) shrunk buyer share, scaled per row
    season_share: np.ndarray  # (12, n_items) shrunk buyer share around each month, scaled per row
    active: np.ndarray  # (n_items,) bool: sold within active_days before now
    #: (n_items,) new arrivals selling now: buyers in the last ``trend_days`` of items first
    #: sold within ``launch_days`` before now, scaled to max 1 (zeros for old model files).
    trend: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.trend is None:
            self.trend = np.zeros(len(self.global_recent), np.float32)
        self._country_row = {c.casefold(): i for i, c in enumerate(self.countries.tolist())}

    def country_row(self, country: str | None) -> int | None:
        return None if not country else self._country_row.get(country.strip().casefold())

    def for_country(self, country: str | None) -> np.ndarray:
        row = self.country_row(country)
        return self.global_recent if row is None else self.country_share[row]

    def for_month(self, month: int) -> np.ndarray:
        return self.season_share[month - 1]

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "pop_global_recent": self.global_recent,
            "pop_countries": self.countries.astype(str),
            "pop_country_share": self.country_share,
            "pop_season_share": self.season_share,
            "pop_active": self.active,
            "pop_trend": self.trend if self.trend is not None else np.zeros(0, np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PopularityTables:
        return cls(
            arrays["pop_global_recent"],
            arrays["pop_countries"],
            arrays["pop_country_share"],
            arrays["pop_season_share"],
            arrays["pop_active"],
            arrays.get("pop_trend"),
        )


def build_popularity(
    purchases: pd.DataFrame,
    n_items: int,
    *,
    now_day: float,
    half_life_days: float,
    active_days: int,
    shrink: float,
    sales: pd.DataFrame | None = None,
    trend_days: int = 28,
    launch_days: int = 56,
) -> PopularityTables:
    """Count each buyer once per item (their latest purchase), decayed by age for recency.

    ``sales`` (default: ``purchases``) decides which items are still on sale; it may
    include rows, such as guest checkouts, that should not count as buyers.
    """
    buyer = purchases["customer_id"].where(
        purchases["customer_id"].notna(), "basket:" + purchases["basket_id"].astype(str)
    )
    frame = pd.DataFrame(
        {
            "buyer": buyer.to_numpy(),
            "item": purchases["item"].to_numpy(),
            "day": purchases["day"].to_numpy(),
            "country": purchases["country"].to_numpy(),
            "month": purchases["ts"].dt.month.to_numpy(),
        }
    )
    frame = frame[frame["day"] <= now_day + 1e-9]
    latest = frame.sort_values("day").drop_duplicates(["buyer", "item"], keep="last").copy()
    latest["decay"] = 0.5 ** ((now_day - latest["day"]) / half_life_days)
    latest["one"] = 1.0

    global_recent = np.zeros(n_items)
    per_item = latest.groupby("item")["decay"].sum()
    global_recent[per_item.index.to_numpy()] = per_item.to_numpy()
    n_buyers = latest.drop_duplicates("buyer")["decay"].sum()
    global_share = global_recent / max(n_buyers, 1e-9)

    countries = np.array(sorted(c for c in latest["country"].unique() if c), dtype=str)
    country_share = np.zeros((len(countries), n_items), np.float32)
    by_country = latest.groupby(["country", "item"])["decay"].sum()
    buyers_by_country = (
        latest.drop_duplicates(["country", "buyer"]).groupby("country")["decay"].sum()
    )
    for row, country in enumerate(countries):
        counts = np.zeros(n_items)
        part = by_country.loc[country]
        counts[part.index.to_numpy()] = part.to_numpy()
        share = (counts + shrink * global_share) / (buyers_by_country[country] + shrink)
        country_share[row] = _scale(share)

    # Seasons: undecayed month-of-year counts (last December predicts this December).
    month_counts = np.zeros((12, n_items))
    month_buyers = np.zeros(12)
    per_month = frame.drop_duplicates(["buyer", "item", "month"])
    per_month_item = per_month.groupby(["month", "item"]).size()
    mi = per_month_item.index
    month_counts[mi.get_level_values(0).to_numpy() - 1, mi.get_level_values(1).to_numpy()] = (
        per_month_item.to_numpy()
    )
    mb = per_month.drop_duplicates(["buyer", "month"]).groupby("month").size()
    month_buyers[mb.index.to_numpy() - 1] = mb.to_numpy()
    all_share = month_counts.sum(axis=0) / max(month_buyers.sum(), 1e-9)
    season_share = np.zeros((12, n_items), np.float32)
    for m in range(12):
        # A season is the month itself plus half of each neighbouring month.
        near = [(m, 1.0), ((m - 1) % 12, 0.5), ((m + 1) % 12, 0.5)]
        counts = sum(w * month_counts[i] for i, w in near)
        buyers = sum(w * month_buyers[i] for i, w in near)
        season_share[m] = _scale((counts + shrink * all_share) / (buyers + shrink))

    active = np.zeros(n_items, bool)
    sold = purchases if sales is None else sales
    window = (sold["day"] >= now_day - active_days) & (sold["day"] <= now_day + 1e-9)
    recent = sold.loc[window, "item"].unique()
    active[recent] = True
    trend = new_arrivals(frame, sold, n_items, now_day, trend_days, launch_days)
    return PopularityTables(
        _scale(global_recent), countries, country_share, season_share, active, trend
    )


def new_arrivals(
    counted: pd.DataFrame,
    sold: pd.DataFrame,
    n_items: int,
    now_day: float,
    trend_days: int,
    launch_days: int,
) -> np.ndarray:
    """Distinct buyers in the last ``trend_days`` of items launched in the last ``launch_days``.

    Customers keep discovering what was just added to the range (new season stock):
    on the validation split these items make up a large share of the next months'
    first-time purchases, which neither co-purchase (no history yet) nor all-time
    popularity (too few sales yet) can see. The launch date is the first sale
    anywhere (``sold``, guests included); the buyers are ``counted`` ones.
    """
    first = np.full(n_items, np.inf)
    upto = sold[sold["day"] <= now_day + 1e-9]
    first_sale = upto.groupby("item")["day"].min()
    first[first_sale.index.to_numpy()] = first_sale.to_numpy()
    recent = counted[counted["day"] >= now_day - trend_days].drop_duplicates(["buyer", "item"])
    buyers = np.bincount(recent["item"].to_numpy(), minlength=n_items).astype(np.float64)
    buyers[first < now_day - launch_days] = 0.0
    return _scale(buyers)
