"""A campaign's outcomes per variant and prompt version, and its lift over the holdout.

The unit is the exposure (one recipient on one channel): each rate is the
share of exposures with at least one such outcome, so a recipient who clicks
five times counts once. Intent-to-treat: the personalized arm is every
exposure not held out — also those that got generic copy because nothing was
approved or the customer opted out — so the lift answers "what did running
personalization for this campaign change", not "what did the copy do for
those who saw it". Opens by privacy proxies and scanners (``machine_open``)
are reported apart and never count as human opens; opens are diagnostic,
clicks and conversions are what the lift is about.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from genpersona.campaigns.tables import OutcomeRow
from genpersona.db.engine import session_scope
from genpersona.delivery.lift import METHOD, Lift, lift
from genpersona.delivery.tables import ExposureRow
from genpersona.errors import NotFound
from genpersona.review.tables import DraftRow
from genpersona.settings import Settings, get_settings

#: report column -> outcome type that fills it
COUNTED = {
    "sent": ("sent", "delivered"),
    "delivered": ("delivered",),
    "human_opens": ("opened",),
    "clicks": ("clicked",),
    "conversions": ("converted",),
    "unsubscribes": ("unsubscribed",),
    "bounces": ("bounced",),
}
LIFT_METRICS = ("clicks", "conversions", "human_opens", "unsubscribes")


class ReportRow(BaseModel):
    arm: str  # "personalized" | "holdout"
    variant_index: int | None = None
    prompt_version: str | None = None
    #: generic copy given in the personalized arm (e.g. "not_approved", "opted_out")
    reason: str | None = None
    exposures: int = 0
    sent: int = 0
    delivered: int = 0
    human_opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    conversions: int = 0
    unsubscribes: int = 0
    bounces: int = 0

    def rate(self, column: str) -> float | None:
        return getattr(self, column) / self.exposures if self.exposures else None


class CampaignReport(BaseModel):
    brand: str
    campaign: str
    rows: list[ReportRow]
    personalized: ReportRow
    holdout: ReportRow
    lift: list[Lift] = Field(default_factory=list)
    method: str = METHOD
    attribution_window_days: float


def _add(row: ReportRow, seen: set[str], machine_only: bool) -> None:
    row.exposures += 1
    for column, types in COUNTED.items():
        if any(t in seen for t in types):
            setattr(row, column, getattr(row, column) + 1)
    if machine_only:
        row.machine_opens += 1


def campaign_report(
    name: str, brand: str | None = None, settings: Settings | None = None
) -> CampaignReport:
    settings = settings or get_settings()
    brand = brand or settings.default_brand
    with session_scope(settings) as session:
        exposures = session.execute(
            select(
                ExposureRow.id,
                ExposureRow.holdout,
                ExposureRow.variant_index,
                ExposureRow.fallback,
                ExposureRow.reason,
                DraftRow.prompt_version,
            )
            .outerjoin(DraftRow, DraftRow.id == ExposureRow.draft_id)
            .where(ExposureRow.brand == brand, ExposureRow.campaign == name)
        ).all()
        if not exposures:
            raise NotFound(
                f"campaign {name!r} of brand {brand!r} has no exposures yet",
                fix="check --name/--brand; exposures are written when copy is pulled or exported",
                campaign=name,
                brand=brand,
            )
        seen: dict[int, set[str]] = defaultdict(set)
        machine: dict[int, bool] = {}
        for exposure_id, kind, is_machine in session.execute(
            select(OutcomeRow.exposure_id, OutcomeRow.type, OutcomeRow.machine_open)
            .join(ExposureRow, ExposureRow.id == OutcomeRow.exposure_id)
            .where(ExposureRow.brand == brand, ExposureRow.campaign == name)
        ):
            if exposure_id is None:  # the join makes this impossible; keeps the types honest
                continue
            if kind == "opened" and is_machine:
                machine.setdefault(exposure_id, True)
                continue
            if kind == "opened":
                machine[exposure_id] = False
            seen[exposure_id].add(kind)
    groups: dict[tuple[Any, ...], ReportRow] = {}
    arms = {True: ReportRow(arm="holdout"), False: ReportRow(arm="personalized")}
    for e in exposures:
        if e.holdout:
            key: tuple[Any, ...] = ("holdout",)
            make = {"arm": "holdout"}
        elif e.fallback or e.variant_index is None:
            key = ("personalized", "generic", e.reason)
            make = {"arm": "personalized", "reason": e.reason or "generic"}
        else:
            key = ("personalized", e.variant_index, e.prompt_version)
            make = {
                "arm": "personalized",
                "variant_index": e.variant_index,
                "prompt_version": e.prompt_version,
            }
        row = groups.setdefault(key, ReportRow(**make))
        machine_only = machine.get(e.id, False)
        _add(row, seen.get(e.id, set()), machine_only)
        _add(arms[bool(e.holdout)], seen.get(e.id, set()), machine_only)
    treated, held = arms[False], arms[True]
    rows = sorted(
        groups.values(),
        key=lambda r: (r.arm == "holdout", r.variant_index is None, r.variant_index or 0,
                       r.prompt_version or "", r.reason or ""),
    )  # fmt: skip
    return CampaignReport(
        brand=brand,
        campaign=name,
        rows=rows,
        personalized=treated,
        holdout=held,
        lift=[
            lift(m, (getattr(treated, m), treated.exposures), (getattr(held, m), held.exposures))
            for m in LIFT_METRICS
        ],
        attribution_window_days=settings.attribution_window_days,
    )
