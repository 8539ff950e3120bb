"""Button callbacks: each calls the library once and leaves a message for the next run.

Callbacks run before the script re-executes, with the session state of the
run the reviewer was looking at. That is what makes optimistic concurrency
honest here: a decision is sent with the version the reviewer *saw*
(``seen_versions``), not the version a fresh read would return, so a draft
someone else decided meanwhile raises a conflict instead of being overwritten.
"""

from __future__ import annotations

import streamlit as st

from app.ui import flash
from genpersona.accounts.roles import Action, allowed
from genpersona.agent.regeneration import regenerate_draft
from genpersona.errors import DraftConflict, GenpersonaError
from genpersona.review import queue
from genpersona.review.models import REJECT_REASONS
from genpersona.review.suggestions import accept_suggestion, dismiss_suggestion
from genpersona.types.content import VariantContent

TEXT_FIELDS = ("subject", "preheader", "headline", "subheadline", "cta", "answer")


def reviewer() -> str:
    """The signed-in account's name: what decisions and the audit log record."""
    return str(st.session_state["reviewer"])


def can(action: Action) -> bool:
    """Whether the signed-in account's role allows ``action`` (genpersona.accounts.roles)."""
    return allowed(str(st.session_state.get("role", "")), action)


def _permitted(action: Action, what: str) -> bool:
    """Checked in every callback too: a disabled button is a hint, not the control."""
    if can(action):
        return True
    role = st.session_state.get("role", "none")
    flash("error", f"Your role ({role}) may not {what}. Ask an admin for a role that can.")
    return False


def open_draft(draft_id: int, version: int) -> None:
    st.session_state["open_draft"] = draft_id
    st.session_state.setdefault("seen_versions", {})[draft_id] = version


def close_draft() -> None:
    st.session_state.pop("open_draft", None)


def reload_draft(draft_id: int) -> None:
    """Accept the current state of the draft as what the reviewer has now seen."""
    st.session_state.get("seen_versions", {}).pop(draft_id, None)
    st.session_state.pop("conflict", None)


def _seen(draft_id: int) -> int:
    return int(st.session_state.get("seen_versions", {}).get(draft_id, 1))


def _next_or_queue(draft_id: int) -> None:
    """After a decision go to the next draft of the page the reviewer came from."""
    order: list[tuple[int, int]] = st.session_state.get("page_order", [])
    ids = [i for i, _ in order]
    if draft_id in ids:
        pos = ids.index(draft_id)
        for next_id, version in order[pos + 1 :]:
            if next_id not in st.session_state.get("decided", set()):
                open_draft(next_id, version)
                return
    close_draft()


def _decided(draft_id: int) -> None:
    st.session_state.setdefault("decided", set()).add(draft_id)
    st.session_state.pop("conflict", None)
    _next_or_queue(draft_id)


