"""Celery beat for campaigns: one entry per minute that fires due schedules and trigger work.

Run ``celery -A genpersona.worker beat`` beside the workers (same
GENPERSONA_* settings). Each tick looks at the window since the previous
minute (with an overlap, so a late or restarted beat misses nothing) and
sends one ``fire_period`` task per due (campaign, period); overlapping windows
and duplicate deliveries are harmless because the period claim is unique in
the database. The same tick processes due trigger fires, and once a day runs
the win-back check. A third entry finishes deferred erasures: every
``erasure_compact_every_s`` a worker compacts (rebuild, scrub, VACUUM) if an erase left
that pending; the queue is the home's pending file, which names no person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery.schedules import crontab

from genpersona.campaigns import automation, schedule, triggers
from genpersona.campaigns.definition_store import get_definition, latest_definitions
from genpersona.campaigns.tasks import app, make_celery_app
from genpersona.customers.compaction import compaction_due, run_pending
from genpersona.db.base import utcnow
from genpersona.settings import Settings, get_settings

FIRE_TASK = "genpersona.campaigns.fire_period"
TICK_TASK = "genpersona.campaigns.tick"
COMPACT_TASK = "genpersona.customers.compact"
#: each tick looks back this far, so one missed minute (a beat restart) is still covered
LOOKBACK = timedelta(minutes=5)


def fire_period(brand: str, name: str, period: str) -> dict[str, Any]:
    settings = get_settings()
    stored = get_definition(brand, name, settings)
    run = automation.run_definition(stored, period=period, settings=settings)
    return {"outcome": run.outcome, "campaign": run.campaign, "period": period}


def tick(now_iso: str | None = None) -> dict[str, Any]:
    """Fire every due period and process due trigger fires; returns what it sent."""
    settings = get_settings()
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    due = schedule.due_fires(latest_definitions(settings=settings), now - LOOKBACK, now)
    client = make_celery_app(settings)
    for fire in due:
        client.send_task(
            FIRE_TASK, args=[fire.brand, fire.name, fire.period], queue=settings.celery_queue
        )
    processed = triggers.process_due(now, settings=settings)
    return {"due": [f.model_dump() for f in due], "trigger_fires": processed}


def win_back_daily() -> int:
    return triggers.check_win_back(utcnow(), settings=get_settings())


def compact_erasures() -> dict[str, Any]:
    """Finish pending erasures, unless another compaction of the home is running (then the
    next beat tries again). No arguments: nothing personal travels through the broker."""
    settings = get_settings()
    if not compaction_due(settings):
        return {"due": False}
    report = run_pending(settings, wait=False)
    return {
        "due": True,
        "skipped": report.skipped,
        "more_pending": report.more_pending,
        "rebuilt": [r.physical for r in report.rebuilt],
        "seconds": report.seconds,
    }


def send_compaction(settings: Settings | None = None) -> bool:
    """Ask a worker to compact now (after a background erase); False without a broker."""
    settings = settings or get_settings()
    if not settings.celery_broker_url:
        return False
    make_celery_app(settings).send_task(COMPACT_TASK, queue=settings.celery_queue)
    return True


fire_task = app.task(name=FIRE_TASK)(fire_period)
tick_task = app.task(name=TICK_TASK)(tick)
win_back_task = app.task(name="genpersona.campaigns.win_back")(win_back_daily)
compact_task = app.task(name=COMPACT_TASK)(compact_erasures)

app.conf.beat_schedule = {
    "campaigns-tick": {"task": TICK_TASK, "schedule": 60.0},
    "campaigns-win-back": {
        "task": "genpersona.campaigns.win_back",
        "schedule": crontab(hour=6, minute=0),
    },
    "erasure-compact": {
        "task": COMPACT_TASK,
        "schedule": get_settings().erasure_compact_every_s,
    },
}
