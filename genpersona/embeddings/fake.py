"""A deterministic embedder for unit tests: hashed bag of words and bigrams.

Texts that share words get closer vectors, so retrieval and scoring tests can
assert meaningful orderings without loading a real model.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from genpersona.embeddings.base import Embedder, normalize

_TOKEN = re.compile(r"[a-z0-9]+")


def _bucket(token: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    idx = int.from_bytes(digest[:4], "little") % dim
    sign = 1.0 if digest[4] & 1 else -1.0
    return idx, sign


class FakeEmbedder(Embedder):
    name = "fake"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())
            stems = [t[:-1] if t.endswith("s") and len(t) > 3 else t for t in tokens]
            for tok in stems:
                idx, sign = _bucket(tok, self.dim)
                out[row, idx] += sign
            for a, b in zip(stems, stems[1:], strict=False):
                idx, sign = _bucket(f"{a}_{b}", self.dim)
                out[row, idx] += 0.5 * sign
            if not stems:
                idx, _ = _bucket("<empty>", self.dim)
                out[row, idx] = 1.0
        return normalize(out)
