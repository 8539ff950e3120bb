"""The automatic pause of auto-approval, and a person resuming it.

Why a separate record: the pause is derived (audit verdicts over a threshold), so it
cannot be "switched off" without saying which verdicts no longer count. A resume is a
row in ``auto_review_resumes`` and an ``auto_resumed`` audit entry by the person who
did it; from then on the pause counts only the verdicts given after that resume
(``audited_at``), so the campaign pauses again if the new audits go just as badly.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from genpersona.campaigns.automation_tables import AutoReviewResumeRow, AutoReviewRow
from genpersona.campaigns.definitions import ReviewPolicy
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import InputError
from genpersona.review.audit import record
from genpersona.settings import Settings, get_settings


class PauseState(BaseModel):
    brand: str
    campaign: str
    paused: bool
    #: audit verdicts counted (those after the latest resume) and how many rejected
    judged: int
    rejected: int
    threshold: float
    min_audits: int
    resumed_at: datetime | None = None
    resumed_by: str | None = None


def latest_resume(
    brand: str, scope: str, settings: Settings | None = None
) -> AutoReviewResumeRow | None:
    with session_scope(settings) as session:
        row = session.scalars(
            select(AutoReviewResumeRow)
            .where(AutoReviewResumeRow.brand == brand, AutoReviewResumeRow.campaign == scope)
            .order_by(AutoReviewResumeRow.created_at.desc(), AutoReviewResumeRow.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def audit_state(
    brand: str, scope: str, settings: Settings | None = None, since: datetime | None = None
) -> tuple[int, int]:
    """(judged audit samples, rejected ones) for the campaign ``scope``, after ``since``."""
    stmt = select(AutoReviewRow.audit_ok).where(
        AutoReviewRow.brand == brand,
        AutoReviewRow.campaign == scope,
        AutoReviewRow.audit_ok.is_not(None),
    )
    if since is not None:
        stmt = stmt.where(AutoReviewRow.audited_at > since)
    with session_scope(settings) as session:
        verdicts = list(session.scalars(stmt))
    return len(verdicts), sum(1 for ok in verdicts if ok is False)


def pause_state(
    brand: str, scope: str, policy: ReviewPolicy, settings: Settings | None = None
) -> PauseState:
    resume = latest_resume(brand, scope, settings)
    since = resume.created_at if resume is not None else None
    judged, rejected = audit_state(brand, scope, settings, since)
    return PauseState(
        brand=brand,
        campaign=scope,
        paused=judged >= policy.min_audits and rejected / judged > policy.pause_rejection_rate,
        judged=judged,
        rejected=rejected,
        threshold=policy.pause_rejection_rate,
        min_audits=policy.min_audits,
        resumed_at=since,
        resumed_by=resume.actor if resume is not None else None,
    )


def is_paused(
    brand: str, scope: str, policy: ReviewPolicy, settings: Settings | None = None
) -> bool:
    return pause_state(brand, scope, policy, settings).paused


def resume_auto_approval(
    brand: str,
    scope: str,
    policy: ReviewPolicy,
    actor: str,
    *,
    note: str = "",
    settings: Settings | None = None,
) -> PauseState:
    """A person resumes auto-approval the audit paused; audited, and refused if not paused."""
    settings = settings or get_settings()
    if not actor.strip() or actor.startswith("auto:"):
        raise InputError(
            f"auto-approval is resumed by a person, not {actor!r}",
            fix="pass your reviewer name (--reviewer)",
        )
    state = pause_state(brand, scope, policy, settings)
    if not state.paused:
        raise InputError(
            f"auto-approval of campaign {scope!r} ({brand}) is not paused "
            f"({state.rejected} of {state.judged} counted audits rejected)",
            fix="nothing to resume; `genpersona campaign review-policy status NAME` shows the state",
            brand=brand,
            campaign=scope,
        )
    with session_scope(settings) as session:
        session.add(
            AutoReviewResumeRow(
                brand=brand,
                campaign=scope,
                actor=actor,
                note=note[:500],
                judged=state.judged,
                rejected=state.rejected,
                created_at=utcnow(),
            )
        )
        record(
            session,
            actor,
            "auto_resumed",
            brand=brand,
            payload={
                "rule": "manual_resume",
                "campaign": scope,
                "judged": state.judged,
                "rejected": state.rejected,
                "threshold": policy.pause_rejection_rate,
                "note": note[:500],
            },
        )
    return pause_state(brand, scope, policy, settings)
