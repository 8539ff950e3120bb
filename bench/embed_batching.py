"""MiniLM on one draft's scoring texts: one padded batch (sentence-transformers' own batching,
the library's behaviour before length batches) against ``MiniLMEmbedder.embed``'s length
batches, in the same process, median of 7.

The texts are those a subject-line draft scores, taken from a demo draft: the customer's
context summary (about 110 tokens) and 17 short candidate lines.

    python bench/embed_batching.py

Time it alone: ``flock /tmp/bench.lock python bench/embed_batching.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from genpersona.embeddings.minilm import MiniLMEmbedder  # noqa: E402

CONTEXT = (
    "bags and storage. toys and children's gifts. kitchen and baking. Has also bought toys "
    "and children's gifts (e.g. jumbo bag toys and jumbo bag spaceboy design). Favourite "
    "theme: bags and storage, about 43% of their spend (e.g. jumbo bag owls and jumbo bag red "
    "retrospot). Reorders the jumbo bag owls regularly and buys lunch bags with them, mostly "
    "in autumn before the Christmas season starts; also likes party bunting and paper chains."
)
LINES = [
    "Fresh bunting for your next garden party",
    "New party supplies for the season",
    "A present for a friend, for the season.",
    "Christmas gifts for the winter.",
    "A party bag for a small girl",
    "Garden as a gift for the next summer",
    "The kitchen has a new year, now for the baking",
    "A new year's gift, a little bit of love",
    "Bags for your next long weekend shopping trip",
    "New bags and storage that have just landed",
    "A fresh pot for your afternoon tea",
    "Lunch bags for the school run",
    "Jumbo bags for the big shop",
    "Your owls are back in stock",
    "Paper chains for a party at home",
    "A little candle, in the kitchen, in the garden.",
    "Tea towels for the baking season",
]


def median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    e = MiniLMEmbedder()
    texts = [*LINES, CONTEXT]
    e.embed(texts)  # warm-up

    def one_batch() -> np.ndarray:
        return e._model.encode(
            texts,
            batch_size=64,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    print(f"load {os.getloadavg()[0]:.2f}; {len(texts)} texts, longest {len(CONTEXT)} chars")
    base = median_ms(one_batch)
    grouped = median_ms(lambda: e.embed(texts))
    diff = float(np.abs(one_batch() - e.embed(texts)).max())
    print(f"one padded batch (baseline): {base:.0f} ms")
    print(f"length batches (embed):      {grouped:.0f} ms  ({base / grouped:.1f}x faster)")
    print(f"largest vector difference: {diff:.1e}; load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
