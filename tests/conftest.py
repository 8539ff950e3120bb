"""Test isolation: every test gets its own GENPERSONA_HOME and fake backends.

Real model calls are impossible unless a test is marked ``real_model``; the
marker lifts the ban for that test only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from genpersona.db.engine import dispose_engines
from genpersona.embeddings.factory import clear_embedder_cache
from genpersona.settings import FORBID_ENV, get_settings

#: ``../shared/data`` next to the checkout; GENPERSONA_TEST_SHARED_DATA points elsewhere (a git
#: worktree's parent has no ``shared`` folder)
SHARED_DATA = Path(
    os.environ.get("GENPERSONA_TEST_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, request
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("gphome")
    monkeypatch.setenv("GENPERSONA_HOME", str(home))
    monkeypatch.delenv("GENPERSONA_CONFIG", raising=False)
    monkeypatch.delenv("GENPERSONA_DATABASE_URL", raising=False)
    monkeypatch.delenv("GENPERSONA_CHROMA_URL", raising=False)
    if request.node.get_closest_marker("real_model"):
        monkeypatch.delenv(FORBID_ENV, raising=False)
        monkeypatch.setenv("GENPERSONA_LLM", "local")
        monkeypatch.setenv("GENPERSONA_EMBEDDER", "minilm")
    else:
        monkeypatch.setenv(FORBID_ENV, "1")
        monkeypatch.setenv("GENPERSONA_LLM", "fake")
        monkeypatch.setenv("GENPERSONA_EMBEDDER", "fake")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    dispose_engines()
    clear_embedder_cache()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (see shared/data/README.md)")
    return SHARED_DATA
