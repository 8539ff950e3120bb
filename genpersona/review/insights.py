"""Aggregates of reviewers' decisions for the console's charts.

Everything is a GROUP BY in the database over indexed columns of ``reviews``,
``drafts`` and ``draft_violations``; Python only reshapes the few result rows.
Expiry is not a reviewer's judgement, so the approval rate is
(approved + edited) / (approved + edited + rejected) and expired drafts are
shown beside it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, select

from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.review.tables import DraftRow, DraftViolationRow, ReviewRow
from genpersona.settings import Settings

JUDGED = ("approved", "edited", "rejected")


class DayStats(BaseModel):
    day: date
    approved: int = 0
    edited: int = 0
    rejected: int = 0
    expired: int = 0
    regenerated: int = 0

    @property
    def approval_rate(self) -> float | None:
        judged = self.approved + self.edited + self.rejected
        return (self.approved + self.edited) / judged if judged else None


class GroupStats(BaseModel):
    """Decisions for one (brand, campaign)."""

    brand: str
    campaign: str | None
    approved: int = 0
    edited: int = 0
    rejected: int = 0
    expired: int = 0
    avg_edit_size: float | None = None

    @property
    def approval_rate(self) -> float | None:
        judged = self.approved + self.edited + self.rejected
        return (self.approved + self.edited) / judged if judged else None


class Insights(BaseModel):
    since: datetime
    by_day: list[DayStats] = Field(default_factory=list)
    rejections_by_reason: dict[str, int] = Field(default_factory=dict)
    violations_by_rule: dict[str, int] = Field(default_factory=dict)
    by_group: list[GroupStats] = Field(default_factory=list)
    avg_edit_size: float | None = None
    decided: int = 0
    #: chat drafts by outcome: answer (from a passage), handoff, decline
    chat_outcomes: dict[str, int] = Field(default_factory=dict)

    @property
    def chat_handoffs(self) -> int:
        return self.chat_outcomes.get("handoff", 0)


def _review_filters(
    brand: str | None, campaign: str | None, since: datetime
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [ReviewRow.created_at >= since]
    if brand is not None:
        conds.append(ReviewRow.brand == brand)
    if campaign is not None:
        conds.append(ReviewRow.campaign == campaign)
    return conds


def _count(decision: str) -> ColumnElement[int]:
    return func.sum(case((ReviewRow.decision == decision, 1), else_=0))


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def insights(
    brand: str | None = None,
    campaign: str | None = None,
    days: int = 30,
    settings: Settings | None = None,
) -> Insights:
    """Decisions of the last ``days`` days, optionally for one brand and/or campaign."""
    since = utcnow() - timedelta(days=days)
    conds = _review_filters(brand, campaign, since)
    out = Insights(since=since)
    with session_scope(settings) as session:
        day = func.date(ReviewRow.created_at)
        for d, approved, edited, rejected, expired, regenerated in session.execute(
            select(
                day,
                _count("approved"),
                _count("edited"),
                _count("rejected"),
                _count("expired"),
                _count("regenerated"),
            )
            .where(*conds)
            .group_by(day)
            .order_by(day)
        ):
            out.by_day.append(
                DayStats(
                    day=_as_date(d),
                    approved=approved or 0,
                    edited=edited or 0,
                    rejected=rejected or 0,
                    expired=expired or 0,
                    regenerated=regenerated or 0,
                )
            )
        out.rejections_by_reason = {
            code or "unspecified": n
            for code, n in session.execute(
                select(ReviewRow.reason_code, func.count())
                .where(*conds, ReviewRow.decision.in_(("rejected", "regenerated")))
                .group_by(ReviewRow.reason_code)
                .order_by(func.count().desc())
            )
        }
        vconds: list[ColumnElement[bool]] = [DraftRow.created_at >= since]
        if brand is not None:
            vconds.append(DraftRow.brand == brand)
        if campaign is not None:
            vconds.append(DraftRow.campaign == campaign)
        out.violations_by_rule = {
            rule: n
            for rule, n in session.execute(
                select(DraftViolationRow.rule_id, func.count())
                .join(DraftRow, DraftRow.id == DraftViolationRow.draft_id)
                .where(*vconds)
                .group_by(DraftViolationRow.rule_id)
                .order_by(func.count().desc())
            )
        }
        outcome = DraftRow.rationale["chat_outcome"].as_string()
        out.chat_outcomes = {
            str(o): n
            for o, n in session.execute(
                select(outcome, func.count())
                .where(*vconds, DraftRow.kind == "chat_answer", outcome.is_not(None))
                .group_by(outcome)
            )
            if o is not None
        }
        edited_size = case((ReviewRow.decision == "edited", ReviewRow.edit_size), else_=None)
        for b, c, approved, edited, rejected, expired, avg_size in session.execute(
            select(
                ReviewRow.brand,
                ReviewRow.campaign,
                _count("approved"),
                _count("edited"),
                _count("rejected"),
                _count("expired"),
                func.avg(edited_size),
            )
            .where(*conds)
            .group_by(ReviewRow.brand, ReviewRow.campaign)
            .order_by(ReviewRow.brand, ReviewRow.campaign)
        ):
            out.by_group.append(
                GroupStats(
                    brand=b,
                    campaign=c,
                    approved=approved or 0,
                    edited=edited or 0,
                    rejected=rejected or 0,
                    expired=expired or 0,
                    avg_edit_size=float(avg_size) if avg_size is not None else None,
                )
            )
        avg_all, decided = session.execute(
            select(func.avg(edited_size), func.count()).where(
                *conds, ReviewRow.decision.in_(JUDGED)
            )
        ).one()
        out.avg_edit_size = float(avg_all) if avg_all is not None else None
        out.decided = decided or 0
    return out
