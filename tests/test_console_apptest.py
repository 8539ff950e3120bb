"""The review console's flows through streamlit.testing: filter, open, approve, edit, reject,
bulk approve, the conflict message, insights and suggested rules."""

# ruff: noqa: F811  (pytest fixtures imported from review_support are used as arguments)
from __future__ import annotations

import random
from pathlib import Path
from unittest.mock import patch

import pytest
from review_support import memory_vectors  # noqa: F401
from streamlit.testing.v1 import AppTest

from genpersona.accounts.console_accounts import create_account, get_account, set_disabled
from genpersona.review.models import QueueFilter
from genpersona.review.queue import approve, get_draft, get_draft_detail, list_drafts, submit_drafts
from genpersona.review.seed import make_draft
from genpersona.types.violations import Violation

APP = Path(__file__).resolve().parents[1] / "app" / "console.py"


@pytest.fixture
def seeded(memory_vectors) -> list[int]:
    """Eight clean drafts and two flagged ones, oldest first."""
    rng = random.Random(5)
    drafts = [
        make_draft(
            rng, kind="subject_line", campaign="spring-tea-party", violation_rate=0, fallback_rate=0
        )
        for _ in range(10)
    ]
    for d in drafts[8:]:
        d.variants[0].violations = [
            Violation(rule_id="banned_term", severity="block", message="'cheapest' is banned")
        ]
    return [d.id for d in submit_drafts(drafts)]  # type: ignore[misc]


PASSWORD = "correct-horse-battery"


def _account(name: str, role: str = "admin") -> None:
    if get_account(name) is None:
        create_account(name, PASSWORD, role)


def _sign_in_form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def _signed_in(name: str = "alice", role: str = "admin") -> AppTest:
    _account(name, role)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    _sign_in_form(at, name, PASSWORD)
    assert not at.exception, at.exception
    assert at.session_state["reviewer"] == name
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    )


def test_sign_in_needs_the_right_password(seeded) -> None:
    _account("Alice Martin", "approver")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert at.title[0].value.startswith("genpersona")
    _sign_in_form(at, "Alice Martin", "wrong password!")
    assert "wrong account name or password" in at.error[0].value
    assert "reviewer" not in at.session_state
    assert at.title[0].value.startswith("genpersona")  # still the sign-in page
    _sign_in_form(at, "nobody", PASSWORD)  # an unknown name gets the same message
    assert "wrong account name or password" in at.error[0].value
    _sign_in_form(at, "Alice Martin", PASSWORD)
    assert at.session_state["reviewer"] == "Alice Martin"
    assert at.session_state["role"] == "approver"
    assert at.title[0].value == "Review queue"
    assert at.session_state["login_password"] == ""  # the password is not kept
    from genpersona.review.audit import list_audit

    [entry] = list_audit(actor="Alice Martin")  # failed attempts sign nobody in
    assert entry.action == "console.sign_in" and entry.payload == {"role": "approver"}


def test_a_link_cannot_sign_anyone_in(seeded) -> None:
    _account("alice")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["reviewer"] = "alice"
    at.run()
    assert "reviewer" not in at.session_state
    assert at.title[0].value.startswith("genpersona")
    assert not [b for b in at.button if b.key and b.key.startswith("open_")]


def test_a_disabled_account_is_signed_out_at_its_next_click(seeded) -> None:
    at = _signed_in("dana", "approver")
    set_disabled("dana")
    at.button(key=f"open_{seeded[0]}").click().run()
    assert "reviewer" not in at.session_state
    assert "disabled" in at.error[0].value
    assert get_draft(seeded[0]).status == "pending"


