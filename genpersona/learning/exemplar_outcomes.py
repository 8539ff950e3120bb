"""Outcomes feed generation: each exemplar learns how often its copy was shown and clicked.

An exemplar is the copy a reviewer approved (or edited and approved) for one draft;
the delivery shows that draft's approved variants and logs each exposure with its
draft and variant. This module counts, per exemplar, the exposures of its draft's
chosen variant and the clicks attributed to them (the same reward as the policy:
a human click within the attribution window) and writes them onto the exemplar
rows. Retrieval (``genpersona.review.exemplar_index``) then shrinks each rate toward
the brand's mean and weights the few-shot examples by it. Counts are recomputed
from the whole log each time, so an erased draft's exposures simply stop counting.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from genpersona.learning.logs import campaign_log
from genpersona.review.tables import DraftRow, ExemplarRow


def exemplar_outcomes(
    session: Session, brand: str, *, window: timedelta = timedelta(days=7)
) -> dict[int, tuple[int, int]]:
    """exemplar id -> (exposures, clicks) over the brand's whole exposure log."""
    per_variant: dict[tuple[int, int], list[int]] = {}
    for e in campaign_log(session, brand, None, window=window):
        if e.draft_id is None or e.variant_index is None:
            continue
        counts = per_variant.setdefault((e.draft_id, e.variant_index), [0, 0])
        counts[0] += 1
        counts[1] += e.reward
    rows = session.execute(
        select(ExemplarRow.id, ExemplarRow.source_draft_id, DraftRow.chosen_variant)
        .join(DraftRow, DraftRow.id == ExemplarRow.source_draft_id)
        .where(ExemplarRow.brand == brand)
    )
    out: dict[int, tuple[int, int]] = {}
    for exemplar_id, draft_id, chosen in rows:  # the join leaves no draft id None
        n, c = per_variant.get((int(draft_id or 0), chosen or 0), [0, 0])
        out[int(exemplar_id)] = (n, c)
    return out


def refresh_exemplar_outcomes(
    session: Session, brand: str, *, window: timedelta = timedelta(days=7)
) -> int:
    """Write the counts onto the brand's exemplar rows; returns how many rows changed
    (unchanged rows are not touched, so retrieval's cached copy stays valid)."""
    counts = exemplar_outcomes(session, brand, window=window)
    current = {
        int(i): (int(n or 0), int(c or 0))
        for i, n, c in session.execute(
            select(ExemplarRow.id, ExemplarRow.exposures, ExemplarRow.clicks).where(
                ExemplarRow.brand == brand
            )
        )
    }
    changed = 0
    for exemplar_id, now in current.items():
        new = counts.get(exemplar_id, (0, 0))
        if new != now:
            session.execute(
                update(ExemplarRow)
                .where(ExemplarRow.id == exemplar_id)
                .values(exposures=new[0], clicks=new[1])
            )
            changed += 1
    return changed
