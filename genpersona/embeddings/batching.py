"""Batches of texts of similar length, so one long text does not pad a whole batch.

A transformer batch is padded to its longest text. Scoring a draft embeds the customer's
context summary (about 110 tokens) with the candidate lines (about 15): in one batch the
lines cost as much as the summary, five times the work; grouped, the summary pays for
itself alone. Measured with real MiniLM on a draft's texts: 506 ms in one batch, 107 ms
grouped (``bench/embed_batching.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# a text opens a new batch once it is this many times longer (in characters, a proxy for
# tokens that needs no tokenizer) than the shortest text of the current one; the floor
# keeps short lines, whose cost is mostly the fixed per-batch work, together
LENGTH_RATIO = 2.0
LENGTH_FLOOR = 48


def length_batches(texts: list[str], batch_size: int) -> list[list[int]]:
    """Indices of ``texts`` in batches of at most ``batch_size``, shortest first, each
    batch's longest text at most ``LENGTH_RATIO`` times its shortest (or under the floor)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches: list[list[int]] = []
    current: list[int] = []
    shortest = 0
    for i in order:
        n = len(texts[i])
        too_long = n > max(LENGTH_FLOOR, LENGTH_RATIO * shortest)
        if current and (len(current) >= batch_size or too_long):
            batches.append(current)
            current = []
        if not current:
            shortest = n
        current.append(i)
    if current:
        batches.append(current)
    return batches


def encode_by_length(
    texts: list[str], batch_size: int, encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """``encode`` run on each length batch, the rows put back in the order of ``texts``."""
    batches = length_batches(texts, batch_size)
    parts = [encode([texts[i] for i in batch]) for batch in batches]
    vectors = np.concatenate(parts)
    result = np.empty_like(vectors)
    result[[i for batch in batches for i in batch]] = vectors
    return result
