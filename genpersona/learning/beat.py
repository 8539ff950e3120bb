"""Celery beat for learning: `learn update --all` for every brand, on a schedule.

The campaign beat (``genpersona.campaigns.beat``) cannot schedule learning itself:
learning reads the campaigns' and the delivery's tables, so the campaigns package
must not import it. This module adds the learning entry to the same Celery app and
schedule instead; deployments run beat and workers with ``genpersona.worker``, which
imports this module, and so get both:

    celery -A genpersona.worker beat
    celery -A genpersona.worker worker -Q <celery_queue>

Every ``learn_update_every_s`` (default hourly) one task recomputes the allocation
of every campaign with recipe exposures, brand by brand, one transaction per brand
(``learn_update_all``), and writes each exemplar's exposures and clicks so retrieval
weights the few-shot examples by outcomes (``refresh_exemplar_outcomes``). Running
it twice is harmless: each run stores one more allocation version computed from the
same log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from genpersona.campaigns.beat import app
from genpersona.clickmodel.model import model_if_trained
from genpersona.clickmodel.train import model_root
from genpersona.db.engine import session_scope
from genpersona.delivery.tables import ExposureRow
from genpersona.learning.exemplar_outcomes import refresh_exemplar_outcomes
from genpersona.learning.update import learn_update_all
from genpersona.settings import get_settings

LEARN_TASK = "genpersona.learning.update_all"


def update_every_brand(window_days: float = 7.0) -> dict[str, Any]:
    """What the beat entry runs; returns per brand the allocations made and exemplars changed."""
    settings = get_settings()
    window = timedelta(days=window_days)
    with session_scope(settings) as session:
        brands = list(
            session.scalars(
                select(ExposureRow.brand)
                .where(ExposureRow.recipe_id.is_not(None))
                .distinct()
                .order_by(ExposureRow.brand)
            )
        )
    out: dict[str, Any] = {}
    model = model_if_trained(model_root(settings))
    for brand in brands:
        with session_scope(settings) as session:
            allocs = learn_update_all(session, brand, window=window, click_model=model)
            changed = refresh_exemplar_outcomes(session, brand, window=window)
        out[brand] = {
            "allocations": [
                {"campaign": a.campaign, "version": a.version, "warmup": a.warmup} for a in allocs
            ],
            "exemplars_changed": changed,
        }
    return out


learn_task = app.task(name=LEARN_TASK)(update_every_brand)

app.conf.beat_schedule = {
    **app.conf.beat_schedule,
    "learning-update": {"task": LEARN_TASK, "schedule": get_settings().learn_update_every_s},
}
