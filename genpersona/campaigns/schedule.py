"""Schedules: cron in the campaign's time zone, on Celery beat, or as system cron lines.

Parsing and next-fire times are ``croniter``'s, evaluated on wall-clock time in
the definition's zone (``zoneinfo``), so "0 9 * * MON" in Europe/London fires at
09:00 London time on both sides of a DST change. The *period* of a fire is that
scheduled local time (ISO, with its offset): every process computes the same
period for the same fire, which is what the unique (campaign, period) key in
``campaign_period_runs`` needs to make duplicates harmless.

Beat runs one small entry per minute (``tick``) rather than one entry per
campaign: it asks which schedules were due since the last minute and fires each
due period once. That keeps time-zone arithmetic here (tested) instead of in
beat's own crontab, and a definition applied while beat runs is picked up
without restarting it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel

from genpersona.campaigns.definition_store import StoredDefinition
from genpersona.campaigns.definitions import Schedule
from genpersona.errors import ScheduleError

UTC = ZoneInfo("UTC")


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def fires_between(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Scheduled fire times in (start, end], as aware datetimes in the schedule's zone."""
    zone = ZoneInfo(schedule.timezone)
    try:
        it = croniter(schedule.cron, _aware(start).astimezone(zone))
    except (ValueError, KeyError) as exc:
        raise ScheduleError(
            f"cannot schedule {schedule.cron!r}: {exc}",
            fix="use a 5-field cron expression, e.g. '0 9 * * MON'",
            cron=schedule.cron,
        ) from exc
    out: list[datetime] = []
    stop = _aware(end)
    while True:
        nxt = it.get_next(datetime)
        if nxt > stop:
            return out
        out.append(nxt)
        if len(out) > 10_000:  # a '* * * * *' over years: refuse rather than loop forever
            raise ScheduleError(
                "more than 10,000 fires in the window", fix="ask for a shorter window"
            )


def next_fire(schedule: Schedule, after: datetime) -> datetime:
    zone = ZoneInfo(schedule.timezone)
    nxt: datetime = croniter(schedule.cron, _aware(after).astimezone(zone)).get_next(datetime)
    return nxt


def period_key(fire: datetime) -> str:
    return fire.isoformat(timespec="minutes")


class DueFire(BaseModel):
    brand: str
    name: str
    period: str


def due_fires(definitions: list[StoredDefinition], start: datetime, end: datetime) -> list[DueFire]:
    """Every (campaign, period) whose fire time falls in (start, end]."""
    out: list[DueFire] = []
    for stored in definitions:
        d = stored.definition
        if d.schedule is None or not d.enabled:
            continue
        for fire in fires_between(d.schedule, start, end):
            out.append(DueFire(brand=d.brand, name=d.name, period=period_key(fire)))
    return out


def cron_lines(
    definitions: list[StoredDefinition], command: str = "genpersona campaign run"
) -> list[str]:
    """System crontab lines (CRON_TZ per line, as cronie supports) for deployments without beat."""
    lines: list[str] = []
    for stored in definitions:
        d = stored.definition
        if d.schedule is None or not d.enabled:
            continue
        lines.append(f"CRON_TZ={d.schedule.timezone}")
        lines.append(f"{d.schedule.cron} {command} --brand {d.brand} --name {d.name} --scheduled")
    return lines


def cronjob_manifests(definitions: list[StoredDefinition], image: str = "genpersona:latest") -> str:
    """Kubernetes CronJob manifests (``spec.timeZone``, stable since Kubernetes 1.27)."""
    docs: list[str] = []
    for stored in definitions:
        d = stored.definition
        if d.schedule is None or not d.enabled:
            continue
        docs.append(
            "\n".join(
                [
                    "apiVersion: batch/v1",
                    "kind: CronJob",
                    "metadata:",
                    f"  name: campaign-{d.brand}-{d.name}"[: 63 + 8],
                    "spec:",
                    f'  schedule: "{d.schedule.cron}"',
                    f"  timeZone: {d.schedule.timezone}",
                    "  concurrencyPolicy: Forbid",
                    "  jobTemplate:",
                    "    spec:",
                    "      template:",
                    "        spec:",
                    "          restartPolicy: OnFailure",
                    "          containers:",
                    "            - name: campaign",
                    f"              image: {image}",
                    "              args: [genpersona, campaign, run, --brand, "
                    f"{d.brand}, --name, {d.name}, --scheduled]",
                ]
            )
        )
    return "\n---\n".join(docs)


def latest_fire_at_or_before(schedule: Schedule, now: datetime) -> datetime:
    """The fire a ``--scheduled`` run started by system cron belongs to (cron starts late)."""
    zone = ZoneInfo(schedule.timezone)
    local = _aware(now).astimezone(zone) + timedelta(seconds=1)
    prev: datetime = croniter(schedule.cron, local).get_prev(datetime)
    return prev
