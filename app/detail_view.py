"""One draft: its variants with scores and highlighted violations, why it was written, decisions."""

from __future__ import annotations

import streamlit as st

from app import actions, previews
from app.ui import KIND_LABELS, age, diff_html, highlighted_fields, status_badge
from genpersona.errors import DraftNotFound
from genpersona.review.models import REJECT_REASONS, DraftDetail
from genpersona.review.queue import get_draft_detail
from genpersona.types.content import Draft, Variant

SCORE_LABELS = {
    "brand_voice": "Brand voice",
    "relevance": "Relevance",
    "specificity": "Specificity",
    "length_fit": "Length",
    "novelty": "Novelty",
    "quality": "Copy quality",
}


def _context_panel(draft: Draft) -> None:
    """What was used about the customer — and only what their consent allowed."""
    r = draft.rationale
    st.subheader("Why this draft")
    if r.customer_line:
        st.markdown(f"> {r.customer_line}")
    consent = r.consent
    st.caption(
        "Consent: "
        + " · ".join(
            f"{name} **{'yes' if ok else 'no'}**"
            for name, ok in (
                ("personalization", consent.personalization),
                ("email", consent.email),
                ("chat memory", consent.chat_memory),
            )
        )
    )
    if r.personalized and consent.personalization:
        st.markdown(f"**Customer** {draft.customer_id or 'anonymous'}")
        if r.facts_used:
            st.markdown("**Facts used**\n" + "\n".join(f"- {f}" for f in r.facts_used))
        if r.items_used:
            st.markdown("**Items used** " + ", ".join(f"`{i}`" for i in r.items_used))
    else:
        st.info("Generic copy: no personal data was used for this draft.")
    if draft.brief:
        st.markdown(f"**Brief** {draft.brief}")
    if r.rules_checked:
        st.caption("Rules checked: " + ", ".join(r.rules_checked))
    st.caption(
        f"Model {r.model or '?'} ({r.backend or '?'}) · prompt {r.prompt_template or '?'}"
        f" v{r.prompt_version or '?'} · {draft.trace.total_ms:.0f} ms"
    )


def _variant(
    detail: DraftDetail, v: Variant, top_index: int, pending: bool, clean: tuple[int, ...]
) -> None:
    draft = detail.draft
    chosen = detail.chosen_variant == v.index and not pending
    title = f"Variant {v.index + 1}" + (" · top" if v.index == top_index else "")
    title += " · chosen" if chosen else ""
    with st.container(border=True):
        head = st.columns([3, 1])
        head[0].markdown(f"**{title}**")
        head[1].markdown(f"score **{v.scores.total:.2f}**")
        st.markdown(highlighted_fields(v.content, v.violations), unsafe_allow_html=True)
        st.caption(
            " · ".join(f"{label} {getattr(v.scores, k):.2f}" for k, label in SCORE_LABELS.items())
            + (" · safe fallback copy" if v.is_fallback else "")
            + (f" · fixed: {', '.join(v.fixes_applied)}" if v.fixes_applied else "")
        )
        for viol in v.violations:
            icon = ":red-badge[block]" if viol.severity == "block" else ":orange-badge[warn]"
            hint = f" — try: {viol.suggestion}" if viol.suggestion else ""
            st.markdown(f"{icon} `{viol.rule_id}` {viol.message}{hint}")
        if not pending:
            return
        blocking = any(x.severity == "block" for x in v.violations)
        may_approve, may_edit = actions.can("approve"), actions.can("edit")
        cols = st.columns([1, 1, 3])
        cols[0].button(
            "Approve",
            key=f"approve_{draft.id}_{v.index}",
            type="primary",
            on_click=actions.approve,
            args=(draft.id, v.index, clean),
            disabled=blocking or not may_approve,
            help=(
                "Fix the flagged words with Edit first"
                if blocking
                else "Approves this variant and every ticked one; delivery picks among them"
                if may_approve
                else "Approving needs the approver or admin role"
            ),
        )
        cols[2].checkbox(
            "In the approved set",
            value=not blocking,
            key=actions.in_set_key(draft.id, v.index),
            disabled=blocking,
            help="Untick to leave this variant out when approving the draft",
        )
        editing = st.session_state.get("editing") == (draft.id, v.index) and may_edit
        if cols[1].button(
            "Edit",
            key=f"edit_{draft.id}_{v.index}",
            disabled=not may_edit,
            help=None if may_edit else "Editing approves the draft: approver or admin role",
        ):
            st.session_state["editing"] = (draft.id, v.index)
            editing = True
        if editing:
            _edit_form(draft, v)