def test_a_reviewer_can_reject_but_not_approve(seeded) -> None:
    at = _signed_in("rita", "reviewer")
    assert at.button(key="bulk_approve").disabled
    at.button(key=f"open_{seeded[0]}").click().run()
    assert at.button(key=f"approve_{seeded[0]}_0").disabled
    assert at.button(key=f"edit_{seeded[0]}_0").disabled
    from app import actions  # the callback refuses too, whatever the button showed

    with patch.object(actions.st, "session_state", {"role": "reviewer", "reviewer": "rita"}):
        actions.approve(seeded[0], 0)
    assert get_draft(seeded[0]).status == "pending"
    at.selectbox(key=f"reject_reason_{seeded[0]}").select("Too personal (creepy line)")
    at.button(key=f"reject_{seeded[0]}").click().run()
    assert not at.exception, at.exception
    detail = get_draft_detail(seeded[0])
    assert detail.draft.status == "rejected" and detail.decided_by == "rita"
    assert "rita" in {e.actor for e in detail.audit}  # the audit log names the account


def test_only_an_admin_decides_suggested_rules(seeded) -> None:
    from genpersona.db.engine import session_scope
    from genpersona.review.suggestions import list_suggestions, record_substitutions

    with session_scope() as session:  # three drafts made the same swap: an open suggestion
        for draft_id in seeded[:3]:
            record_substitutions(session, "giftloft", draft_id, [("grab", "discover")])
    [rule] = list_suggestions(status="open")
    at = _signed_in("paul", "approver")
    at.sidebar.radio(key="view").set_value("Suggested rules").run()
    assert at.button(key=f"accept_rule_{rule.id}").disabled
    assert at.button(key=f"dismiss_rule_{rule.id}").disabled
    at = _signed_in("ada", "admin")
    at.sidebar.radio(key="view").set_value("Suggested rules").run()
    assert not at.button(key=f"accept_rule_{rule.id}").disabled
    at.button(key=f"dismiss_rule_{rule.id}").click().run()  # dismissing leaves the guide file
    assert not at.exception, at.exception
    [decided] = [s for s in list_suggestions(status=None) if s.id == rule.id]
    assert decided.status == "dismissed" and decided.decided_by == "ada"


def test_queue_shows_counts_rows_and_filters(seeded) -> None:
    at = _signed_in()
    assert [m.value for m in at.metric][:2] == ["10", "0"]
    assert len([b for b in at.button if b.key and b.key.startswith("open_")]) == 10
    at.selectbox(key="f_violations").select("Yes").run()
    opened = [b.key for b in at.button if b.key and b.key.startswith("open_")]
    assert sorted(opened) == sorted(f"open_{i}" for i in seeded[8:])
    at.selectbox(key="f_violations").select("No").run()
    at.selectbox(key="f_sort").select("Newest first").run()
    opened = [b.key for b in at.button if b.key and b.key.startswith("open_")]
    assert opened[0] == f"open_{seeded[7]}" and len(opened) == 8


def test_open_and_approve_moves_to_the_next_draft(seeded) -> None:
    at = _signed_in()
    at.button(key=f"open_{seeded[0]}").click().run()
    assert at.title[0].value == f"Draft #{seeded[0]}"
    text = _texts(at)
    assert "Why this draft" in [s.value for s in at.subheader]
    assert "prompt subject_line.completion.j2" in text
    at.button(key=f"approve_{seeded[0]}_1").click().run()
    assert not at.exception
    assert any("Approved draft" in s.value for s in at.success)
    d = get_draft_detail(seeded[0])
    assert d.draft.status == "approved" and d.decided_by == "alice" and d.chosen_variant == 1
    assert at.title[0].value == f"Draft #{seeded[1]}"  # straight on to the next one


def test_edit_then_approve_keeps_the_diff(seeded) -> None:
    at = _signed_in("bob")
    at.button(key=f"open_{seeded[2]}").click().run()
    at.button(key=f"edit_{seeded[2]}_0").click().run()
    at.text_input(key=f"edit_{seeded[2]}_0_subject").input("Your spring tea party starts here")
    at.button(key=f"FormSubmitter:edit_form_{seeded[2]}_0-Save edit and approve").click().run()
    assert not at.exception, at.exception
    detail = get_draft_detail(seeded[2])
    assert detail.draft.status == "edited" and detail.decided_by == "bob"
    [review] = detail.reviews
    assert review.edited_content.subject == "Your spring tea party starts here"
    assert review.diff and review.edit_size > 0


