"""``genpersona review list|show|approve|reject``: the review queue from a terminal.

The same decision functions as the console, so the same optimistic
concurrency and audit log: ``--version`` is the version you reviewed (``show``
prints it); without it the command uses the version it reads just before
deciding, which still refuses a draft someone else decided meanwhile.
``approve`` approves a set of variants: every clean one unless ``--variants``.
"""

from __future__ import annotations

from typing import cast

import typer
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.errors import GenpersonaError, InputError

review_app = typer.Typer(help="Review drafts from scripts: list, show, approve, reject.")
ReviewerOpt = typer.Option(
    ..., "--reviewer", envvar="GENPERSONA_REVIEWER", help="Your name, stored with the decision."
)


def _variants(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"--variants {value!r} is not a list of variant indexes",
            fix="give comma-separated indexes, e.g. --variants 0,2",
        ) from None


@review_app.command("list")
@handle_errors
def list_(
    brand: str | None = typer.Option(None, "--brand"),
    campaign: str | None = typer.Option(None, "--campaign"),
    kind: str | None = typer.Option(None, "--kind", help="subject_line, hero or chat_answer."),
    status: str = typer.Option("pending", "--status", help="pending, approved, ... or any."),
    sort: str = typer.Option("oldest", "--sort", help="oldest, newest, score_desc, score_asc."),
    page: int = typer.Option(1, "--page"),
    page_size: int = typer.Option(25, "--page-size"),
    as_json: bool = JsonOpt,
) -> None:
    """One page of the queue, with counts per status."""
    from pydantic import ValidationError

    from genpersona.review.models import QueueFilter, SortKey
    from genpersona.review.queue import list_drafts

    try:
        filters = QueueFilter(
            brand=brand,
            campaign=campaign,
            kind=kind,
            status=None if status == "any" else status,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(
            f"--{err['loc'][0]} {err.get('input')!r} is not valid",
            fix="use --kind subject_line|hero|chat_answer and --status "
            "pending|approved|edited|rejected|expired|any",
        ) from None
    result = list_drafts(filters, cast(SortKey, sort), page, page_size)  # checked inside
    if as_json:
        emit_json(result)
        return
    table = Table("id", "v", "status", "campaign", "customer", "kind", "score", "flags", "top copy")
    for r in result.rows:
        flags = ("violations " if r.has_violations else "") + ("fallback" if r.is_fallback else "")
        table.add_row(
            str(r.id), str(r.version), r.status, r.campaign or "", r.customer_id or "", r.kind,
            f"{r.top_score:.2f}", flags.strip(), r.top_text[:60],
        )  # fmt: skip
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    console.print(f"page {result.page}/{result.pages} of {result.total}; {counts}", markup=False)


@review_app.command("show")
@handle_errors
def show(draft_id: int = typer.Argument(..., help="Draft id."), as_json: bool = JsonOpt) -> None:
    """A draft's variants (index, score, violations, approved), version and history."""
    from genpersona.db.engine import session_scope
    from genpersona.review.approved import approved_variants
    from genpersona.review.queue import get_draft_detail

    detail = get_draft_detail(draft_id)
    with session_scope() as session:
        offered = approved_variants(session, draft_id)
    approved = {v.variant_index for v in offered if not v.edited}
    if as_json:
        emit_json(
            detail.model_dump(mode="json")
            | {"approved_variants": [v.model_dump(mode="json") for v in offered]}
        )
        return
    d = detail.draft
    console.print(
        f"draft {d.id} [{d.status}] version {d.version} — {d.brand}/{d.campaign or '-'} "
        f"for {d.customer_id or 'anonymous'} ({d.kind}, prompt {d.rationale.prompt_version})",
        markup=False,
        highlight=False,
    )
    table = Table("#", "approved", "score", "violations", "copy")
    for v in d.variants:
        rules = ", ".join(f"{x.rule_id} ({x.severity})" for x in v.violations)
        mark = "yes" if v.index in approved else ""
        table.add_row(str(v.index), mark, f"{v.scores.total:.2f}", rules, v.content.all_text())
    console.print(table)
    for offer in offered:
        if offer.edited:
            console.print(
                f"approved edit of variant {offer.variant_index}: {offer.content.all_text()}",
                markup=False,
                highlight=False,
            )
    for r in detail.reviews:
        console.print(
            f"{r.created_at:%Y-%m-%d %H:%M} {r.decision} by {r.reviewer}"
            + (f" (variant {r.variant_index})" if r.variant_index is not None else "")
            + (f": {r.reason_code} {r.note or ''}" if r.reason_code else ""),
            markup=False,
            highlight=False,
        )


def _version(draft_id: int, given: int | None) -> int:
    if given is not None:
        return given
    from genpersona.review.queue import get_draft

    return get_draft(draft_id).version


@review_app.command("approve")
@handle_errors
def approve(
    draft_ids: list[int] = typer.Argument(None, help="Draft ids (or use --campaign)."),
    reviewer: str = ReviewerOpt,
    version: int | None = typer.Option(
        None, "--version", help="The version you reviewed (one draft id only)."
    ),
    variants: str | None = typer.Option(
        None, "--variants", help="Comma-separated indexes to approve; default every clean one."
    ),
    campaign: str | None = typer.Option(
        None, "--campaign", help="Every pending draft of this campaign."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Approve a set of variants of each draft; drafts that fail are reported, others go on."""
    from genpersona.review.models import QueueFilter
    from genpersona.review.queue import approve_set, list_drafts

    ids = list(draft_ids or [])
    if campaign:
        page = 1
        while True:
            found = list_drafts(QueueFilter(campaign=campaign), "oldest", page, 500)
            ids += [r.id for r in found.rows]
            if page >= found.pages:
                break
            page += 1
    if not ids:
        raise InputError("no drafts to approve", fix="give draft ids or --campaign NAME")
    if version is not None and len(ids) > 1:
        raise InputError(
            "--version applies to one draft", fix="approve one draft id with --version"
        )
    chosen = _variants(variants)
    results, failures = [], []
    for draft_id in dict.fromkeys(ids):
        try:
            expected = _version(draft_id, version)
            results.append(approve_set(draft_id, reviewer, expected, chosen))
        except GenpersonaError as exc:
            failures.append(
                {"draft_id": draft_id, "error": type(exc).__name__, "message": exc.message}
            )
    if as_json:
        emit_json({"approved": [r.model_dump(mode="json") for r in results], "failed": failures})
    else:
        for r in results:
            console.print(
                f"draft {r.draft_id} approved (version {r.version}): variants {r.variant_indexes}",
                markup=False,
                highlight=False,
            )
        for f in failures:
            err_console.print(f"draft {f['draft_id']}: {f['message']}", markup=False)
    if failures:
        raise typer.Exit(8)  # the review exit code: some drafts were not approved


@review_app.command("reject")
@handle_errors
def reject(
    draft_id: int = typer.Argument(..., help="Draft id."),
    reason: str = typer.Option(..., "--reason", help="off_brand, claim, too_personal, ..."),
    note: str = typer.Option("", "--note", help="Free text (needed for reason 'other')."),
    reviewer: str = ReviewerOpt,
    version: int | None = typer.Option(None, "--version", help="The version you reviewed."),
    as_json: bool = JsonOpt,
) -> None:
    """Reject with a reason code (insights count them)."""
    from genpersona.review.queue import reject as reject_draft

    result = reject_draft(draft_id, reason, note, reviewer, _version(draft_id, version))
    if as_json:
        emit_json(result)
        return
    console.print(f"draft {draft_id} rejected (version {result.version})", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