def _edit_form(draft: Draft, v: Variant) -> None:
    base = v.content.model_dump(mode="json")
    with st.form(key=f"edit_form_{draft.id}_{v.index}"):
        for field in actions.TEXT_FIELDS:
            value = getattr(v.content, field)
            if value is None:
                continue
            widget = st.text_area if field == "answer" else st.text_input
            widget(field.capitalize(), value=value, key=f"edit_{draft.id}_{v.index}_{field}")
        st.form_submit_button(
            "Save edit and approve",
            type="primary",
            on_click=actions.save_edit,
            args=(draft.id, v.index, base),
        )


def _decision_panel(draft: Draft) -> None:
    st.subheader("Reject or regenerate")
    st.selectbox("Reason", list(REJECT_REASONS.values()), key=f"reject_reason_{draft.id}")
    st.text_input("Note (optional, required for 'Other')", key=f"reject_note_{draft.id}")
    st.button("Reject", key=f"reject_{draft.id}", on_click=actions.reject, args=(draft.id,))
    st.divider()
    st.text_input(
        "Note to the model",
        key=f"regen_note_{draft.id}",
        placeholder="e.g. warmer, mention the tea party, no exclamation marks",
    )
    st.button(
        "Regenerate",
        key=f"regenerate_{draft.id}",
        on_click=actions.regenerate,
        args=(draft.id,),
        help="Writes a new draft for the same request; this one is closed",
    )


def _automatic(detail: DraftDetail) -> None:
    """The campaign review policy's decision on this draft, and the rule that made it."""
    for entry in detail.audit:
        if not entry.actor.startswith("auto:") or entry.action not in (
            "auto_approved",
            "auto_routed",
        ):
            continue
        rule = entry.payload.get("rule", "?")
        measured = ", ".join(
            f"{k} {entry.payload[k]}"
            for k in ("score", "min_score", "similarity", "min_similarity")
            if entry.payload.get(k) is not None
        )
        if entry.action == "auto_approved":
            audit = " · sampled for audit" if entry.payload.get("audit_sampled") else ""
            st.success(f"Auto-approved by {entry.actor} (rule: {rule}){audit}. {measured}")
        else:
            st.info(f"Routed to people by {entry.actor}: rule **{rule}** not met. {measured}")


def _history(detail: DraftDetail) -> None:
    with st.expander(f"History ({len(detail.audit)} audit entries)"):
        for review in detail.reviews:
            line = f"**{review.decision}** by {review.reviewer} · {age(review.created_at)}"
            if review.reason_code:
                line += f" · {REJECT_REASONS.get(review.reason_code, review.reason_code)}"
            if review.note:
                line += f" — “{review.note}”"
            st.markdown(line)
            if review.diff:
                st.markdown(diff_html(review.diff), unsafe_allow_html=True)
        for entry in detail.audit:
            st.caption(f"{entry.at:%Y-%m-%d %H:%M:%S} · {entry.actor} · {entry.action}")


def render(draft_id: int) -> None:
    try:
        detail = get_draft_detail(draft_id)
    except DraftNotFound:
        st.warning(f"Draft #{draft_id} no longer exists (it may have been erased).")
        st.button("← Back to queue", key="back_missing", on_click=actions.close_draft)
        return
    draft = detail.draft
    seen = st.session_state.setdefault("seen_versions", {}).setdefault(draft_id, draft.version)
    st.button("← Back to queue", key="back", on_click=actions.close_draft)
    st.title(f"Draft #{draft.id}")
    st.markdown(
        f"{status_badge(draft.status)} {draft.brand} · {KIND_LABELS.get(draft.kind, draft.kind)}"
        f" · {draft.campaign or 'no campaign'} · created {age(draft.created_at)} · version {draft.version}"
        + (f" · decided by **{detail.decided_by}**" if detail.decided_by else "")
        + (f" · regenerated from #{detail.regenerated_from}" if detail.regenerated_from else "")
    )
    conflict = st.session_state.get("conflict")
    if conflict:
        st.error(f"⚠️ {conflict}")
        st.button("Reload draft", key="reload", on_click=actions.reload_draft, args=(draft_id,))
    elif draft.version != seen:
        st.warning(
            f"This draft changed since you opened it (now {draft.status}"
            f"{' by ' + detail.decided_by if detail.decided_by else ''})."
        )
        st.button("Reload draft", key="reload", on_click=actions.reload_draft, args=(draft_id,))
    _automatic(detail)
    pending = draft.status == "pending"
    previews.render_previews(draft.variants, draft.kind, previews.sender_name(draft.brand))
    left, right = st.columns([2.2, 1])
    with left:
        top = draft.top.index
        clean = tuple(
            v.index for v in draft.variants if not any(x.severity == "block" for x in v.violations)
        )
        for v in sorted(draft.variants, key=lambda x: -x.scores.total):
            _variant(detail, v, top, pending, clean)
    with right:
        _context_panel(draft)
        if pending:
            st.divider()
            _decision_panel(draft)
    _history(detail)
