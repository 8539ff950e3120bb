"""``genpersona doctor``: every component checked, red rows and exit 1 when one is broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genpersona.cli.doctor import KEY_PACKAGES, run_checks
from genpersona.cli.main import app
from genpersona.settings import get_settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "README.md").write_text("shared data\n", encoding="utf-8")
    monkeypatch.setenv("GENPERSONA_DATA_DIR", str(folder))
    get_settings.cache_clear()
    return folder


def _by_name(payload: dict) -> dict[str, dict]:
    return {c["name"]: c for c in payload["checks"]}


def test_doctor_json_all_healthy_with_fakes(data_dir: Path, isolated_home: Path) -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    checks = _by_name(payload)
    assert payload["ok"] is True
    expected = {"python", "llm", "embedder", "database", "vector store", "shared data"}
    expected |= {f"package {dist}" for dist, _ in KEY_PACKAGES}
    assert set(checks) == expected
    assert all(c["ok"] for c in checks.values())
    assert checks["llm"]["detail"].startswith("fake -> fake:")
    assert checks["embedder"]["detail"].startswith("fake: 384-d")
    assert checks["database"]["data"]["revision"] == checks["database"]["data"]["head"]
    assert str(isolated_home) in checks["database"]["detail"]
    assert str(isolated_home / "chroma") in checks["vector store"]["detail"]
    assert checks["package xllamacpp"]["version"]
    assert result.stderr == ""


def test_doctor_table_shows_every_check(data_dir: Path) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("python", "llm", "embedder", "database", "vector store", "shared data"):
        assert name in result.stdout


def test_missing_data_folder_fails_with_a_one_line_reason(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GENPERSONA_DATA_DIR", str(tmp_path / "absent"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    checks = _by_name(json.loads(result.stdout))
    assert checks["shared data"]["ok"] is False
    assert "GENPERSONA_DATA_DIR" in checks["shared data"]["fix"]
    assert checks["llm"]["ok"] is True  # one red row does not hide the others
    assert result.stderr.strip().count("\n") == 0
    assert "1 check(s) failed: shared data" in result.stderr


def test_unreachable_database_is_a_red_row_not_a_crash(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("GENPERSONA_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    report = run_checks(get_settings(), models=False)
    checks = {c.name: c for c in report.checks}
    assert report.ok is False
    assert checks["database"].ok is False
    assert "cannot connect" in checks["database"].detail
    assert checks["database"].fix and "GENPERSONA_DATABASE_URL" in checks["database"].fix
    assert checks["vector store"].ok is True


def test_broken_llm_backend_is_a_red_row(data_dir: Path, monkeypatch) -> None:
    # unit tests forbid real models, so asking for the local one fails the llm check only
    monkeypatch.setenv("GENPERSONA_LLM", "local")
    get_settings.cache_clear()
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    checks = _by_name(json.loads(result.stdout))
    assert checks["llm"]["ok"] is False and checks["llm"]["fix"]
    assert checks["embedder"]["ok"] is True
    assert "llm" in result.stderr


def test_skip_models_leaves_out_llm_and_embedder(data_dir: Path) -> None:
    result = runner.invoke(app, ["doctor", "--json", "--skip-models"])
    assert result.exit_code == 0, result.output
    names = set(_by_name(json.loads(result.stdout)))
    assert "llm" not in names and "embedder" not in names and "database" in names


def test_bad_settings_exit_2(monkeypatch) -> None:
    monkeypatch.setenv("GENPERSONA_LLM", "nonsense")
    get_settings.cache_clear()
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 2
    assert "unknown LLM provider" in result.stderr


@pytest.mark.real_model
@pytest.mark.slow
def test_doctor_with_the_real_models(data_dir: Path) -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    checks = _by_name(json.loads(result.stdout))
    assert checks["llm"]["ok"] and checks["llm"]["detail"].startswith("local -> local:gemma-3")
    assert checks["llm"]["version"].startswith("xllamacpp ")
    assert checks["llm"]["data"]["sample"]
    assert checks["embedder"]["ok"] and checks["embedder"]["detail"].startswith("minilm: 384-d")
