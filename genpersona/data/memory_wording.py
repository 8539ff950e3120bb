"""The wording of behaviour facts: a customer's purchases -> sentences a copywriter can use.

Pure functions of frames (no database, no vectors), so the phrasing can be read
and tested on its own. Behaviour facts ("Favourite theme: candles and lanterns
(e.g. ...)", "Orders mostly in November", "Usually spends £15-30 per order") are
inferred from purchases, so they are stored with ``knowingly_shared=False``: the
agent may let them shape copy but must not quote them back. Storage is in
``memory_store.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genpersona.data.themes import LABELS, OTHER

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MAX_EVIDENCE = 20


def _nice_step(value: float) -> int:
    return 5 if value < 100 else 10 if value < 500 else 50 if value < 2000 else 100


def _nice_range(q1: float, q3: float) -> tuple[int, int]:
    """Round an interquartile range outwards to friendly figures: 15-30, 120-340, 1500-2400."""
    low = int(math.floor(q1 / _nice_step(q1)) * _nice_step(q1))
    high = int(math.ceil(q3 / _nice_step(q3)) * _nice_step(q3))
    if high <= low:
        high = low + _nice_step(q3)
    return low, high


def _hour_bucket(hour: int) -> str:
    if hour < 11:
        return "in the morning"
    if hour < 14:
        return "around midday"
    if hour < 18:
        return "in the afternoon"
    return "in the evening"


def _fact(
    kind: str, text: str, event_ids: Iterable[int], codes: Iterable[str] = (), note: str = ""
) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "provenance": {
            "event_ids": [int(i) for i in list(event_ids)[:MAX_EVIDENCE]],
            "stock_codes": [str(c) for c in list(codes)[:MAX_EVIDENCE]],
            "note": note,
        },
    }


def _examples(descs: list[str]) -> str:
    low = [d[:1].lower() + d[1:] if d[1:2].islower() else d for d in descs]
    return " and ".join(low) if len(low) <= 2 else ", ".join(low[:-1]) + " and " + low[-1]


@dataclass
class CustomerView:
    """One customer's purchases, pre-aggregated in a single pass over all customers."""

    items: pd.DataFrame  # stock_code, theme, orders, qty (sorted by orders, qty desc)
    item_ids: dict[str, list[int]]  # stock_code -> event ids
    theme_ids: dict[str, list[int]]  # theme -> event ids
    order_ts: pd.Series  # one timestamp per order
    order_first_id: np.ndarray
    order_value: np.ndarray
    line_ids: list[int]
    median_qty: float


