"""Probe: does a hashed bag-of-words block added to the click model's features help?

    python -m evals.learning.feature_probe

Validation is the last quarter of the *training* weeks (before ``SPLIT_WEEK``), the
same split ``tune_alpha`` uses; the test weeks are never read. Prints, per
(hash buckets, block scale, ridge alpha), pairwise accuracy on significant and on
all validation pairs. Buckets 0 = the shipped features (MiniLM + lexical).
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from evals.learning import clickmodel_eval as ce
from evals.learning.data import SPLIT_WEEK, load
from genpersona.clickmodel.embed_cache import EmbeddingCache, embedder_version
from genpersona.clickmodel.features import featurize
from genpersona.embeddings.factory import get_embedder
from genpersona.settings import get_settings


def main() -> None:
    settings = get_settings()
    embedder = get_embedder(None, settings)
    cache = EmbeddingCache(settings.home_dir / "learning" / "embeddings", embedder)
    d = load()
    train = d[d.test_week < SPLIT_WEEK].reset_index(drop=True)
    x = featurize(train.headline.tolist(), cache)
    fit = (train.test_week < np.quantile(train.test_week, 0.75)).to_numpy()
    pairs = ce.make_pairs(train[~fit].reset_index(drop=True))
    name = embedder_version(embedder)
    for buckets in (0, 512, 2048):
        scales: tuple[float, ...] = (1.0,) if buckets == 0 else (0.1, 0.3, 1.0)
        block = (
            HashingVectorizer(n_features=buckets, binary=True, norm=None, alternate_sign=False)
            .transform(train.headline)
            .toarray()
            if buckets
            else None
        )
        for scale in scales:
            xx = x if block is None else np.hstack([x, scale * block])
            for alpha in (20.0, 50.0, 100.0, 300.0):
                m = ce.fit_click_model(train[fit].reset_index(drop=True), xx[fit], alpha, name)
                sig, allp = ce.accuracy(m.score(xx[~fit]), pairs)
                print(f"buckets {buckets:5d} scale {scale:.1f} alpha {alpha:5.0f} "
                      f"significant {sig:.4f} all {allp:.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
