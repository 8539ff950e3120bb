"""``genpersona demo``: the whole path on real data with the local model, in one command.

Ingests the UCI Online Retail data as the brand ``giftloft`` (once), drafts
subject lines for a sample of real customers plus one hero and one chat answer,
queues everything for review and prints what happened per draft.
"""

from __future__ import annotations

import secrets
import time

import typer
from rich.table import Table

from genpersona.accounts.console_accounts import any_accounts, create_account
from genpersona.agent.deps import default_deps
from genpersona.agent.pipeline import generate
from genpersona.agent.quality import SENDABLE_THRESHOLD
from genpersona.agent.sampling import customer_count, sample_customers
from genpersona.agent.scoring import QUALITY_KINDS
from genpersona.cli.common import JsonOpt, console, emit_json, err_console, handle_errors
from genpersona.cli.console import console_cmd
from genpersona.data.ingest_online_retail import ingest_online_retail
from genpersona.errors import InputError
from genpersona.recs.store import fit_recommender
from genpersona.settings import Settings, get_settings
from genpersona.types.content import ChatTurn, ContentRequest, Draft

DEMO_BRIEF = "our new season gift picks"
DEMO_QUESTION = "Hello! How long does delivery take, and can I return something if it's not right?"


def ensure_demo_data(brand: str, settings: Settings, *, quiet: bool = False) -> bool:
    """Ingest the demo parquet into ``brand`` if it has no customers yet; True if it ran."""

    if customer_count(brand, settings) > 0:
        return False
    path = settings.data_dir / "online_retail.parquet"
    if not path.exists():
        raise InputError(
            f"the demo data file {path} is absent",
            fix="put online_retail.parquet (UCI Online Retail) in ../shared/data/ or set "
            "GENPERSONA_DATA_DIR to the folder that holds it",
            path=str(path),
        )

    if not quiet:
        err_console.print(f"Ingesting {path.name} as brand {brand} (first run only)…")
    ingest_online_retail(
        path,
        brand,
        brand_name="GiftLoft",
        fit_recs=fit_recommender,
        show_progress=not quiet,
        settings=settings,
    )
    return True


def demo_requests(brand: str, customers: list[str], n: int) -> list[ContentRequest]:
    requests = [
        ContentRequest(
            brand=brand, kind="subject_line", customer_id=c, brief=DEMO_BRIEF, campaign="demo", n=n
        )  # fmt: skip
        for c in customers
    ]
    if customers:
        requests.append(
            ContentRequest(
                brand=brand,
                kind="hero",
                customer_id=customers[0],
                brief=DEMO_BRIEF,
                campaign="demo",
                n=2,
            )  # fmt: skip
        )
        requests.append(
            ContentRequest(
                brand=brand,
                kind="chat_answer",
                customer_id=customers[-1],
                campaign="demo",
                n=1,
                conversation=[ChatTurn(role="customer", text=DEMO_QUESTION)],
            )  # fmt: skip
        )
    return requests


def summary_row(draft: Draft, seconds: float, *, reused: bool = False) -> dict:
    top, t = draft.top, draft.trace
    return {
        "reused": reused,
        "draft_id": draft.id,
        "customer": draft.customer_id,
        "kind": draft.kind,
        "top_variant": top.content.main_text(),
        "because": draft.rationale.customer_line,
        "scores": top.scores.model_dump(),
        "candidates": t.candidates,
        "first_try_passed": t.first_try_passed,
        "violations_caught": t.violations_caught,
        "repaired": t.repaired,
        "reasked": t.reasked,
        "fallbacks": t.fallbacks,
        "seconds": round(seconds, 2),
        "model_ms": t.model_ms,
        "prompt_version": draft.rationale.prompt_version,
    }


KIND_SHORT = {"subject_line": "subject", "hero": "hero", "chat_answer": "chat"}


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _below_bar(row: dict) -> bool:
    """Only the kinds the copy-quality scorer ranks have a bar (chat answers are checked
    for support instead)."""
    return row["kind"] in QUALITY_KINDS and row["scores"]["quality"] < SENDABLE_THRESHOLD