def facts_for_customer(
    view: CustomerView,
    profile: dict[str, Any],
    descriptions: dict[str, str],
    price_edges: tuple[float, float],
    labels: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Behaviour facts for one customer from their aggregated purchases and profile."""
    labels = labels or LABELS
    if view.items.empty:
        return []
    facts: list[dict[str, Any]] = []
    freq = int(profile["frequency"])
    items = view.items

    # favourite themes with the customer's own most-reordered items as examples
    for rank, theme in enumerate((profile.get("favourite_themes") or [])[:2]):
        in_theme = items[items["theme"] == theme]
        if in_theme.empty:
            continue
        top = [c for c in in_theme["stock_code"].iloc[:2] if c in descriptions]
        label = labels.get(theme, theme)
        share = float((profile.get("theme_shares") or {}).get(theme, 0.0))
        examples = f" (e.g. {_examples([descriptions[c] for c in top])})" if top else ""
        if rank == 0:
            text = f"Favourite theme: {label}, about {round(share * 100)}% of their spend{examples}"
        else:
            verb = "Also often buys" if int(in_theme["orders"].max()) >= 2 else "Has also bought"
            text = f"{verb} {label}{examples}"
        facts.append(
            _fact("theme", text, view.theme_ids.get(theme, []), in_theme["stock_code"].iloc[:5],
                  note=f"theme={theme}")
        )  # fmt: skip

    # a product they keep coming back for
    best = items.iloc[0]
    if int(best["orders"]) >= 3 and best["stock_code"] in descriptions:
        desc = descriptions[best["stock_code"]]
        facts.append(
            _fact(
                "product",
                f"Reorders the {desc[:1].lower() + desc[1:]} regularly ({int(best['orders'])} orders)",
                view.item_ids.get(best["stock_code"], []),
                [best["stock_code"]],
            )
        )

    ts = view.order_ts
    first_ids = view.order_first_id
    # seasonality
    if freq >= 3:
        months = ts.dt.month.to_numpy()
        counts = np.bincount(months, minlength=13)
        top_month = int(counts.argmax())
        share = counts[top_month] / len(months)
        q4 = np.isin(months, [9, 10, 11, 12])
        if share >= 0.4:
            facts.append(
                _fact(
                    "season",
                    f"Orders mostly in {MONTHS[top_month - 1]}",
                    first_ids[months == top_month],
                    note=f"{round(share * 100)}% of {freq} orders",
                )
            )
        elif q4.mean() >= 0.6:
            facts.append(
                _fact(
                    "season",
                    "Orders mostly in the run-up to Christmas (September to December)",
                    first_ids[q4],
                    note=f"{round(float(q4.mean()) * 100)}% of {freq} orders",
                )
            )
    # order value
    if freq >= 2:
        q1, q3 = np.quantile(view.order_value, [0.25, 0.75])
        low, high = _nice_range(float(q1), float(q3))
        facts.append(
            _fact(
                "spend",
                f"Usually spends £{low}–{high} per order"
                if low > 0
                else f"Usually spends up to £{high} per order",
                first_ids,
                note=f"interquartile order value over {freq} orders",
            )
        )
    # timing
    if freq >= 3:
        weekday = profile.get("typical_order_weekday")
        wd_share = float((ts.dt.day_name() == weekday).mean()) if isinstance(weekday, str) else 0.0
        buckets = [_hour_bucket(h) for h in ts.dt.hour]
        bucket = max(sorted(set(buckets)), key=buckets.count)
        b_share = buckets.count(bucket) / len(buckets)
        parts = []
        if wd_share >= 0.4:
            parts.append(f"on {weekday}s")
        if b_share >= 0.5:
            parts.append(bucket)
        if parts:
            facts.append(_fact("timing", "Usually orders " + ", ".join(parts), first_ids))
    # price band
    band = profile.get("price_band")
    if isinstance(band, str) and band:
        lo, hi = price_edges
        phrase = {
            "budget": f"budget items (typically under £{lo:.2f} each)",
            "mid": f"mid-priced items (typically £{lo:.2f}–£{hi:.2f} each)",
            "premium": f"premium items (typically over £{hi:.2f} each)",
        }[band]
        facts.append(_fact("price", f"Mostly buys {phrase}", view.line_ids))
    # bulk buying: common among this shop's trade customers
    if view.median_qty >= 24:
        facts.append(
            _fact(
                "bulk",
                f"Buys in bulk: typically {int(view.median_qty)} or more of an item per order line",
                view.line_ids,
            )
        )
    # loyalty and recency
    first, last = profile.get("first_order_at"), profile.get("last_order_at")
    recency = profile.get("recency_days")
    if freq >= 10 and first is not None:
        facts.append(
            _fact(
                "loyalty",
                f"Loyal customer: {freq} orders since {MONTHS[first.month - 1]} {first.year}",
                first_ids,
            )
        )
    if recency is not None and recency >= 120 and last is not None:
        facts.append(
            _fact(
                "recency",
                f"Has not ordered since {MONTHS[last.month - 1]} {last.year}",
                first_ids[np.argsort(ts.to_numpy())][-1:],
            )
        )
    elif freq <= 2 and recency is not None and first is not None and recency <= 30:
        facts.append(
            _fact(
                "recency",
                f"New customer: first order in {MONTHS[first.month - 1]} {first.year}",
                first_ids,
            )
        )
    return facts


def _views(events: pd.DataFrame, themes: dict[str, str]) -> dict[int, CustomerView]:
    """Aggregate every customer's purchases with whole-frame groupbys, then slice."""
    buys = events[events["type"] == "purchase"]
    buys = buys.assign(
        theme=buys["stock_code"].map(themes).fillna(OTHER),
        value=buys["quantity"].abs() * buys["unit_price"],
    )
    items = (
        buys.groupby(["customer_id", "stock_code"])
        .agg(orders=("order_id", "nunique"), qty=("quantity", "sum"), theme=("theme", "first"))
        .reset_index()
        .sort_values(
            ["customer_id", "orders", "qty", "stock_code"], ascending=[True, False, False, True]
        )
    )
    item_ids = buys.groupby(["customer_id", "stock_code"])["id"].agg(list)
    theme_ids = buys.groupby(["customer_id", "theme"])["id"].agg(list)
    orders = (
        buys.groupby(["customer_id", "order_id"])
        .agg(ts=("ts", "min"), first_id=("id", "min"), value=("value", "sum"))
        .reset_index()
    )
    line_ids = buys.groupby("customer_id")["id"].agg(list)
    median_qty = buys.groupby("customer_id")["quantity"].median()
    by_item: dict[int, dict[str, list[int]]] = {}
    for (cid, code), ids in item_ids.items():
        by_item.setdefault(int(cid), {})[code] = ids
    by_theme: dict[int, dict[str, list[int]]] = {}
    for (cid, theme), ids in theme_ids.items():
        by_theme.setdefault(int(cid), {})[theme] = ids
    item_groups = {int(k): v for k, v in items.groupby("customer_id").indices.items()}
    order_groups = {int(k): v for k, v in orders.groupby("customer_id").indices.items()}
    views: dict[int, CustomerView] = {}
    for cid, idx in item_groups.items():
        o = order_groups[cid]
        views[cid] = CustomerView(
            items=items.iloc[idx].reset_index(drop=True),
            item_ids=by_item.get(cid, {}),
            theme_ids=by_theme.get(cid, {}),
            order_ts=orders["ts"].iloc[o].reset_index(drop=True),
            order_first_id=orders["first_id"].to_numpy()[o],
            order_value=orders["value"].to_numpy()[o],
            line_ids=line_ids.get(cid, []),
            median_qty=float(median_qty.get(cid, 0.0)),
        )
    return views


def derive_behaviour_facts(
    events: pd.DataFrame,
    profiles: pd.DataFrame,
    descriptions: dict[str, str],
    themes: dict[str, str],
    price_edges: tuple[float, float],
    labels: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Facts for every customer that has a profile; each dict carries customer_id."""
    if events.empty or profiles.empty:
        return []
    views = _views(events, themes)
    out: list[dict[str, Any]] = []
    for prof in profiles.to_dict("records"):
        cid = int(prof["customer_id"])
        if cid not in views:
            continue
        for fact in facts_for_customer(views[cid], prof, descriptions, price_edges, labels):
            out.append({**fact, "customer_id": cid})
    return out
