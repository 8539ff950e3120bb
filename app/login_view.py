"""Who is reviewing: a name picked at start, stored with every decision."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from genpersona.review.models import Reviewer


def _start() -> None:
    try:
        st.session_state["reviewer"] = Reviewer(name=st.session_state.get("login_name", "")).name
        st.session_state.pop("login_error", None)
    except ValidationError:
        st.session_state["login_error"] = "Type your name (1 to 64 characters) to start reviewing."


def sign_out() -> None:
    for key in ("reviewer", "open_draft", "seen_versions", "conflict", "editing"):
        st.session_state.pop(key, None)


def current_reviewer() -> str | None:
    """The signed-in reviewer, or None after drawing the sign-in form."""
    if st.session_state.get("reviewer"):
        return str(st.session_state["reviewer"])
    preset = st.query_params.get("reviewer")  # ?reviewer=alice: a bookmark skips the form
    if preset:
        try:
            st.session_state["reviewer"] = Reviewer(name=preset).name
            return str(st.session_state["reviewer"])
        except ValidationError:
            st.session_state["login_error"] = f"'{preset[:64]}' is not a usable reviewer name."
    st.title("genpersona · review console")
    st.write(
        "Review personalized drafts before they reach customers. Your name is stored "
        "with every decision you make."
    )
    with st.form("login"):
        st.text_input("Your name", key="login_name", placeholder="e.g. Alice Martin")
        st.form_submit_button("Start reviewing", type="primary", on_click=_start)
    if st.session_state.get("login_error"):
        st.error(st.session_state["login_error"])
    return None
