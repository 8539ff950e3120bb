"""CLI: ``genpersona generate``, ``chat`` and ``demo`` (fake backend, hand-built world)."""

from __future__ import annotations

import json

import pytest
from agent_support import World
from typer.testing import CliRunner

from genpersona.agent import scoring
from genpersona.cli.main import app
from genpersona.llm.fake import FakeLLM
from genpersona.review.queue import get_draft

runner = CliRunner()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    scoring.clear_caches()
    w = World(FakeLLM(["Rose teapots for spring", "UK delivery takes 3 to 5 working days."]))
    monkeypatch.setattr(
        "genpersona.agent.pipeline.default_deps", lambda llm=None, settings=None: w.deps()
    )
    monkeypatch.setattr(
        "genpersona.agent.chat.default_deps", lambda llm=None, settings=None: w.deps()
    )
    return w


def test_generate_json_queues_a_ranked_draft(world: World) -> None:
    result = runner.invoke(
        app,
        [
            "generate",
            "--brand",
            "teashop",
            "--customer",
            "c1",
            "-n",
            "2",
            "--brief",
            "spring",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    assert draft["id"] is not None and len(draft["variants"]) == 2
    assert draft["rationale"]["customer_line"].startswith("Because you")


def test_generate_table_output_names_the_next_step(world: World) -> None:
    result = runner.invoke(app, ["generate", "-b", "teashop", "-c", "c1", "-n", "1"])
    assert result.exit_code == 0, result.output
    # more candidates are written than shown: the top one is either fake reply, ranked
    assert "Rose teapots" in result.stdout or "UK delivery" in result.stdout
    assert "genpersona console" in result.stdout


def test_generate_rejects_bad_n_with_a_fix(world: World) -> None:
    result = runner.invoke(app, ["generate", "-b", "teashop", "-c", "c1", "-n", "99"])
    assert result.exit_code == 2
    assert "n" in result.stderr and "fix" in result.stderr


def test_chat_with_scripted_messages_keeps_the_conversation(world: World) -> None:
    result = runner.invoke(
        app,
        [
            "chat",
            "-b",
            "teashop",
            "-c",
            "c1",
            "-m",
            "Hello",
            "-m",
            "How long does delivery take?",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    replies = json.loads(result.stdout)
    assert len(replies) == 2 and all(r["answer"] for r in replies)
    # the small fake model is a base model: the answer is composed from the FAQ passage
    assert "3 to 5 working days" in replies[1]["answer"]
    stored = get_draft(replies[1]["draft_id"])
    assert [t.text for t in stored.rationale.conversation][:1] == ["Hello"]


def test_demo_without_the_data_file_says_where_to_put_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from genpersona.settings import get_settings

    monkeypatch.setenv("GENPERSONA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--customers", "2"])
    assert result.exit_code == 2
    assert "online_retail.parquet" in result.stderr and "GENPERSONA_DATA_DIR" in result.stderr


def test_demo_runs_the_whole_path_on_a_small_file_and_then_serves_the_console(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """`genpersona demo --console`: ingest, draft with the configured (fake) model, queue, console."""
    from genpersona.review.queue import QueueFilter, list_drafts
    from genpersona.settings import get_settings
    from tests._data_fixtures import retail_frame, write_parquet

    write_parquet(retail_frame(), tmp_path / "online_retail.parquet")
    monkeypatch.setenv("GENPERSONA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    started: list[list[str]] = []
    monkeypatch.setattr(
        "genpersona.cli.console.subprocess.call", lambda cmd: started.append(cmd) or 0
    )
    result = runner.invoke(app, ["demo", "--customers", "2", "-n", "2", "--console"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "drafts queued" in result.stdout
    page = list_drafts(QueueFilter(brand=get_settings().default_brand), page_size=50)
    assert page.total >= 2 and {r.kind for r in page.rows} >= {"subject_line"}
    [cmd] = started
    assert "streamlit" in cmd and cmd[cmd.index("--server.port") + 1] == "8501"


def test_demo_table_says_when_the_top_line_is_below_the_sendable_bar(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A negative total means the best line the model wrote failed the copy-quality bar;
    the table says so instead of leaving a marketer to guess. Chat answers have no bar."""
    from genpersona.agent.quality import SENDABLE_THRESHOLD
    from genpersona.cli import demo

    def row(kind: str, quality: float) -> dict:
        scores = {
            "brand_voice": 0.5,
            "relevance": 0.1,
            "specificity": 0.2,
            "length_fit": 1.0,
            "quality": quality,
            "total": quality - 0.5,
        }
        return {
            "customer": "1",
            "kind": kind,
            "top_variant": f"line for {kind} {quality}",
            "because": "",
            "scores": scores,
            "candidates": 4,
            "violations_caught": 0,
            "repaired": 0,
            "fallbacks": 0,
            "seconds": 1.0,
            "reused": False,
        }

    monkeypatch.setattr(demo.console, "width", 400)  # one line per cell, so phrases stay whole
    low, high = SENDABLE_THRESHOLD - 0.1, SENDABLE_THRESHOLD + 0.1
    demo.render([row("subject_line", low)], "fake")
    assert "below the sendable bar" in capsys.readouterr().out
    demo.render([row("subject_line", high), row("chat_answer", low)], "fake")
    out = capsys.readouterr().out
    assert "below the sendable bar" not in out and f"quality {high:.2f}" in out