def test_reject_with_reason_and_note(seeded) -> None:
    at = _signed_in("chen")
    at.button(key=f"open_{seeded[3]}").click().run()
    at.selectbox(key=f"reject_reason_{seeded[3]}").select("Too personal (creepy line)")
    at.text_input(key=f"reject_note_{seeded[3]}").input("mentions their order time")
    at.button(key=f"reject_{seeded[3]}").click().run()
    [review] = get_draft_detail(seeded[3]).reviews
    assert (review.decision, review.reason_code, review.note, review.reviewer) == (
        "rejected",
        "too_personal",
        "mentions their order time",
        "chen",
    )


def test_a_blocked_variant_cannot_be_approved_from_the_console(seeded) -> None:
    at = _signed_in()
    at.button(key=f"open_{seeded[8]}").click().run()
    assert at.button(key=f"approve_{seeded[8]}_0").disabled
    assert "banned_term" in _texts(at)


def test_bulk_approve_takes_the_clean_drafts_only(seeded) -> None:
    at = _signed_in()
    at.button(key="select_clean").click().run()
    assert at.checkbox(key=f"sel_{seeded[0]}").value is True
    assert at.checkbox(key=f"sel_{seeded[8]}").value is False
    at.checkbox(key=f"sel_{seeded[8]}").check()  # the reviewer ticks a flagged one too
    at.button(key="bulk_approve").click().run()
    assert not at.exception
    assert any("Approved 8 draft(s)" in s.value for s in at.success)
    assert any("violations" in w.value for w in at.warning)
    assert get_draft(seeded[8]).status == "pending"
    assert list_drafts(QueueFilter()).total == 2
    assert at.metric[0].value == "2"


def test_two_reviewers_one_draft_shows_a_clear_conflict(seeded) -> None:
    at = _signed_in("alice")
    at.button(key=f"open_{seeded[4]}").click().run()
    approve(seeded[4], 0, "bob", expected_version=1)  # bob, in another browser, is faster
    at.button(key=f"approve_{seeded[4]}_0").click().run()
    assert not at.exception
    [error] = at.error
    assert "already approved by bob" in error.value and "was not saved" in error.value
    detail = get_draft_detail(seeded[4])
    assert detail.decided_by == "bob" and len(detail.reviews) == 1
    at.button(key="reload").click().run()
    assert not at.error and "decided by **bob**" in _texts(at)


def test_insights_and_suggested_rules_pages_render(seeded, tmp_path, monkeypatch) -> None:
    from genpersona.review.queue import edit_and_approve
    from genpersona.types.content import VariantContent

    for draft_id in seeded[:3]:
        d = get_draft(draft_id)
        subject = "Shop " + (d.variants[0].content.subject or "")
        edit_and_approve(draft_id, 0, VariantContent(subject=subject), "bob", expected_version=1)
    at = _signed_in()
    at.sidebar.radio(key="view").set_value("Insights").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Insights"
    assert [m.value for m in at.metric][:2] == ["3", "100%"]
    at.sidebar.radio(key="view").set_value("Suggested rules").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Suggested rules"


def test_console_command_checks_its_options() -> None:
    from typer.testing import CliRunner

    from genpersona.cli.console import streamlit_command
    from genpersona.cli.main import app

    result = CliRunner().invoke(app, ["console", "--port", "70000"])
    assert result.exit_code == 2 and "out of range" in result.output
    cmd = streamlit_command(8600, "127.0.0.1", headless=True)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app/console.py")
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_detail_shows_the_automatic_decision_and_its_rule(seeded, monkeypatch) -> None:
    from genpersona.campaigns.definitions import ReviewPolicy
    from genpersona.campaigns.review_policy import apply_review_policy

    monkeypatch.setattr("genpersona.campaigns.review_policy._similarity", lambda *_a: 0.1)
    apply_review_policy(
        [seeded[0]], ReviewPolicy(mode="auto", min_score=0.0), "giftloft", "spring-tea-party"
    )
    at = _signed_in()
    at.button(key=f"open_{seeded[0]}").click().run()
    assert not at.exception, at.exception
    routed = [i.value for i in at.info]
    assert any("auto:policy-v1" in m and "similarity" in m for m in routed), routed
