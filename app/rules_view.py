"""Suggested brand-guide rules mined from reviewers' repeated edits."""

from __future__ import annotations

import streamlit as st

from app import actions
from genpersona.review.suggestions import MIN_OCCURRENCES, list_suggestions


def render() -> None:
    st.title("Suggested rules")
    st.caption(
        f"When reviewers make the same word swap in {MIN_OCCURRENCES} or more drafts, it shows up "
        "here. Accepting adds a preferred term to the brand guide, so the next drafts get it right."
    )
    suggestions = list_suggestions(status="open")
    may_decide = actions.can("rules")
    if suggestions and not may_decide:
        st.caption("Accepting or dismissing a rule changes the brand guide: admins only.")
    if not suggestions:
        st.info("No suggestions yet: they appear after reviewers repeat the same edit.")
    for s in suggestions:
        with st.container(border=True):
            c = st.columns([4, 1, 1])
            c[0].markdown(f"**{s.brand}**: use **“{s.new_term}”** instead of ~~“{s.old_term}”~~")
            examples = ", ".join(f"#{i}" for i in s.example_draft_ids[:6])
            c[0].caption(f"Made in {s.occurrences} edits · e.g. drafts {examples}")
            c[1].button(
                "Accept",
                key=f"accept_rule_{s.id}",
                type="primary",
                on_click=actions.accept_rule,
                args=(s.id,),
                disabled=not may_decide,
            )
            c[2].button(
                "Dismiss",
                key=f"dismiss_rule_{s.id}",
                on_click=actions.dismiss_rule,
                args=(s.id,),
                disabled=not may_decide,
            )
    decided = [s for s in list_suggestions(status=None) if s.status in ("accepted", "dismissed")]
    if decided:
        with st.expander(f"Decided ({len(decided)})"):
            for s in decided:
                st.caption(
                    f"{s.brand}: '{s.old_term}' → '{s.new_term}' · {s.status} by {s.decided_by}"
                )
