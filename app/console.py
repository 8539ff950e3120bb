"""Entry point of the review console: `genpersona console` runs `streamlit run app/console.py`.

It reads and writes only through ``genpersona.review``; the database comes
from the usual settings (``GENPERSONA_HOME`` / ``GENPERSONA_DATABASE_URL``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/console.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import (  # noqa: E402
    detail_view,
    insights_view,
    learning_view,
    login_view,
    queue_view,
    rules_view,
)
from app.ui import inject_css, show_flash  # noqa: E402

PAGES = {
    "Queue": queue_view,
    "Insights": insights_view,
    "Suggested rules": rules_view,
    "Learning": learning_view,
}


def main() -> None:
    st.set_page_config(page_title="genpersona · review", page_icon="✍️", layout="wide")
    inject_css()
    signed_in = login_view.current_account()
    if signed_in is None:
        return
    reviewer, role = signed_in
    st.sidebar.markdown(f"Signed in as **{reviewer}** ({role})")
    st.sidebar.button("Sign out", key="sign_out", on_click=login_view.sign_out)
    wanted = st.query_params.get("view")  # ?view=Insights opens that page first
    if wanted in PAGES and "view" not in st.session_state:
        st.session_state["view"] = wanted
    view = st.sidebar.radio("View", list(PAGES), key="view")
    linked = st.query_params.get("draft")  # ?draft=42 opens a draft directly (shareable link)
    if linked and linked.isdigit() and not st.session_state.get("linked_opened"):
        st.session_state["linked_opened"] = True
        st.session_state["open_draft"] = int(linked)
    show_flash()
    if view == "Queue" and st.session_state.get("open_draft"):
        detail_view.render(int(st.session_state["open_draft"]))
    else:
        PAGES[view].render()


main()
