"""The queue: filters, counts per status, one line per draft, bulk approval, paging."""

from __future__ import annotations

import streamlit as st

from app import actions
from app.ui import KIND_LABELS, age, status_badge
from genpersona.review.models import QueueFilter
from genpersona.review.queue import filter_options, list_drafts

ANY = "All"
STATUS_OPTIONS = ["pending", "approved", "edited", "rejected", "expired", ANY]
SORTS = {
    "Oldest first": "oldest",
    "Highest score first": "score_desc",
    "Newest first": "newest",
    "Lowest score first": "score_asc",
}
FLAG_OPTIONS = {"Any": None, "Yes": True, "No": False}


def _filters() -> tuple[QueueFilter, str, int]:
    """Sidebar filters; any change goes back to page 1."""
    opts = filter_options()
    sb = st.sidebar
    sb.subheader("Filters")
    brand = sb.selectbox(
        "Brand", [ANY, *opts["brands"]], key="f_brand", on_change=actions.reset_page
    )
    campaign = sb.selectbox(
        "Campaign", [ANY, *opts["campaigns"]], key="f_campaign", on_change=actions.reset_page
    )
    kind = sb.selectbox(
        "Content kind",
        [ANY, *KIND_LABELS],
        format_func=lambda k: KIND_LABELS.get(k, k),
        key="f_kind",
        on_change=actions.reset_page,
    )
    status = sb.selectbox("Status", STATUS_OPTIONS, key="f_status", on_change=actions.reset_page)
    violations = sb.selectbox(
        "Has violations", list(FLAG_OPTIONS), key="f_violations", on_change=actions.reset_page
    )
    fallback = sb.selectbox(
        "Safe fallback copy", list(FLAG_OPTIONS), key="f_fallback", on_change=actions.reset_page
    )
    sort = sb.selectbox("Sort", list(SORTS), key="f_sort", on_change=actions.reset_page)
    page_size = sb.selectbox(
        "Per page", [25, 50, 100], key="f_page_size", on_change=actions.reset_page
    )
    filters = QueueFilter(
        brand=None if brand == ANY else brand,
        campaign=None if campaign == ANY else campaign,
        kind=None if kind == ANY else kind,
        status=None if status == ANY else status,
        has_violations=FLAG_OPTIONS[violations],
        is_fallback=FLAG_OPTIONS[fallback],
    )
    return filters, SORTS[sort], int(page_size)


def render() -> None:
    filters, sort, page_size = _filters()
    page = list_drafts(filters, sort, int(st.session_state.get("page", 1)), page_size)
    st.session_state["page"] = page.page
    st.session_state["page_order"] = [(r.id, r.version) for r in page.rows]
    st.session_state["page_clean"] = {r.id: r.clean and r.status == "pending" for r in page.rows}

    st.title("Review queue")
    cols = st.columns(5)
    for col, status in zip(
        cols, ["pending", "approved", "edited", "rejected", "expired"], strict=True
    ):
        col.metric(status.capitalize(), f"{page.counts.get(status, 0):,}")

    if not page.rows:
        st.info(
            "Nothing to review here. Change the filters, or generate drafts with `genpersona generate`."
        )
        return

    bar = st.columns([1.3, 1.6, 4])
    bar[0].button("Select clean drafts", key="select_clean", on_click=actions.select_clean)
    selected = sum(bool(st.session_state.get(f"sel_{r.id}")) for r in page.rows)
    bar[1].button(
        f"Approve selected ({selected})",
        key="bulk_approve",
        type="primary",
        on_click=actions.bulk_approve,
        disabled=selected == 0 or not actions.can("approve"),
    )
    bar[2].caption(
        "Bulk approval takes each draft's top variant and skips anything flagged or fallback."
    )

    for row in page.rows:
        with st.container(border=True):
            c = st.columns([0.35, 5.2, 1.3, 0.9])
            c[0].checkbox(
                "select",
                key=f"sel_{row.id}",
                label_visibility="collapsed",
                disabled=row.status != "pending",
            )
            flags = []
            if row.has_violations:
                flags.append(f":red-badge[⚠ {row.violation_count} violation(s)]")
            if row.is_fallback:
                flags.append(":orange-badge[fallback]")
            if row.clean:
                flags.append(":green-badge[clean]")
            c[1].markdown(f"**{row.top_text or '(empty)'}**")
            c[1].caption(
                f"#{row.id} · {row.brand} · {KIND_LABELS.get(row.kind, row.kind)}"
                f" · {row.campaign or 'no campaign'} · customer {row.customer_id or 'anonymous'}"
                f" · {age(row.created_at)}"
                + (f" · {row.status} by {row.decided_by}" if row.decided_by else "")
            )
            c[2].markdown(f"{status_badge(row.status)} {' '.join(flags)}")
            c[2].caption(f"score {row.top_score:.2f}")
            c[3].button(
                "Open",
                key=f"open_{row.id}",
                on_click=actions.open_draft,
                args=(row.id, row.version),
            )

    nav = st.columns([1, 1, 4])
    nav[0].button(
        "← Previous",
        key="prev_page",
        on_click=actions.change_page,
        args=(-1,),
        disabled=page.page <= 1,
    )
    nav[1].button(
        "Next →",
        key="next_page",
        on_click=actions.change_page,
        args=(1,),
        disabled=page.page >= page.pages,
    )
    nav[2].caption(
        f"Page {page.page} of {page.pages} · {page.total:,} drafts · queried in {page.elapsed_ms:.1f} ms"
    )
