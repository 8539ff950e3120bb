"""Profiles, themes and memory-fact wording on hand-built frames."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from genpersona.data.catalog import clean_description
from genpersona.data.locales import locale_for_country
from genpersona.data.memory_wording import _nice_range, derive_behaviour_facts
from genpersona.data.profiles import compute_profiles
from genpersona.data.themes import OTHER, assign_themes, keyword_themes


def _events() -> pd.DataFrame:
    rows = []
    eid = 0
    for i, day in enumerate(
        ["2011-11-03 09:00", "2011-11-10 09:30", "2011-11-17 10:00", "2011-06-02 16:00"]
    ):
        for code, qty, price in [("A", 6, 2.0), ("B", 1, 20.0)]:
            eid += 1
            rows.append((eid, 7, "purchase", pd.Timestamp(day), code, qty, price, f"o{i}"))
    eid += 1
    rows.append((eid, 7, "return", pd.Timestamp("2011-11-20"), "B", 1, 20.0, "c1"))
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "customer_id",
            "type",
            "ts",
            "stock_code",
            "quantity",
            "unit_price",
            "order_id",
        ],
    )


def test_rfm_time_theme_and_price_band():
    themes = {"A": "candles-and-lanterns", "B": "kitchen-and-baking"}
    prof = compute_profiles(_events(), themes, (1.0, 5.0), datetime(2011, 12, 1)).iloc[0]
    assert prof["frequency"] == 4
    assert prof["monetary"] == 4 * 32.0 - 20.0
    assert prof["recency_days"] == 13
    assert prof["typical_order_weekday"] == "Thursday"
    assert prof["top_month"] == 11
    assert prof["favourite_themes"][0] == "kitchen-and-baking"  # 20 of 32 per order
    assert prof["price_band"] == "mid"  # quantity-weighted median unit price 2.0


def test_memory_facts_read_like_copywriter_notes():
    themes = {"A": "candles-and-lanterns", "B": "kitchen-and-baking"}
    events = _events()
    profiles = compute_profiles(events, themes, (1.0, 5.0), datetime(2011, 12, 1))
    facts = derive_behaviour_facts(
        events, profiles, {"A": "White lantern", "B": "Cake stand"}, themes, (1.0, 5.0)
    )
    texts = {f["kind"]: f["text"] for f in facts}
    assert texts["season"] == "Orders mostly in November"
    assert texts["spend"] == "Usually spends £30–35 per order"
    theme_facts = [f["text"] for f in facts if f["kind"] == "theme"]
    assert theme_facts[0].startswith("Favourite theme: kitchen and baking")
    assert "cake stand" in theme_facts[0]
    assert theme_facts[1] == "Also often buys candles and lanterns (e.g. white lantern)"
    assert texts["product"] == "Reorders the white lantern regularly (4 orders)"
    assert texts["timing"] == "Usually orders on Thursdays, in the morning"
    assert all(f["provenance"]["event_ids"] for f in facts)


def test_nice_ranges():
    assert _nice_range(16, 28) == (15, 30)
    assert _nice_range(120, 340) == (120, 340)
    assert _nice_range(1520, 2380) == (1500, 2400)


def test_keyword_taxonomy_and_embedding_fallback():
    assert keyword_themes("White hanging heart t-light holder")[0] == "candles-and-lanterns"
    assert keyword_themes("Paper chain kit 50's christmas")[0] == "christmas"
    assert keyword_themes("Vintage christmas tea set")[:1] == ["christmas"]
    assert "vintage" in keyword_themes("Vintage christmas tea set")
    cat = pd.DataFrame(
        {
            "stock_code": ["a", "b", "c"],
            "description": ["Glass lantern", "Mystery thing", "Odd gizmo"],
        }
    )
    vec = np.array([[1, 0, 0], [0.95, 0.31, 0], [0, 0, 1]], np.float32)
    got = assign_themes(cat, vec, min_similarity=0.5)
    assert got.primary["b"] == "candles-and-lanterns" and got.primary["c"] == OTHER
    assert got.stats == {"keyword": 1, "embedding": 1, "default": 1}


def test_cleaning_and_locales():
    assert clean_description("  WHITE METAL LANTERN . ") == "White metal lantern"
    assert clean_description(float("nan")) == "" and clean_description("nan") == ""
    assert locale_for_country("EIRE").locale == "en-IE"
    assert locale_for_country("Atlantis").locale == "en-GB"
