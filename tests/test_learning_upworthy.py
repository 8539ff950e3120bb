"""`learn train` on the real Upworthy archive (fake embedder: the pipeline, not MiniLM's quality)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from genpersona.cli.main import app
from genpersona.clickmodel.train import (
    GATE_FROM_WEEK,
    UNRANDOMIZED_WEEKS,
    load_upworthy,
    predict_ctr,
)
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.settings import get_settings


def test_unrandomized_weeks_are_dropped(shared_data: Path) -> None:
    d = load_upworthy(shared_data)
    assert not d.test_week.between(*UNRANDOMIZED_WEEKS).any()
    assert len(d) > 10_000
    assert (d.clicks <= d.impressions).all()


def test_learn_train_pretrains_a_versioned_model_and_predicts(shared_data: Path) -> None:
    res = CliRunner().invoke(app, ["learn", "train", "--data", str(shared_data), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    meta, decision = out["model"], out["decision"]
    assert meta["version"].startswith("cm-") and meta["n_train"] > 10_000
    assert meta["holdouts"] == [f"upworthy-weeks>={GATE_FROM_WEEK}"]
    # the first model has nothing to beat; its held-out accuracy is still measured
    assert decision["promote"] and decision["current"] is None and "first" in decision["reason"]
    assert decision["candidate"]["units"] == 294  # held-out tests with two different headlines
    assert decision["candidate"]["low"] < decision["candidate"]["value"]
    settings = get_settings()
    root = settings.home_dir / "learning" / "clickmodel"
    assert (root / "LATEST").read_text() == meta["version"]
    ctr = predict_ctr(
        ["You won't believe what this dad did", "Report"],
        settings=settings,
        embedder=FakeEmbedder(),
    )
    assert all(0 < p < 0.2 for p in ctr)

    # the same data again: the candidate ranks the held-out tests exactly as well, so the
    # lower end of its interval cannot beat the current model: LATEST stays
    again = CliRunner().invoke(app, ["learn", "train", "--data", str(shared_data), "--json"])
    second = json.loads(again.stdout)["decision"]
    assert not second["promote"] and second["current_version"] == meta["version"]
    assert second["diff_low"] == second["diff_high"] == 0.0
    assert (root / "LATEST").read_text() == meta["version"]
    forced = CliRunner().invoke(app, ["learn", "train", "--data", str(shared_data), "--force"])
    assert forced.exit_code == 0 and "PROMOTED" in forced.output
    stored = [json.loads(line) for line in (root / "promotions.jsonl").read_text().splitlines()]
    assert [d["promote"] for d in stored] == [True, False, True] and stored[2]["forced"]
    assert (root / "LATEST").read_text() == stored[2]["candidate_version"]


def test_learn_train_without_the_archive_says_where_to_point(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["learn", "train", "--data", str(tmp_path)])
    assert res.exit_code == 2
    assert "GENPERSONA_DATA_DIR" in res.output