def _run(draft_id: int, what: str, fn, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except DraftConflict as exc:
        st.session_state["conflict"] = f"{exc.message}. {exc.fix}."
        return False
    except GenpersonaError as exc:
        flash("error", f"Could not {what} draft #{draft_id}: {exc.message}. {exc.fix}")
        return False
    return True


def in_set_key(draft_id: int, variant_index: int) -> str:
    return f"inset_{draft_id}_{variant_index}"


def approve(draft_id: int, variant_index: int, clean: tuple[int, ...] = ()) -> None:
    """Approve this variant plus every other clean variant still ticked 'in the approved set'."""
    if not _permitted("approve", "approve drafts"):
        return
    others = [
        i
        for i in clean
        if i != variant_index and st.session_state.get(in_set_key(draft_id, i), True)
    ]
    chosen = [variant_index, *others]
    if _run(draft_id, "approve", queue.approve_set, draft_id, reviewer(), _seen(draft_id), chosen):
        shown = ", ".join(str(i + 1) for i in sorted(chosen))
        flash("success", f"Approved draft #{draft_id} (variants {shown}).")
        _decided(draft_id)


def save_edit(draft_id: int, variant_index: int, base: dict) -> None:  # type: ignore[type-arg]
    if not _permitted("edit", "edit and approve drafts"):
        return
    values = dict(base)
    for field in TEXT_FIELDS:
        key = f"edit_{draft_id}_{variant_index}_{field}"
        if key in st.session_state:
            values[field] = st.session_state[key].strip() or None
    content = VariantContent.model_validate(values)
    ok = _run(
        draft_id,
        "save the edit of",
        queue.edit_and_approve,
        draft_id,
        variant_index,
        content,
        reviewer(),
        _seen(draft_id),
    )
    if ok:
        flash("success", f"Saved your edit and approved draft #{draft_id}.")
        st.session_state.pop("editing", None)
        _decided(draft_id)


def reject(draft_id: int) -> None:
    if not _permitted("reject", "reject drafts"):
        return
    label = st.session_state.get(f"reject_reason_{draft_id}")
    code = next((c for c, lbl in REJECT_REASONS.items() if lbl == label), "other")
    note = st.session_state.get(f"reject_note_{draft_id}", "")
    if _run(draft_id, "reject", queue.reject, draft_id, code, note, reviewer(), _seen(draft_id)):
        flash("success", f"Rejected draft #{draft_id}: {REJECT_REASONS[code]}.")
        _decided(draft_id)


def regenerate(draft_id: int) -> None:
    if not _permitted("regenerate", "regenerate drafts"):
        return
    note = st.session_state.get(f"regen_note_{draft_id}", "")
    try:
        result = queue.regenerate(
            draft_id, note, reviewer(), _seen(draft_id), regenerate_fn=regenerate_draft
        )
    except DraftConflict as exc:
        st.session_state["conflict"] = f"{exc.message}. {exc.fix}."
        return
    except GenpersonaError as exc:
        flash("error", f"Could not regenerate draft #{draft_id}: {exc.message}. {exc.fix}")
        return
    except ImportError as exc:
        flash("error", f"Regeneration needs the agent pipeline, which failed to load: {exc}")
        return
    flash("success", f"Draft #{draft_id} regenerated as draft #{result.new_draft_id}.")
    st.session_state.setdefault("decided", set()).add(draft_id)
    open_draft(int(result.new_draft_id or draft_id), 1)


def bulk_approve() -> None:
    if not _permitted("approve", "approve drafts"):
        return
    versions: dict[int, int] = dict(st.session_state.get("page_order", []))
    selected = [i for i in versions if st.session_state.get(f"sel_{i}")]
    if not selected:
        flash("warning", "Select drafts first (tick the boxes), then approve them together.")
        return
    result = queue.bulk_approve(selected, reviewer(), {i: versions[i] for i in selected})
    for draft_id in selected:
        st.session_state[f"sel_{draft_id}"] = False
    st.session_state.setdefault("decided", set()).update(result.approved)
    if result.approved:
        flash("success", f"Approved {len(result.approved)} draft(s).")
    if result.skipped:
        lines = "\n".join(f"- #{s.draft_id}: {s.reason}" for s in result.skipped)
        flash("warning", f"Skipped {len(result.skipped)} draft(s):\n{lines}")


def select_clean() -> None:
    for draft_id, clean in st.session_state.get("page_clean", {}).items():
        st.session_state[f"sel_{draft_id}"] = clean


def accept_rule(suggestion_id: int) -> None:
    if not _permitted("rules", "change the brand guide"):
        return
    try:
        s = accept_suggestion(suggestion_id, reviewer())
        flash(
            "success",
            f"Added to the {s.brand} brand guide: use '{s.new_term}' instead of '{s.old_term}'.",
        )
    except GenpersonaError as exc:
        flash("error", f"Could not accept the rule: {exc.message}. {exc.fix}")


def dismiss_rule(suggestion_id: int) -> None:
    if not _permitted("rules", "decide suggested rules"):
        return
    try:
        dismiss_suggestion(suggestion_id, reviewer())
        flash("info", "Suggestion dismissed.")
    except GenpersonaError as exc:
        flash("error", f"Could not dismiss the suggestion: {exc.message}. {exc.fix}")


def change_page(delta: int) -> None:
    st.session_state["page"] = max(1, int(st.session_state.get("page", 1)) + delta)


def reset_page() -> None:
    st.session_state["page"] = 1
