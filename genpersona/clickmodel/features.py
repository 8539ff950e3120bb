"""Text features of a piece of copy: MiniLM embedding plus a few lexical cues.

The lexical cues are the ones headline studies keep finding (length, numbers,
questions, direct address, curiosity-gap words); they are cheap, and they carry
signal the sentence embedding normalises away (length above all).
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, Field

from genpersona.clickmodel.embed_cache import EmbeddingCache

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


def features_from(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """``(n, dim + lexical)`` float64 matrix from the texts' embeddings (already made)."""
    return np.hstack([np.asarray(vectors, dtype=np.float64), lexical(list(texts))])


def featurize(texts: list[str], cache: EmbeddingCache) -> np.ndarray:
    """``(n, dim + lexical)`` float64 matrix; embeddings come from the on-disk cache."""
    return features_from(cache.embed(list(texts)), list(texts))


# --- brand-only terms: recipes and customer features -------------------------------------
class CustomerFeatures(BaseModel):
    """What the click model knows of a recipient: RFM tier, lifecycle stage, order count.

    The Upworthy archive has no customers, so every term built from these is fitted
    on the brand's own exposures only (``ClickModel.update`` with ``extras``)."""

    rfm_tier: str | None = None
    lifecycle: str | None = None
    orders: int = Field(default=0, ge=0)


def extra_terms(recipe_id: str | None, customer: CustomerFeatures | None) -> dict[str, float]:
    """The named brand-only columns active for one exposure (absent names are 0).

    ``recipe=R`` is the recipe's own offset; ``recipe=R|tier=T`` and ``recipe=R|life=L``
    let a recipe work better for some customers than for others (an angle that wins back
    lapsed customers but bores champions); ``tier=T``, ``life=L`` and ``log_orders`` are
    the customer's main effects (they shift the predicted rate, not the order of one
    customer's candidates)."""
    out: dict[str, float] = {}
    if recipe_id:
        out[f"recipe={recipe_id}"] = 1.0
    if customer is None:
        return out
    for key, value in (("tier", customer.rfm_tier), ("life", customer.lifecycle)):
        if value:
            out[f"{key}={value}"] = 1.0
            if recipe_id:
                out[f"recipe={recipe_id}|{key}={value}"] = 1.0
    if customer.orders:
        out["log_orders"] = float(np.log1p(customer.orders)) / 2.0
    return out


def extra_matrix(
    names: list[str],
    recipe_ids: list[str | None],
    customers: list[CustomerFeatures | None] | None = None,
) -> np.ndarray:
    """``(n, len(names))``: each row's ``extra_terms`` over a model's known names."""
    index = {name: j for j, name in enumerate(names)}
    out = np.zeros((len(recipe_ids), len(names)))
    people = customers if customers is not None else [None] * len(recipe_ids)
    for i, (recipe, person) in enumerate(zip(recipe_ids, people, strict=True)):
        for name, value in extra_terms(recipe, person).items():
            j = index.get(name)
            if j is not None:
                out[i, j] = value
    return out
