"""`learn train` on the real Upworthy archive (fake embedder: the pipeline, not MiniLM's quality)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from genpersona.cli.main import app
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.learning.clickmodel.train import UNRANDOMIZED_WEEKS, load_upworthy, predict_ctr
from genpersona.settings import get_settings


def test_unrandomized_weeks_are_dropped(shared_data: Path) -> None:
    d = load_upworthy(shared_data)
    assert not d.test_week.between(*UNRANDOMIZED_WEEKS).any()
    assert len(d) > 10_000
    assert (d.clicks <= d.impressions).all()


def test_learn_train_pretrains_a_versioned_model_and_predicts(shared_data: Path) -> None:
    res = CliRunner().invoke(app, ["learn", "train", "--data", str(shared_data), "--json"])
    assert res.exit_code == 0, res.output
    meta = json.loads(res.stdout)
    assert meta["version"].startswith("cm-") and meta["n_train"] > 10_000
    settings = get_settings()
    assert (settings.home_dir / "learning" / "clickmodel" / "LATEST").read_text() == meta["version"]
    ctr = predict_ctr(
        ["You won't believe what this dad did", "Report"],
        settings=settings,
        embedder=FakeEmbedder(),
    )
    assert all(0 < p < 0.2 for p in ctr)


def test_learn_train_without_the_archive_says_where_to_point(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["learn", "train", "--data", str(tmp_path)])
    assert res.exit_code == 2
    assert "GENPERSONA_DATA_DIR" in res.output
