"""The console's Learning view through streamlit.testing, on exposures and allocations."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_learning_update import _seed_campaign

from genpersona.accounts.console_accounts import create_account
from genpersona.db.engine import session_scope
from genpersona.learning.update import learn_update

APP = Path(__file__).resolve().parents[1] / "app" / "console.py"


def _learning_view() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    create_account("alice", "correct-horse-battery", "reviewer")
    at.run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input("correct-horse-battery")
    at.button[0].click().run()
    at.sidebar.radio(key="view").set_value("Learning").run()
    assert not at.exception, at.exception
    return at


def test_learning_view_without_exposures_says_what_to_do() -> None:
    at = _learning_view()
    assert at.title[0].value == "Learning"
    assert "learn update" in at.info[0].value


def test_learning_view_shows_allocation_and_metrics() -> None:
    _seed_campaign(n_customers=150)
    with session_scope() as s:
        learn_update(s, "giftloft", "xmas")
    at = _learning_view()
    labels = [m.label for m in at.metric]
    assert "Exposures" in labels and "Even split would have got" in labels
    assert at.metric[0].value == "150"
    assert any("P(best)" in h.value for h in at.subheader)
