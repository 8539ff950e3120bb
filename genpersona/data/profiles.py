"""Per-customer profiles: RFM, favourite themes, typical order time, price band.

Computed in pandas from the events table, for a whole brand at ingest or for
one customer when new events arrive (``recompute_profile``). Recency is
measured from the brand's latest event, not from today, so a historical data
set (the UCI shop ends on 2011-12-09) gives meaningful figures.
Events before a customer's ``learning_since`` (set by a reset) are ignored:
a reset forgets what we learned even though the purchases themselves are kept.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from genpersona.data.tables import (
    CatalogItem,
    Customer,
    CustomerProfile,
    Event,
)
from genpersona.data.themes import OTHER
from genpersona.db.base import utcnow

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EVENT_COLUMNS = [
    "id",
    "customer_id",
    "type",
    "ts",
    "stock_code",
    "quantity",
    "unit_price",
    "order_id",
]


def load_events(
    conn: Connection | Session, brand_id: int, customer_ids: list[int] | None = None
) -> pd.DataFrame:
    """Purchase and return events of customers (not guests), after each one's learning_since."""
    stmt = (
        select(
            Event.id,
            Event.customer_id,
            Event.type,
            Event.ts,
            Event.stock_code,
            Event.quantity,
            Event.unit_price,
            Event.order_id,
            Customer.learning_since,
        )
        .join(Customer, Customer.id == Event.customer_id)
        .where(Event.brand_id == brand_id, Event.type.in_(("purchase", "return")))
    )
    if customer_ids is not None:
        stmt = stmt.where(Event.customer_id.in_(customer_ids))
    rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=[*EVENT_COLUMNS, "learning_since"])
    if frame.empty:
        return frame.drop(columns=["learning_since"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    since = pd.to_datetime(frame["learning_since"])
    frame = frame[since.isna() | (frame["ts"] >= since)].drop(columns=["learning_since"])
    frame["quantity"] = frame["quantity"].fillna(1).astype(int)
    frame["unit_price"] = frame["unit_price"].fillna(0.0).astype(float)
    missing = frame["order_id"].isna()
    frame.loc[missing, "order_id"] = (
        frame.loc[missing, "customer_id"].astype(str) + "@" + frame.loc[missing, "ts"].astype(str)
    )
    return frame.reset_index(drop=True)


def item_context(
    conn: Connection | Session, brand_id: int
) -> tuple[dict[str, str], tuple[float, float]]:
    """Primary theme per stock code and the catalog's price tertile edges."""
    rows = conn.execute(
        select(
            CatalogItem.stock_code, CatalogItem.theme, CatalogItem.price, CatalogItem.is_product
        ).where(CatalogItem.brand_id == brand_id)
    ).all()
    themes = {r.stock_code: (r.theme or OTHER) for r in rows}
    prices = np.array([r.price for r in rows if r.is_product and r.price and r.price > 0], float)
    if len(prices) >= 3:
        edges = (float(np.quantile(prices, 1 / 3)), float(np.quantile(prices, 2 / 3)))
    else:
        edges = (2.0, 5.0)
    return themes, edges


def price_band(median_unit_price: float, edges: tuple[float, float]) -> str:
    if median_unit_price < edges[0]:
        return "budget"
    if median_unit_price <= edges[1]:
        return "mid"
    return "premium"


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2.0)])


