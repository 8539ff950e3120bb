"""`genpersona guard` and `genpersona brand ...` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from genpersona.cli.brand import register
from genpersona.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


runner = CliRunner()


def test_guard_exit_codes_and_json(app: typer.Typer) -> None:
    ok = runner.invoke(app, ["guard", "--send-date", "2026-11-22", "Fresh bunting for your garden"])
    assert ok.exit_code == 0, ok.output
    assert "pass" in ok.output
    bad = runner.invoke(app, ["guard", "--send-date", "2026-11-22", "--json", "HUGE SALE!!!"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["brand"] == "giftloft" and data["passed"] is False
    assert {"style.caps", "claim.unregistered", "style.exclamation"} <= {
        v["rule_id"] for v in data["violations"]
    }
    v = data["violations"][0]
    assert {"rule_id", "severity", "message", "span", "suggestion"} <= set(v)


def test_guard_warn_only_passes(app: typer.Typer) -> None:
    res = runner.invoke(app, ["guard", "--json", "Check your e-mail"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["violations"][0]["severity"] == "warn"


def test_guard_other_brand_and_kind(app: typer.Typer) -> None:
    res = runner.invoke(
        app, ["guard", "--brand", "northbank", "--kind", "chat_answer", "You can freeze your card."]
    )
    assert res.exit_code == 1 and "disclaimer.missing" in res.output


def test_guard_bad_input_is_a_clear_error(app: typer.Typer) -> None:
    res = runner.invoke(app, ["guard", "--kind", "tweet", "hi"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["guard", "--brand", "nope", "hi"])
    assert res.exit_code == 5


def test_brand_list_json(app: typer.Typer) -> None:
    res = runner.invoke(app, ["brand", "list", "--json"])
    assert res.exit_code == 0
    ids = {row["id"] for row in json.loads(res.stdout)}
    assert {"giftloft", "northbank", "plainspoken-18f"} <= ids


def test_brand_check_good_and_malformed(app: typer.Typer, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["brand", "check", str(PROJECT_ROOT / "brand_guides" / "giftloft.yaml"), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nversion: '2026.11.1'\nlocale: en-GB\nvoice: [a]\nbaned_terms: [x]\n")
    res = runner.invoke(app, ["brand", "check", str(bad)])
    assert res.exit_code == 2
    assert "baned_terms" in res.output and "banned_terms" in res.output


def test_brand_check_flags_a_do_example_that_breaks_rules(app: typer.Typer, tmp_path: Path) -> None:
    guide = tmp_path / "shop.yaml"
    guide.write_text(
        "name: Shop\nversion: '2026.11.1'\nlocale: en-GB\nvoice: [a]\n"
        "banned_terms: [cheap]\nexamples:\n  subject_line:\n    do: ['Cheap mugs']\n"
    )
    res = runner.invoke(app, ["brand", "check", str(guide)])
    assert res.exit_code == 1
    assert "examples.subject_line.do[0]" in res.output
