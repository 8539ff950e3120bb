"""The console's detail view approves a set: every clean variant unless a reviewer unticks it."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import random
from pathlib import Path

from review_support import memory_vectors  # noqa: F401
from streamlit.testing.v1 import AppTest

from genpersona.accounts.console_accounts import create_account, get_account
from genpersona.db.engine import session_scope
from genpersona.review.approved import approved_variants
from genpersona.review.queue import get_draft_detail, submit_drafts
from genpersona.review.seed import make_draft
from genpersona.types.violations import Violation

APP = Path(__file__).resolve().parents[1] / "app" / "console.py"


PASSWORD = "correct-horse-battery"


def _signed_in() -> AppTest:
    """An approver signed in with a password (the console has real accounts)."""
    if get_account("alice") is None:
        create_account("alice", PASSWORD, "approver")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["reviewer"] == "alice"
    return at


def _open(draft_id: int) -> AppTest:
    at = _signed_in()
    at.button(key=f"open_{draft_id}").click().run()
    assert not at.exception, at.exception
    return at


def _offered(draft_id: int) -> list[int]:
    with session_scope() as session:
        return [v.variant_index for v in approved_variants(session, draft_id)]


def test_untick_a_variant_and_approve_the_rest(memory_vectors) -> None:
    rng = random.Random(11)
    draft = make_draft(rng, kind="subject_line", violation_rate=0, fallback_rate=0)
    draft.variants[2].violations = [
        Violation(rule_id="banned_term", severity="block", message="'cheapest' is banned")
    ]
    [saved] = submit_drafts([draft])
    at = _open(saved.id)  # type: ignore[arg-type]
    assert at.checkbox(key=f"inset_{saved.id}_2").disabled  # blocked: never in the set
    assert at.checkbox(key=f"inset_{saved.id}_1").value is True
    at.checkbox(key=f"inset_{saved.id}_1").uncheck().run()
    at.button(key=f"approve_{saved.id}_0").click().run()
    assert not at.exception
    assert _offered(saved.id) == [0]  # type: ignore[arg-type]
    assert get_draft_detail(saved.id).chosen_variant == 0  # type: ignore[arg-type]


def test_default_approves_every_clean_variant(memory_vectors) -> None:
    rng = random.Random(12)
    [saved] = submit_drafts(
        [make_draft(rng, kind="subject_line", violation_rate=0, fallback_rate=0)]
    )
    at = _open(saved.id)  # type: ignore[arg-type]
    at.button(key=f"approve_{saved.id}_1").click().run()
    assert any("variants 1, 2, 3" in s.value for s in at.success)
    assert _offered(saved.id) == [0, 1, 2]  # type: ignore[arg-type]


def test_insights_shows_a_campaigns_outcomes_and_lift(memory_vectors) -> None:
    from exposure_rows import add_exposure
    from sqlalchemy import insert

    from genpersona.campaigns.tables import OutcomeRow
    from genpersona.db.base import utcnow

    rng = random.Random(13)
    [saved] = submit_drafts(
        [
            make_draft(
                rng, kind="subject_line", campaign="tea-week", violation_rate=0, fallback_rate=0
            )
        ]
    )
    treated = add_exposure(campaign="tea-week", customer_id="T1", draft_id=saved.id)
    add_exposure(campaign="tea-week", customer_id="H1", holdout=True)
    with session_scope() as session:
        session.execute(
            insert(OutcomeRow),
            [{"exposure_id": treated.id, "draft_id": saved.id, "variant_index": 0,
              "type": "clicked", "brand": "giftloft", "campaign": "tea-week",
              "customer_id": "T1", "ts": utcnow(), "provider": "test", "event_key": "k1",
              "machine_open": False}],
        )  # fmt: skip
    at = _signed_in()
    at.sidebar.radio(key="view").set_value("Insights").run()
    at.selectbox(key="i_campaign").select("tea-week").run()
    assert not at.exception, at.exception
    assert "Outcomes and lift over the holdout" in [s.value for s in at.subheader]
    lift = at.dataframe[-1].value  # the lift table is the page's last table
    clicks = lift[lift["metric"] == "clicks"].iloc[0]
    assert clicks["personalized"].startswith("100.00%") and clicks["holdout"].startswith("0.00%")
    assert any("Newcombe" in c.value for c in at.caption)
