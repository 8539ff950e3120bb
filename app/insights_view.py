"""Insights: how reviewing goes, as charts — approval rate, rejections, violations, edit size."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from genpersona.delivery.report import COUNTED, campaign_report
from genpersona.delivery.send_times import campaign_send_distribution
from genpersona.errors import NotFound
from genpersona.review.insights import insights
from genpersona.review.models import REJECT_REASONS
from genpersona.review.queue import filter_options

ANY = "All"


def render() -> None:
    st.title("Insights")
    opts = filter_options()
    cols = st.columns(3)
    brand = cols[0].selectbox("Brand", [ANY, *opts["brands"]], key="i_brand")
    campaign = cols[1].selectbox("Campaign", [ANY, *opts["campaigns"]], key="i_campaign")
    days = cols[2].selectbox(
        "Period", [7, 30, 90, 365], index=1, key="i_days", format_func=lambda d: f"last {d} days"
    )
    data = insights(
        brand=None if brand == ANY else brand,
        campaign=None if campaign == ANY else campaign,
        days=int(days),
    )
    if brand != ANY and campaign != ANY:
        _send_times(brand, campaign)
    if not data.decided and not data.violations_by_rule:
        st.info("No decisions in this period yet.")
        _outcomes(None if brand == ANY else brand, None if campaign == ANY else campaign)
        return

    judged = sum(d.approved + d.edited + d.rejected for d in data.by_day)
    approved = sum(d.approved + d.edited for d in data.by_day)
    m = st.columns(4)
    m[0].metric("Decisions", f"{data.decided:,}")
    m[1].metric("Approval rate", f"{approved / judged:.0%}" if judged else "—")
    m[2].metric("Edited", f"{sum(d.edited for d in data.by_day):,}")
    m[3].metric("Avg edit size", f"{data.avg_edit_size:.1f} words" if data.avg_edit_size else "—")

    if data.by_day:
        days_df = pd.DataFrame(
            [
                {
                    "day": pd.Timestamp(d.day),
                    "approved": d.approved,
                    "edited": d.edited,
                    "rejected": d.rejected,
                    "expired": d.expired,
                    "approval rate": d.approval_rate,
                }
                for d in data.by_day
            ]
        ).set_index("day")
        left, right = st.columns(2)
        left.subheader("Approval rate over time")
        rate = (
            alt.Chart(days_df.reset_index())
            .mark_line(point=True)  # points, so a single day still shows
            .encode(
                x=alt.X("day:T", title=None),
                y=alt.Y(
                    "approval rate:Q",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                    title=None,
                ),
            )
        )
        left.altair_chart(rate)
        right.subheader("Decisions per day")
        right.bar_chart(days_df[["approved", "edited", "rejected", "expired"]])

    left, right = st.columns(2)
    left.subheader("Rejections by reason")
    if data.rejections_by_reason:
        left.bar_chart(
            pd.DataFrame(
                {
                    "reason": [REJECT_REASONS.get(k, k) for k in data.rejections_by_reason],
                    "rejections": list(data.rejections_by_reason.values()),
                }
            ).set_index("reason"),
            horizontal=True,
        )
    else:
        left.caption("No rejections.")
    right.subheader("Violations by rule")
    if data.violations_by_rule:
        right.bar_chart(
            pd.DataFrame(
                {
                    "rule": list(data.violations_by_rule),
                    "violations": list(data.violations_by_rule.values()),
                }
            ).set_index("rule"),
            horizontal=True,
        )
    else:
        right.caption("No violations flagged.")

    if data.by_group:
        st.subheader("Per brand and campaign")
        groups = pd.DataFrame(
            [
                {
                    "brand": g.brand,
                    "campaign": g.campaign or "(none)",
                    "approved": g.approved,
                    "edited": g.edited,
                    "rejected": g.rejected,
                    "expired": g.expired,
                    "approval rate": g.approval_rate,
                    "avg edit size": g.avg_edit_size,
                }
                for g in data.by_group
            ]
        )
        st.bar_chart(groups.set_index("campaign")[["approved", "edited", "rejected"]])
        st.dataframe(
            groups,
            hide_index=True,
            column_config={
                "approval rate": st.column_config.ProgressColumn(
                    min_value=0, max_value=1, format="percent"
                )
            },
        )
    _outcomes(None if brand == ANY else brand, None if campaign == ANY else campaign)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _outcomes(brand: str | None, campaign: str | None) -> None:
    """What recipients did with the campaign's copy, and the lift over its holdout."""
    st.subheader("Outcomes and lift over the holdout")
    if campaign is None:
        st.caption("Pick a campaign to see its sends, clicks, conversions and lift.")
        return
    try:
        report = campaign_report(campaign, brand)
    except NotFound as exc:
        st.caption(f"{exc.message}.")
        return
    columns = ["exposures", *COUNTED, "machine_opens"]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "arm": r.arm,
                    "variant": "" if r.arm == "holdout" else (r.reason or str(r.variant_index)),
                    "prompt": r.prompt_version or "",
                    **{c: getattr(r, c) for c in columns},
                }
                for r in report.rows
            ]
        ),
        hide_index=True,
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "metric": x.metric,
                    "personalized": f"{_pct(x.personalized.rate)} "
                    f"[{_pct(x.personalized.low)}, {_pct(x.personalized.high)}]",
                    "holdout": f"{_pct(x.holdout.rate)} [{_pct(x.holdout.low)}, {_pct(x.holdout.high)}]",
                    "lift": "—" if x.difference is None else f"{100 * x.difference:+.2f} pp",
                    "95% interval": "—"
                    if x.low is None or x.high is None
                    else f"[{100 * x.low:+.2f}, {100 * x.high:+.2f}] pp",
                }
                for x in report.lift
            ]
        ),
        hide_index=True,
    )
    st.caption(
        f"Intent-to-treat, per exposure; {report.method}. Machine opens never count as human "
        f"opens; conversions are purchases within {report.attribution_window_days:g} days."
    )


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _send_times(brand: str, campaign: str) -> None:
    """When this campaign's recipients will get it: best send hour, in their own time zone."""
    rows = campaign_send_distribution(brand, campaign)
    st.subheader("Send times (recipients' local time)")
    if not rows:
        st.caption("No approved recipients in this campaign yet.")
        return
    frame = pd.DataFrame(rows)
    frame["day"] = frame["weekday"].map(lambda d: WEEKDAYS[d])
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="local hour"),
            y=alt.Y("day:O", sort=WEEKDAYS, title=None),
            color=alt.Color("recipients:Q", title="recipients"),
            tooltip=["day", "hour", "recipients"],
        )
    )
    st.altair_chart(chart, use_container_width=True)