def render(rows: list[dict], model: str) -> None:
    """One row per draft; the copy gets the width and the per-score detail sits under it.

    Rich falls back to 80 columns when output is not a terminal, so a column per
    score would squeeze the generated text — the point of the demo — to nothing.
    """
    table = Table(title=f"genpersona demo · {model}", expand=True, show_lines=True)
    table.add_column("customer", no_wrap=True, max_width=8)
    table.add_column("kind", no_wrap=True, max_width=7)
    table.add_column("top variant · scores", ratio=1, overflow="fold")
    table.add_column("total", no_wrap=True, justify="right", max_width=5)
    table.add_column("caught /fixed", justify="right", max_width=6)
    table.add_column("time", no_wrap=True, justify="right", max_width=6)
    for r in rows:
        s = r["scores"]
        # a top line under the scorer's bar is the best the model wrote, not one to send
        # unread: say so, or a negative total reads like a bug
        bar = " (below the sendable bar: edit before approving)" if _below_bar(r) else ""
        detail = (
            f"quality {s['quality']:.2f}{bar} · "
            f"voice {s['brand_voice']:.2f} · relevance {s['relevance']:.2f} · "
            f"specificity {s['specificity']:.2f} · length {s['length_fit']:.2f} · "
            f"fallbacks {r['fallbacks']}/{r['candidates']}"
        )
        because = f"\n{r['because']}" if r["because"] else ""
        table.add_row(
            str(r["customer"]),
            KIND_SHORT[r["kind"]],
            f"{_short(r['top_variant'], 160)}\n[dim]{detail}{because}[/dim]",
            f"{s['total']:.2f}",
            f"{r['violations_caught']}/{r['repaired']}",
            "reused" if r["reused"] else f"{r['seconds']:.1f}s",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @handle_errors
    def demo_cmd(
        customers: int = typer.Option(
            5, "--customers", help="How many real customers to draft for."
        ),
        n: int = typer.Option(3, "-n", help="Subject-line variants per customer."),
        json_out: bool = JsonOpt,
        open_console: bool = typer.Option(
            False,
            "--console/--no-console",
            help="At the end, start the review console on http://127.0.0.1:8501 (Ctrl-C stops it).",
        ),
        port: int = typer.Option(8501, "--port", help="Console port, with --console."),
    ) -> None:
        """Ingest the demo data (once), draft for real customers with the local model, queue."""

        settings = get_settings()
        brand = settings.default_brand
        ensure_demo_data(brand, settings, quiet=json_out)
        ids = sample_customers(brand, customers, settings)
        if not ids:
            raise InputError(
                f"brand {brand} has no consenting customers with a purchase history",
                fix="re-run the ingest (`genpersona ingest ...`) or pick another brand",
            )
        deps = default_deps(settings=settings)
        rows = []
        requests = demo_requests(brand, ids, n)
        for i, request in enumerate(requests, 1):
            if not json_out:
                err_console.print(
                    f"[dim]{i}/{len(requests)} {request.kind} for {request.customer_id}…[/dim]"
                )
            started = time.perf_counter()
            draft = generate(request, settings=settings, deps=deps)
            # a request already pending in the queue comes back without a model call
            reused = draft.trace.stages[-1].stage != "queue" if draft.trace.stages else True
            rows.append(summary_row(draft, time.perf_counter() - started, reused=reused))
        if json_out:
            emit_json(
                {"brand": brand, "model": f"{deps.llm.backend}:{deps.llm.model}", "drafts": rows}
            )
            return
        render(rows, f"{deps.llm.backend}:{deps.llm.model}")
        if not open_console:
            console.print(
                f"{len(rows)} drafts queued. Next: run `genpersona console` to review them."
            )
            return
        console.print(f"{len(rows)} drafts queued; starting the review console (Ctrl-C stops it).")

        if not any_accounts(settings=settings):  # the console needs an account to sign in
            password = secrets.token_urlsafe(12)
            create_account("demo", password, "admin", settings=settings)
            console.print(
                f"sign in as [bold]demo[/bold] with password [bold]{password}[/bold] "
                "(an admin account made for this demo; see `genpersona accounts --help`)"
            )

        console_cmd(port=port, address="127.0.0.1", headless=True, seed=0)
