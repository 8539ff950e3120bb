"""Review at campaign scale: auto-approve drafts that meet stated rules, route the rest to people.

A campaign of 100,000 drafts cannot wait for a person per draft, but nothing
should go out that a reviewer would not have passed. So ``auto`` mode approves
a draft only when every rule below holds for its best clean variant, checked in
this order (the first that fails is the rule recorded for routing it):

1. ``paused`` - auto-approval for this campaign is paused (audit rejections);
2. ``violations`` - some variant has no blocking *or* warning violation at all;
3. ``claims`` - no variant of the draft reached for a claim (``claim.*`` rules);
4. ``score`` - the variant's copy-quality score ``total >= min_score``;
5. ``similarity`` - it is at least ``min_similarity`` close to an approved exemplar
   (copy like what people already approved for this brand and kind).

Every automatic decision is an audit entry by the actor ``auto:policy-v1`` naming
the rule, and a row in ``auto_review_decisions``. ``audit_share`` of the
auto-approved drafts (a seeded draw per draft) are sampled for reviewers; when
the reviewers' rejection rate over at least ``min_audits`` judged samples passes
``pause_rejection_rate``, the campaign's auto-approval pauses: every later draft
is routed to people, with the rule ``paused``, until a person resumes it
(``review_pause.resume_auto_approval``; only later verdicts count after that).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field
from sqlalchemy import select

from genpersona.campaigns.automation_tables import AutoReviewRow
from genpersona.campaigns.definitions import ReviewPolicy
from genpersona.campaigns.review_pause import audit_state, is_paused, latest_resume
from genpersona.db.base import utcnow
from genpersona.db.engine import session_scope
from genpersona.errors import DraftNotFound, InputError
from genpersona.review.audit import record
from genpersona.review.decisions import approve
from genpersona.review.exemplars import similar_exemplars
from genpersona.review.queue import get_draft
from genpersona.settings import Settings, get_settings
from genpersona.types.content import Draft, Variant

AUTO_ACTOR = "auto:policy-v1"


class PolicyReport(BaseModel):
    mode: str
    drafts: int = 0
    auto_approved: int = 0
    routed: int = 0
    audit_sampled: int = 0
    paused: bool = False
    by_rule: dict[str, int] = Field(default_factory=dict)


class Verdict(BaseModel):
    approve: bool
    rule: str
    variant_index: int | None = None
    detail: dict[str, float | int | str | None] = Field(default_factory=dict)


def _clean(v: Variant) -> bool:
    return not v.violations and not v.is_fallback


def judge(draft: Draft, policy: ReviewPolicy, similarity: float | None, paused: bool) -> Verdict:
    """The rules, as a pure function of the draft (so tests and the bench use the same code)."""
    if paused:
        return Verdict(approve=False, rule="paused")
    clean = [v for v in draft.variants if _clean(v)]
    if not clean:
        return Verdict(approve=False, rule="violations")
    if any(x.rule_id.startswith("claim") for v in draft.variants for x in v.violations):
        return Verdict(approve=False, rule="claims")
    best = max(clean, key=lambda v: (v.scores.total, -v.index))
    detail: dict[str, float | int | str | None] = {
        "score": round(best.scores.total, 4),
        "min_score": policy.min_score,
        "similarity": None if similarity is None else round(similarity, 4),
        "min_similarity": policy.min_similarity,
    }
    if best.scores.total < policy.min_score:
        return Verdict(approve=False, rule="score", variant_index=best.index, detail=detail)
    if similarity is None or similarity < policy.min_similarity:
        return Verdict(approve=False, rule="similarity", variant_index=best.index, detail=detail)
    return Verdict(approve=True, rule="all_rules_passed", variant_index=best.index, detail=detail)


def best_clean_text(draft: Draft) -> str | None:
    clean = [v for v in draft.variants if _clean(v)]
    if not clean:
        return None
    return max(clean, key=lambda v: (v.scores.total, -v.index)).content.all_text()


def sampled_for_audit(draft_id: int, share: float, seed: int) -> bool:
    """A seeded draw per draft: the same draft is always sampled or never (re-runs agree)."""
    h = hashlib.sha256(f"{seed}:audit:{draft_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < share


def _similarity(draft: Draft, text: str | None, settings: Settings) -> float | None:
    if text is None:
        return None
    hits = similar_exemplars(draft.brand, draft.kind, text, k=1, settings=settings)
    return hits[0].score if hits else None


def apply_review_policy(
    draft_ids: Sequence[int],
    policy: ReviewPolicy,
    brand: str,
    scope: str,
    *,
    settings: Settings | None = None,
) -> PolicyReport:
    """Decide each pending draft by the policy; ``scope`` is the campaign the pause counts over."""
    settings = settings or get_settings()
    report = PolicyReport(mode=policy.mode, drafts=len(draft_ids))
    if policy.mode == "all":
        report.routed = len(draft_ids)
        report.by_rule = {"review_all": len(draft_ids)} if draft_ids else {}
        return report
    rules: Counter[str] = Counter()
    paused = is_paused(brand, scope, policy, settings)
    report.paused = paused
    with session_scope(settings) as session:  # a re-run (resumed period) decides each draft once
        done = set(
            session.scalars(
                select(AutoReviewRow.draft_id).where(AutoReviewRow.draft_id.in_(list(draft_ids)))
            )
        )
    for draft_id in draft_ids:
        if draft_id in done:
            continue
        draft = get_draft(draft_id, settings)
        if draft.status != "pending":
            continue
        verdict = judge(draft, policy, _similarity(draft, best_clean_text(draft), settings), paused)
        rules[verdict.rule] += 1
        sampled = False
        if verdict.approve and verdict.variant_index is not None:
            approve(draft_id, verdict.variant_index, AUTO_ACTOR, draft.version, settings)
            sampled = sampled_for_audit(draft_id, policy.audit_share, settings.seed)
            report.auto_approved += 1
            report.audit_sampled += int(sampled)
        else:
            report.routed += 1
        with session_scope(settings) as session:
            session.add(
                AutoReviewRow(
                    draft_id=draft_id,
                    brand=brand,
                    campaign=scope,
                    customer_id=draft.customer_id,
                    decision="auto_approved" if verdict.approve else "routed",
                    rule=verdict.rule,
                    detail=dict(verdict.detail),
                    audit_sampled=sampled,
                )
            )
            record(
                session,
                AUTO_ACTOR,
                "auto_approved" if verdict.approve else "auto_routed",
                draft_id=draft_id,
                brand=brand,
                customer_id=draft.customer_id,
                payload={
                    "rule": verdict.rule,
                    "policy": policy.model_dump(mode="json"),
                    "audit_sampled": sampled,
                    **verdict.detail,
                },
            )
    report.by_rule = dict(rules)
    return report


def audit_samples(
    brand: str, scope: str, settings: Settings | None = None
) -> list[dict[str, object]]:
    """The auto-approved drafts sampled for reviewers, with any verdict given."""
    with session_scope(settings) as session:
        rows = session.scalars(
            select(AutoReviewRow)
            .where(
                AutoReviewRow.brand == brand,
                AutoReviewRow.campaign == scope,
                AutoReviewRow.audit_sampled.is_(True),
            )
            .order_by(AutoReviewRow.id)
        )
        return [
            {"draft_id": r.draft_id, "customer_id": r.customer_id, "audit_ok": r.audit_ok}
            for r in rows
        ]


def record_audit_verdict(
    draft_id: int,
    ok: bool,
    reviewer: str,
    policy: ReviewPolicy,
    *,
    note: str = "",
    settings: Settings | None = None,
) -> bool:
    """Store a reviewer's verdict on an audit sample; returns whether auto-approval is now paused."""
    settings = settings or get_settings()
    if not reviewer.strip() or reviewer.startswith("auto:"):
        raise InputError(
            f"audit verdicts come from people, not {reviewer!r}",
            fix="pass your reviewer name",
        )
    with session_scope(settings) as session:
        found = session.execute(
            select(AutoReviewRow.brand, AutoReviewRow.campaign, AutoReviewRow.audit_sampled).where(
                AutoReviewRow.draft_id == draft_id
            )
        ).first()
    if found is None or not found.audit_sampled:
        raise DraftNotFound(
            f"draft {draft_id} is not an audit sample of an auto-approved campaign",
            fix="list the samples with `genpersona campaign audit --name NAME`",
            draft_id=draft_id,
        )
    brand, scope = found.brand, found.campaign
    was_paused = is_paused(brand, scope, policy, settings)
    with session_scope(settings) as session:
        row = session.scalars(select(AutoReviewRow).where(AutoReviewRow.draft_id == draft_id)).one()
        row.audit_ok = ok
        row.audited_at = utcnow()
        record(
            session,
            reviewer,
            "audit_verdict",
            draft_id=draft_id,
            brand=brand,
            customer_id=row.customer_id,
            payload={"ok": ok, "note": note[:500], "rule": row.rule},
        )
    paused = is_paused(brand, scope, policy, settings)
    if paused and not was_paused:
        resume = latest_resume(brand, scope, settings)
        since = resume.created_at if resume is not None else None
        judged, rejected = audit_state(brand, scope, settings, since)
        with session_scope(settings) as session:
            record(
                session,
                AUTO_ACTOR,
                "auto_paused",
                brand=brand,
                payload={
                    "rule": "audit_rejection_rate",
                    "campaign": scope,
                    "judged": judged,
                    "rejected": rejected,
                    "threshold": policy.pause_rejection_rate,
                },
            )
    return paused
