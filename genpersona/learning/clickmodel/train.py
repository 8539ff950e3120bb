"""Training entry points: pretrain on the Upworthy archive, update on a brand's outcomes.

Models are stored under ``<home>/learning/clickmodel/<version>/`` with a ``LATEST``
pointer; embeddings are cached under ``<home>/learning/embeddings/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from genpersona.embeddings.base import Embedder
from genpersona.errors import LearningInputError
from genpersona.learning.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.learning.clickmodel.features import featurize
from genpersona.learning.clickmodel.model import (
    ClickModel,
    ClickScorer,
    loaded_model,
    relative_targets,
    within_group,
)
from genpersona.settings import Settings

UPWORTHY_FILE = "upworthy_headline_tests.parquet"
#: weeks (YYYYWW) the archive's maintainers say may not be randomized: 2013-06-25..2014-01-10
UNRANDOMIZED_WEEKS = (201326, 201402)
#: chosen by evals/learning on the last quarter of the training weeks
DEFAULT_ALPHA = 30.0


class OutcomeExample(BaseModel):
    """One piece of copy's exposure totals; ``group`` = the choice it competed in."""

    text: str = Field(min_length=1)
    impressions: int = Field(gt=0)
    clicks: int = Field(ge=0)
    group: str


def model_root(settings: Settings) -> Path:
    return settings.home_dir / "learning" / "clickmodel"


_CACHES: dict[tuple[str, int], EmbeddingCache] = {}


def embedding_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache:
    """One cache per (home, embedder) per process: its file is read once."""
    root = settings.home_dir / "learning" / "embeddings"
    key = (str(root), id(embedder))
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(root, embedder)
    return _CACHES[key]


def load_upworthy(data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / UPWORTHY_FILE
    if not path.exists():
        raise LearningInputError(
            f"the Upworthy archive {path} is absent",
            fix="point GENPERSONA_DATA_DIR (or --data) at the folder holding "
            f"{UPWORTHY_FILE} (see shared/data/README.md)",
            path=str(path),
        )
    d = pd.read_parquet(path)
    d = d[~d.test_week.between(*UNRANDOMIZED_WEEKS)]
    d = d[(d.impressions > 0) & d.headline.notna()]
    d = d.assign(headline=d.headline.astype(str).str.strip())
    return d[d.headline.str.len() > 0].reset_index(drop=True)


def pretrain(
    settings: Settings,
    embedder: Embedder,
    *,
    data_dir: Path | None = None,
    alpha: float = DEFAULT_ALPHA,
    before_week: int | None = None,
) -> ClickModel:
    d = load_upworthy(data_dir or settings.data_dir)
    if before_week is not None:
        d = d[d.test_week < before_week].reset_index(drop=True)
    cache = embedding_cache(settings, embedder)
    x = featurize(d.headline.tolist(), cache)
    target, weight = relative_targets(d.impressions, d.clicks, d.clickability_test_id)
    x = within_group(x, d.clickability_test_id.to_numpy(), weight)
    model = ClickModel.fit(
        x,
        target,
        weight,
        alpha=alpha,
        base_rate=float(d.clicks.sum() / d.impressions.sum()),
        embedder=embedder_version(embedder),
        source=f"upworthy:{len(d)}",
    )
    model.save(model_root(settings))
    return model


def update_on_outcomes(
    settings: Settings,
    embedder: Embedder,
    examples: list[OutcomeExample],
    *,
    source: str,
    weight: float = 1.0,
) -> ClickModel:
    """A new version: the latest model plus a brand's own outcomes (exact ridge update)."""
    if not examples:
        raise LearningInputError(
            "no outcomes to update the click model on",
            fix="deliver some copy and collect clicks first, or check the file's rows",
        )
    bad = [i for i, e in enumerate(examples) if e.clicks > e.impressions]
    if bad:
        raise LearningInputError(
            f"rows {bad[:5]} have more clicks than impressions",
            fix="count unique clicking exposures, at most one per impression",
        )
    base = loaded_model(model_root(settings))
    cache = embedding_cache(settings, embedder)
    x = featurize([e.text for e in examples], cache)
    groups = np.array([e.group for e in examples])
    target, w = relative_targets(
        np.array([e.impressions for e in examples]), np.array([e.clicks for e in examples]), groups
    )
    x = within_group(x, groups, w)
    model = base.update(x, target, w * weight, source=source)
    model.save(model_root(settings))
    return model


def predict_ctr(
    texts: list[str],
    *,
    settings: Settings,
    embedder: Embedder,
    recipe_ids: list[str | None] | None = None,
) -> list[float]:
    """Predicted click rates for ranking candidates (the latest model, loaded once)."""
    scorer = ClickScorer(loaded_model(model_root(settings)), embedding_cache(settings, embedder))
    return scorer.predict_ctr(texts, recipe_ids)
