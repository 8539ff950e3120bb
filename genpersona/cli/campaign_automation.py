"""``genpersona campaign apply|schedule|audit``, and ``campaign run --name`` for stored definitions."""

from __future__ import annotations

from pathlib import Path

import typer

from genpersona.agent.recipes import load_recipes
from genpersona.campaigns.automation import run_definition
from genpersona.campaigns.definition_store import (
    apply_definitions,
    get_definition,
    latest_definitions,
)
from genpersona.campaigns.definitions import check_recipe_names, load_path
from genpersona.campaigns.review_pause import PauseState, pause_state, resume_auto_approval
from genpersona.campaigns.review_policy import audit_samples, record_audit_verdict
from genpersona.campaigns.schedule import (
    cron_lines,
    cronjob_manifests,
    latest_fire_at_or_before,
    next_fire,
    period_key,
)
from genpersona.campaigns.triggers import install
from genpersona.cli.common import JsonOpt, console, emit_json, handle_errors
from genpersona.db.base import utcnow
from genpersona.errors import ScheduleError
from genpersona.settings import get_settings


def run_stored(name: str, brand: str | None, scheduled: bool, as_json: bool) -> None:
    """Run a stored definition now (``--scheduled``: as the schedule's latest period, once)."""

    settings = get_settings()
    install(settings)
    stored = get_definition(brand or settings.default_brand, name, settings)
    period = None
    if scheduled:
        if stored.definition.schedule is None:
            raise ScheduleError(
                f"campaign {name!r} has no schedule", fix="drop --scheduled to run it now"
            )
        period = period_key(latest_fire_at_or_before(stored.definition.schedule, utcnow()))
    run = run_definition(stored, period=period, settings=settings)
    if as_json:
        emit_json(run)
        return
    r = run.report
    console.print(
        f"{run.brand}/{run.campaign} (v{run.version}) {run.outcome}"
        + (f", period {run.period}" if run.period else "")
        + (f": {r.targeted} customers, {r.generated} generated, {r.failed} failed" if r else "")
        + (
            f"; review: {run.review.auto_approved} auto-approved, {run.review.routed} routed"
            if run.review
            else ""
        ),
        markup=False,
        highlight=False,
    )


def add_commands(app: typer.Typer) -> None:
    @app.command("apply")
    @handle_errors
    def apply(
        path: Path = typer.Argument(..., help="A campaign .yaml file or a folder of them."),
        as_json: bool = JsonOpt,
    ) -> None:
        """Validate campaign files and store them; a changed file becomes a new version."""

        settings = get_settings()
        definitions = load_path(path)  # all valid, or an error naming file and field
        files = sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]) if path.is_dir() else [path]
        known = load_recipes(settings.prompts_dir).recipes
        check_recipe_names(definitions, [str(f) for f in files], known)
        applied = apply_definitions(definitions, [str(f) for f in files], settings)
        if as_json:
            emit_json(applied)
            return
        for a in applied:
            state = "new version" if a.changed else "unchanged"
            console.print(f"{a.brand}/{a.name}: v{a.version} ({state})", markup=False)

    @app.command("schedule")
    @handle_errors
    def schedule_(
        print_cron: bool = typer.Option(False, "--print-cron", help="System crontab lines."),
        kubernetes: bool = typer.Option(False, "--kubernetes", help="Kubernetes CronJobs."),
        brand: str | None = typer.Option(None, "--brand"),
        as_json: bool = JsonOpt,
    ) -> None:
        """Show stored schedules and their next fire (or the cron / CronJob equivalents)."""

        stored = latest_definitions(brand, get_settings())
        if kubernetes:
            typer.echo(cronjob_manifests(stored))
            return
        if print_cron:
            typer.echo("\n".join(cron_lines(stored)))
            return
        rows = [
            {
                "brand": s.definition.brand,
                "name": s.definition.name,
                "version": s.version,
                "cron": s.definition.schedule.cron,
                "timezone": s.definition.schedule.timezone,
                "next_fire": next_fire(s.definition.schedule, utcnow()).isoformat(),
            }
            for s in stored
            if s.definition.schedule is not None
        ]
        if as_json:
            emit_json(rows)
            return
        for r in rows:
            console.print(
                f"{r['brand']}/{r['name']} v{r['version']}: '{r['cron']}' {r['timezone']} "
                f"-> next {r['next_fire']}",
                markup=False,
            )

    @app.command("audit")
    @handle_errors
    def audit(
        name: str = typer.Option(..., "--name"),
        brand: str | None = typer.Option(None, "--brand"),
        draft: int | None = typer.Option(None, "--draft", help="Judge this audit sample."),
        ok: bool = typer.Option(True, "--ok/--reject", help="Your verdict on --draft."),
        reviewer: str = typer.Option("reviewer", "--reviewer"),
        as_json: bool = JsonOpt,
    ) -> None:
        """List a campaign's audit samples of auto-approved drafts, or judge one."""

        settings = get_settings()
        brand = brand or settings.default_brand
        if draft is not None:
            policy = get_definition(brand, name, settings).definition.review
            paused = record_audit_verdict(draft, ok, reviewer, policy, settings=settings)
            result = {"draft_id": draft, "ok": ok, "auto_approval_paused": paused}
            if as_json:
                emit_json(result)
            else:
                console.print(str(result), markup=False)
            return
        samples = audit_samples(brand, name, settings)
        if as_json:
            emit_json(samples)
            return
        for s in samples:
            console.print(str(s), markup=False)


def add_review_policy_commands(app: typer.Typer) -> None:
    """``genpersona campaign review-policy status|resume NAME``: the audit's automatic pause."""

    rp = typer.Typer(help="Auto-approval of a campaign: its pause state, and resuming it.")
    app.add_typer(rp, name="review-policy")

    def _show(s: PauseState, as_json: bool) -> None:
        if as_json:
            emit_json(s)
            return
        resumed = (
            f"; resumed by {s.resumed_by} at {s.resumed_at:%Y-%m-%d %H:%M}" if s.resumed_at else ""
        )
        console.print(
            f"{s.brand}/{s.campaign}: {'PAUSED' if s.paused else 'active'} ({s.rejected} of "
            f"{s.judged} counted audits rejected; pauses above {s.threshold:.0%} with >= "
            f"{s.min_audits} audits){resumed}",
            markup=False,
            highlight=False,
        )

    @rp.command("status")
    @handle_errors
    def status(
        name: str = typer.Argument(..., help="The campaign definition's name."),
        brand: str | None = typer.Option(None, "--brand"),
        as_json: bool = JsonOpt,
    ) -> None:
        """Whether the audit paused this campaign's auto-approval, and the counts behind it."""

        settings = get_settings()
        brand = brand or settings.default_brand
        policy = get_definition(brand, name, settings).definition.review
        _show(pause_state(brand, name, policy, settings), as_json)

    @rp.command("resume")
    @handle_errors
    def resume(
        name: str = typer.Argument(..., help="The campaign definition's name."),
        reviewer: str = typer.Option(..., "--reviewer", help="Who resumes it (audited)."),
        note: str = typer.Option("", "--note", help="Why (kept in the audit log)."),
        brand: str | None = typer.Option(None, "--brand"),
        as_json: bool = JsonOpt,
    ) -> None:
        """Resume auto-approval the audit paused; only audits after now count toward a pause."""

        settings = get_settings()
        brand = brand or settings.default_brand
        policy = get_definition(brand, name, settings).definition.review
        _show(
            resume_auto_approval(brand, name, policy, reviewer, note=note, settings=settings),
            as_json,
        )
