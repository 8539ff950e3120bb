"""A text-only click model for the fake embedder, saved as `learn train` would leave it:
the starting point of the promotion-gate and end-to-end learning tests."""

from __future__ import annotations

import numpy as np

from genpersona.clickmodel.features import featurize
from genpersona.clickmodel.model import ClickModel, relative_targets
from genpersona.clickmodel.train import embedding_cache, model_root
from genpersona.embeddings.fake import FakeEmbedder
from genpersona.settings import get_settings


def saved_base_click_model() -> ClickModel:
    settings = get_settings()
    cache = embedding_cache(settings, FakeEmbedder())
    texts = ["surprise gift ideas", "catalogue update", "a gift she will love", "our catalogue"]
    target, w = relative_targets(
        np.array([1000] * 4), np.array([60, 30, 60, 30]), np.array(["a", "a", "b", "b"])
    )
    model = ClickModel.fit(
        featurize(texts, cache),
        target,
        w,
        alpha=1.0,
        base_rate=0.04,
        embedder="fake-384",
        source="fixture",
    )
    model.save(model_root(settings))
    return model
