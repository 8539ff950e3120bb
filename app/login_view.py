"""Sign-in: an account name and password (``genpersona accounts create``), checked by argon2.

The signed-in account, not anything the browser sends, is what every decision
and audit entry records. A link cannot sign anyone in (``?reviewer=alice`` is
ignored), and the account is re-read on every run, so disabling it or changing
its role takes effect at the reviewer's next click.
"""

from __future__ import annotations

import streamlit as st

from genpersona.accounts.console_accounts import any_accounts, authenticate, get_account
from genpersona.db.engine import session_scope
from genpersona.errors import GenpersonaError
from genpersona.review import audit

SESSION_KEYS = ("reviewer", "role", "open_draft", "seen_versions", "conflict", "editing")


def _start() -> None:
    name = str(st.session_state.get("login_name", ""))
    password = str(st.session_state.get("login_password", ""))
    st.session_state["login_password"] = ""  # never kept in the session past this click
    try:
        account = authenticate(name, password)
    except GenpersonaError as exc:
        st.session_state["login_error"] = f"{exc.message}. {exc.fix}."
        return
    st.session_state["reviewer"] = account.name
    st.session_state["role"] = account.role
    st.session_state.pop("login_error", None)
    with session_scope() as session:  # who worked in the console, and with which role
        audit.record(session, account.name, "console.sign_in", payload={"role": account.role})


def sign_out() -> None:
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)


def current_account() -> tuple[str, str] | None:
    """(name, role) of the signed-in account, or None after drawing the sign-in form."""
    name = st.session_state.get("reviewer")
    if name:
        account = get_account(str(name))
        if account is not None and not account.disabled:
            st.session_state["role"] = account.role
            return account.name, account.role
        sign_out()
        st.session_state["login_error"] = "Your account was disabled or removed; sign in again."
    st.title("genpersona · review console")
    st.write(
        "Review personalized drafts before they reach customers. Every decision is stored "
        "with the account that made it."
    )
    if not any_accounts():
        st.info(
            "No console accounts yet. An administrator creates them on the server: "
            "`genpersona accounts create NAME --role admin`."
        )
    with st.form("login"):
        st.text_input("Account", key="login_name", placeholder="e.g. alice")
        st.text_input("Password", key="login_password", type="password")
        st.form_submit_button("Sign in", type="primary", on_click=_start)
    if st.session_state.get("login_error"):
        st.error(st.session_state["login_error"])
    return None
