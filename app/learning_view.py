"""Learning: per campaign, the recipe allocation over time, P(best) and expected loss,
clicks against an even split, and the stored off-policy evaluations — as charts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from genpersona.learning.view import learning_campaigns, load_summary


def render() -> None:
    st.title("Learning")
    pairs = learning_campaigns()
    if not pairs:
        st.info("No exposures yet: deliver a campaign, then run `genpersona learn update`.")
        return
    brand, campaign = st.selectbox(
        "Campaign", pairs, format_func=lambda p: f"{p[0]} / {p[1]}", key="l_campaign"
    )
    data = load_summary(brand, campaign)
    m = st.columns(3)
    m[0].metric("Exposures", f"{data.exposures:,}")
    m[1].metric("Clicks", f"{data.clicks:,}")
    m[2].metric(
        "Even split would have got",
        f"{data.even_split_clicks:,.1f}",
        delta=f"{data.clicks - data.even_split_clicks:+.1f}",
        help="Inverse-propensity estimate of an even split over the same customers' variants.",
    )
    if not data.allocations:
        st.info("No allocation stored yet: run `genpersona learn update --campaign ...`.")
        return
    rows = pd.DataFrame(data.allocation_rows())
    left, right = st.columns(2)
    left.subheader("Allocation over versions")
    left.altair_chart(
        alt.Chart(rows)
        .mark_area()
        .encode(
            x=alt.X("version:O", title="allocation version"),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title=None),
            color="recipe:N",
        )
    )
    latest = data.allocations[-1]
    arms = pd.DataFrame([a.model_dump() for a in latest.arms]).set_index("recipe_id")
    right.subheader(f"Latest (v{latest.version}): P(best) and expected loss")
    right.bar_chart(arms[["p_best"]], horizontal=True)
    right.bar_chart(arms[["expected_loss"]], horizontal=True)
    st.dataframe(arms[["impressions", "clicks", "p", "p_best", "expected_loss", "retired"]])
    st.subheader("Off-policy evaluations")
    if not data.evaluations:
        st.caption("None yet: `genpersona learn evaluate --policy FILE --campaign NAME`.")
        return
    ev = pd.DataFrame([e.model_dump() for e in data.evaluations])
    ev["label"] = ev["candidate"] + " (" + ev["estimator"] + ")"
    base = alt.Chart(ev).encode(y=alt.Y("label:N", title=None))
    st.altair_chart(
        base.mark_rule().encode(x=alt.X("low:Q", title="click rate"), x2="high:Q")
        + base.mark_point(filled=True).encode(x="value:Q", color="promoted:N")
        + base.mark_tick(color="gray").encode(x="current:Q")
    )