def compute_profiles(
    events: pd.DataFrame,
    themes: dict[str, str],
    price_edges: tuple[float, float],
    as_of: datetime,
) -> pd.DataFrame:
    """One row per customer with purchases; columns match ``customer_profiles``."""
    cols = [
        "customer_id", "as_of", "recency_days", "frequency", "monetary", "n_returns",
        "first_order_at", "last_order_at", "avg_order_value", "favourite_themes", "theme_shares",
        "typical_order_weekday", "typical_order_hour", "top_month", "price_band",
    ]  # fmt: skip
    if events.empty:
        return pd.DataFrame(columns=cols)
    ev = events.assign(value=events["quantity"].abs() * events["unit_price"])
    buys = ev[ev["type"] == "purchase"]
    rets = ev[ev["type"] == "return"]
    if buys.empty:
        return pd.DataFrame(columns=cols)
    orders = (
        buys.groupby(["customer_id", "order_id"])
        .agg(ts=("ts", "min"), value=("value", "sum"))
        .reset_index()
    )
    orders["weekday"] = orders["ts"].dt.weekday
    orders["hour"] = orders["ts"].dt.hour
    orders["month"] = orders["ts"].dt.month
    g = orders.groupby("customer_id")
    prof = pd.DataFrame(
        {
            "frequency": g.size(),
            "first_order_at": g["ts"].min(),
            "last_order_at": g["ts"].max(),
            "avg_order_value": g["value"].mean().round(2),
            "gross": g["value"].sum(),
        }
    )
    returned = rets.groupby("customer_id")["value"].sum()
    prof["monetary"] = (prof["gross"] - returned.reindex(prof.index).fillna(0.0)).round(2)
    prof["n_returns"] = (
        rets.groupby("customer_id")["order_id"].nunique().reindex(prof.index).fillna(0).astype(int)
    )
    prof["recency_days"] = (pd.Timestamp(as_of) - prof["last_order_at"]).dt.days.clip(lower=0)

    def _mode(col: str) -> pd.Series:
        counts = orders.groupby(["customer_id", col]).size().reset_index(name="n")
        counts = counts.sort_values(["customer_id", "n", col], ascending=[True, False, True])
        return counts.drop_duplicates("customer_id").set_index("customer_id")[col]

    prof["typical_order_weekday"] = _mode("weekday").map(lambda d: WEEKDAYS[int(d)])
    prof["typical_order_hour"] = _mode("hour").astype(int)
    prof["top_month"] = _mode("month").astype(int)

    # theme shares by spend; fall back to line counts when prices are all zero
    lines = buys.assign(theme=buys["stock_code"].map(themes).fillna(OTHER))
    weight = np.where(lines["value"] > 0, lines["value"], 0.01)
    lines = lines.assign(w=weight)
    spend = lines.groupby(["customer_id", "theme"])["w"].sum()
    total = spend.groupby(level=0).transform("sum")
    shares = (spend / total).round(3)
    shares_by_customer: dict[int, dict[str, float]] = {}
    for (cid, theme), share in shares.items():
        shares_by_customer.setdefault(int(cid), {})[str(theme)] = float(share)
    prof["theme_shares"] = [
        dict(sorted(shares_by_customer.get(int(c), {}).items(), key=lambda kv: (-kv[1], kv[0])))
        for c in prof.index
    ]
    prof["favourite_themes"] = [_favourites(s) for s in prof["theme_shares"]]

    # price band from the quantity-weighted median unit price of what they bought
    priced = lines[lines["unit_price"] > 0]
    medians = {
        int(cid): _weighted_median(
            grp["unit_price"].to_numpy(), grp["quantity"].abs().to_numpy() + 0.0
        )
        for cid, grp in priced.groupby("customer_id")
    }
    prof["price_band"] = [
        price_band(medians[int(c)], price_edges) if int(c) in medians else None for c in prof.index
    ]
    prof["as_of"] = pd.Timestamp(as_of)
    prof = prof.reset_index().rename(columns={"index": "customer_id"})
    return prof[cols]


def _favourites(shares: dict[str, float], k: int = 3, min_share: float = 0.1) -> list[str]:
    named = [t for t, s in shares.items() if t != OTHER and s >= min_share]
    return named[:k] if named else [t for t in shares if t != OTHER][:1]


def _py(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def write_profiles(
    session: Session, brand_id: int, profiles: pd.DataFrame, customer_ids: list[int] | None = None
) -> int:
    """Replace the stored profiles (of the brand, or of the given customers) with ``profiles``."""
    stmt = delete(CustomerProfile).where(CustomerProfile.brand_id == brand_id)
    if customer_ids is not None:
        stmt = stmt.where(CustomerProfile.customer_id.in_(customer_ids))
    session.execute(stmt)
    if profiles.empty:
        return 0
    now = utcnow()
    rows = [
        {**{k: _py(v) for k, v in rec.items()}, "brand_id": brand_id, "computed_at": now}
        for rec in profiles.to_dict("records")
    ]
    session.execute(insert(CustomerProfile), rows)
    return len(rows)


def recompute_profile(
    session: Session, customer: Customer, as_of: datetime | None = None
) -> CustomerProfile | None:
    """Refresh one customer's profile from their events (after new events or a reset)."""
    events = load_events(session, customer.brand_id, [customer.id])
    themes, edges = item_context(session, customer.brand_id)
    if as_of is None:
        latest = session.scalar(
            select(func.max(Event.ts)).where(Event.brand_id == customer.brand_id)
        )
        as_of = latest or utcnow()
    profiles = compute_profiles(events, themes, edges, as_of)
    write_profiles(session, customer.brand_id, profiles, [customer.id])
    session.flush()
    return session.get(CustomerProfile, customer.id)
