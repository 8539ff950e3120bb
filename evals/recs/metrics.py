"""Ranking metrics with binary relevance, one customer at a time."""

from __future__ import annotations

import math
from collections.abc import Sequence


def hit_rate(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """1 if any of the top-k is relevant (the customer did buy it later), else 0."""
    return 1.0 if any(code in relevant for code in recommended[:k]) else 0.0


def ndcg(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance NDCG@k: rewards hits near the top; the ideal puts
    min(|relevant|, k) hits first."""
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(rank + 2) for rank, code in enumerate(recommended[:k]) if code in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal
