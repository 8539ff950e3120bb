"""Length batches: one long text must not pad the short ones, and grouping must not change
a single vector or its position."""

from __future__ import annotations

import numpy as np
import pytest

from genpersona.embeddings.batching import (
    LENGTH_FLOOR,
    LENGTH_RATIO,
    encode_by_length,
    length_batches,
)
from genpersona.embeddings.minilm import MiniLMEmbedder

SHORT = [f"A fresh pot for your tea, number {i}" for i in range(9)]
CONTEXT = "bags and storage. toys and children's gifts. kitchen and baking. " * 8


def test_a_long_context_text_gets_a_batch_of_its_own() -> None:
    texts = [*SHORT[:4], CONTEXT, *SHORT[4:]]
    batches = length_batches(texts, batch_size=64)
    assert [texts.index(CONTEXT)] in batches
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))


def test_every_batch_is_bounded_in_size_and_in_length_spread() -> None:
    texts = ["x" * n for n in (1, 3, 20, 47, 49, 90, 97, 98, 200, 390, 401, 1000)] * 3
    for batch in length_batches(texts, batch_size=4):
        lengths = [len(texts[i]) for i in batch]
        assert len(batch) <= 4
        assert max(lengths) <= max(LENGTH_FLOOR, LENGTH_RATIO * min(lengths))


def test_rows_come_back_in_the_callers_order() -> None:
    texts = [CONTEXT, "a", "bb", CONTEXT[:100], "ccc"]
    seen: list[list[str]] = []

    def encode(batch: list[str]) -> np.ndarray:
        seen.append(batch)
        return np.array([[float(len(t))] for t in batch])

    out = encode_by_length(texts, batch_size=2, encode=encode)
    assert out[:, 0].tolist() == [float(len(t)) for t in texts]
    assert len(seen) >= 3  # the short ones, the 100-character one and the long one apart


@pytest.mark.real_model
@pytest.mark.slow
def test_minilm_vectors_are_the_same_grouped_or_one_by_one() -> None:
    e = MiniLMEmbedder()
    texts = [*SHORT[:3], CONTEXT, *SHORT[3:6], CONTEXT[:150]]
    together = e.embed(texts)
    alone = np.vstack([e.embed([t]) for t in texts])
    assert together.shape == (len(texts), e.dim)
    assert np.abs(together - alone).max() < 1e-5
