"""``genpersona generate`` and ``genpersona chat``: the agent from the terminal.

``generate`` drafts one request and queues it (prints the ranked variants with
their scores and the "why"); ``chat`` holds a conversation with the brand's
assistant as a given customer, each answer grounded in the brand's knowledge
and queued for review like any other draft.
"""

from __future__ import annotations

from datetime import datetime

import typer
from pydantic import ValidationError
from rich.table import Table

from genpersona.agent.chat import chat_reply
from genpersona.agent.pipeline import generate
from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.errors import InputError
from genpersona.settings import get_settings
from genpersona.types.audience import AnonymousContext
from genpersona.types.content import ChatTurn, ContentRequest, Draft

KindOpt = typer.Option("subject_line", "--kind", "-k", help="subject_line, hero or chat_answer.")


def build_request(**fields: object) -> ContentRequest:
    """Validation errors become one InputError naming the field and the fix."""
    try:
        return ContentRequest(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(
            f"invalid request: {problems}",
            fix="see `genpersona generate --help` (n is 1..10; chat_answer needs --message)",
        ) from exc


def _anonymous(
    country: str | None, referrer: str | None, season: str | None
) -> AnonymousContext | None:
    if not (country or referrer or season):
        return None
    return AnonymousContext(
        country=country, referrer=referrer, season=season, local_time=datetime.now()
    )


def render_draft(draft: Draft) -> None:
    table = Table(title=f"{draft.kind} for {draft.customer_id or 'anonymous'} · draft #{draft.id}")
    for col in ("#", "copy", "voice", "relev.", "specif.", "length", "novelty", "total", "notes"):
        table.add_column(col, overflow="fold", min_width=28 if col == "copy" else None)
    for v in draft.variants:
        c = v.content
        copy = c.all_text()
        if c.featured_items:
            copy += "\n[dim]items: " + ", ".join(f.stock_code for f in c.featured_items) + "[/dim]"
        notes = []
        if v.is_fallback:
            notes.append("fallback")
        if v.fixes_applied:
            notes.append(f"{len(v.fixes_applied)} fixed")
        if v.attempts > 1:
            notes.append(f"{v.attempts} tries")
        s = v.scores
        table.add_row(
            str(v.index), copy, f"{s.brand_voice:.2f}", f"{s.relevance:.2f}", f"{s.specificity:.2f}",
            f"{s.length_fit:.2f}", f"{s.novelty:.2f}", f"{s.total:.2f}", ", ".join(notes),
        )  # fmt: skip
    console.print(table)
    r = draft.rationale
    console.print(f"[bold]Why:[/bold] {r.customer_line}")
    console.print(
        f"[dim]model {r.backend}:{r.model} · prompt {r.prompt_template} v{r.prompt_version} · "
        f"{draft.trace.total_ms:.0f} ms ({draft.trace.model_ms:.0f} ms model)[/dim]"
    )


def register(app: typer.Typer) -> None:
    @app.command("generate")
    @handle_errors
    def generate_cmd(
        brand: str | None = typer.Option(
            None, "--brand", "-b", help="Brand id; default GENPERSONA_DEFAULT_BRAND."
        ),
        customer: str | None = typer.Option(
            None, "--customer", "-c", help="Customer id; omit for an anonymous visitor."
        ),
        kind: str = KindOpt,
        n: int = typer.Option(3, "-n", help="Number of variants (1..10)."),
        brief: str = typer.Option("", "--brief", help="Campaign brief for the copy."),
        campaign: str | None = typer.Option(
            None, "--campaign", help="Campaign name stored with the draft."
        ),
        message: str | None = typer.Option(
            None, "--message", "-m", help="Customer message (chat_answer)."
        ),
        country: str | None = typer.Option(None, "--country", help="Anonymous visitor: country."),
        referrer: str | None = typer.Option(
            None, "--referrer", help="Anonymous visitor: referrer."
        ),
        season: str | None = typer.Option(None, "--season", help="Anonymous visitor: season."),
        no_queue: bool = typer.Option(
            False, "--no-queue", help="Print only; do not queue the draft."
        ),
        json_out: bool = JsonOpt,
    ) -> None:
        """Draft personalised copy for one customer and queue it for review."""

        settings = get_settings()
        request = build_request(
            brand=brand or settings.default_brand,
            kind=kind,
            customer_id=customer,
            anonymous=_anonymous(country, referrer, season),
            brief=brief,
            campaign=campaign,
            n=n,
            conversation=[ChatTurn(role="customer", text=message)] if message else [],
        )
        draft = generate(request, settings=settings, submit=not no_queue)
        if json_out:
            emit_json(draft)
            return
        render_draft(draft)
        if draft.id is not None:
            console.print(f"Queued as draft #{draft.id}; review with `genpersona console`.")

    @app.command("chat")
    @handle_errors
    def chat_cmd(
        brand: str | None = typer.Option(
            None, "--brand", "-b", help="Brand id; default GENPERSONA_DEFAULT_BRAND."
        ),
        customer: str | None = typer.Option(
            None, "--customer", "-c", help="Customer id; omit for an anonymous visitor."
        ),
        message: list[str] = typer.Option(
            None,
            "--message",
            "-m",
            help="Send these messages instead of reading the terminal (repeatable).",
        ),
        json_out: bool = JsonOpt,
    ) -> None:
        """Talk to the brand's assistant as a customer (empty line or Ctrl-D ends)."""

        settings = get_settings()
        brand_id = brand or settings.default_brand
        conversation: list[ChatTurn] = []
        scripted = list(message or [])
        replies = []
        if not scripted and not json_out:
            err_console.print(
                f"[dim]Chatting with {brand_id} as {customer or 'an anonymous visitor'}; empty line ends.[/dim]"
            )
        while True:
            if scripted:
                text = scripted.pop(0)
            elif message:
                break
            else:
                try:
                    text = typer.prompt("you", default="", show_default=False)
                except (EOFError, typer.Abort):
                    break
            if not text.strip():
                break
            reply = chat_reply(brand_id, customer, conversation, text, settings=settings)
            conversation += [
                ChatTurn(role="customer", text=text),
                ChatTurn(role="assistant", text=reply.answer),
            ]
            replies.append(reply.model_dump(mode="json", exclude={"draft"}))
            if not json_out:
                console.print(f"[bold cyan]{brand_id}[/bold cyan]: {reply.answer}", highlight=False)
                extra = f" · remembered: {'; '.join(reply.remembered)}" if reply.remembered else ""
                err_console.print(f"[dim]{reply.rationale} · draft #{reply.draft_id}{extra}[/dim]")
        if json_out:
            emit_json(replies)
