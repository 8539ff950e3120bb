"""Text features of a piece of copy: MiniLM embedding plus a few lexical cues.

The lexical cues are the ones headline studies keep finding (length, numbers,
questions, direct address, curiosity-gap words); they are cheap, and they carry
signal the sentence embedding normalises away (length above all).
"""

from __future__ import annotations

import re

import numpy as np

from genpersona.learning.clickmodel.embed_cache import EmbeddingCache

_WORD = re.compile(r"[A-Za-z0-9']+")
_CUES = {
    "you": re.compile(r"\byou(r|'re|'ll)?\b", re.I),
    "this": re.compile(r"\bthis\b|\bthese\b", re.I),
    "how_why_what": re.compile(r"\b(how|why|what|who|when)\b", re.I),
    "number": re.compile(r"\d"),
    "question": re.compile(r"\?"),
    "exclaim": re.compile(r"!"),
    "quote": re.compile(r"[\"“”']"),
    "colon_dash": re.compile(r"[:—–-]"),
    "superlative": re.compile(r"\b(best|worst|most|least|ever|never|only)\b", re.I),
    "first_person": re.compile(r"\b(i|me|my|we|our)\b", re.I),
}
LEXICAL_NAMES = ["chars_100", "words_20", "caps_share", *_CUES]


def lexical(texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        words = _WORD.findall(text)
        caps = sum(1 for w in words if w[:1].isupper())
        rows.append(
            [
                len(text) / 100.0,
                len(words) / 20.0,
                caps / max(len(words), 1),
                *[1.0 if rx.search(text) else 0.0 for rx in _CUES.values()],
            ]
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(LEXICAL_NAMES))


def featurize(texts: list[str], cache: EmbeddingCache) -> np.ndarray:
    """``(n, dim + lexical)`` float64 matrix; embeddings come from the on-disk cache."""
    emb = cache.embed(list(texts)).astype(np.float64)
    return np.hstack([emb, lexical(list(texts))])
