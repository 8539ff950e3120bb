"""Which interest a line should lead with: how often a phrase about each choice of the
customer's themes tells the customer apart from 9 random others (the copy eval's
specificity, on the phrase alone). No model: it bounds what a line about that lead can
reach, and chose the rarest-first leads of prompts 2026.12.4 (session 10).

    python -m evals.copy.lead_phrases --customers 100 --seed 7
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

import numpy as np

from evals.agent.run import specificity_hit
from genpersona.agent.deps import default_deps
from genpersona.agent.lookups import other_interest_texts, theme_shares
from genpersona.agent.sampling import sample_customers
from genpersona.agent.variables import head_word
from genpersona.cli.demo import ensure_demo_data
from genpersona.settings import get_settings


def choices(shares: dict[str, float]) -> dict[str, Callable[[list[str]], str]]:
    """Lead phrases from a customer's favourite themes (favourite order); rarity and head
    words as the prompts take them (``lookups.theme_shares``, ``variables.head_word``)."""

    def rare(t: list[str]) -> list[str]:
        return sorted(t, key=lambda x: shares.get(x, 2.0))

    def pair(t: list[str]) -> str:
        return f"{head_word(t[0])} and {head_word(t[1])}" if len(t) > 1 else t[0]

    return {
        "first favourite": lambda t: t[0],
        "second favourite": lambda t: t[1] if len(t) > 1 else t[0],
        "rarest": lambda t: rare(t)[0],
        "first two, head words": pair,
        "two rarest, head words": lambda t: pair(rare(t)),
        "sentence, first favourite": lambda t: f"New {t[0]} for your home this winter",
        "sentence, rarest": lambda t: f"New {rare(t)[0]} for your home this winter",
        "sentence, first two": lambda t: f"New {pair(t)} for your home this winter",
        "sentence, two rarest": lambda t: f"New {pair(rare(t))} for your home this winter",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = get_settings()
    brand = settings.default_brand
    ensure_demo_data(brand, settings, quiet=True)
    interests = dict(other_interest_texts(brand, settings, limit=100_000))
    ids = [
        c
        for c in sample_customers(brand, args.customers, settings, seed=args.seed)
        if c in interests
    ]
    emb = default_deps(settings=settings).embedder
    shares = theme_shares(brand, settings)
    print(f"{len(interests)} customers with themes; favoured by: "
          + ", ".join(f"{t} {100 * v:.0f}%" for t, v in sorted(shares.items(), key=lambda x: -x[1])))  # fmt: skip
    pool = sorted(interests)
    ivec = dict(zip(pool, emb.embed([interests[c] for c in pool]), strict=True))
    for name, phrase in choices(shares).items():
        rng = random.Random(args.seed)
        texts = [phrase(interests[c].split(", ")) for c in ids]
        hits = 0
        for c, v in zip(ids, emb.embed(texts), strict=True):
            others = rng.sample([o for o in pool if o != c], 9)
            hits += specificity_hit(v, ivec[c], np.stack([ivec[o] for o in others]))
        print(f"{name:28s} {100 * hits / len(ids):3.0f}%  e.g. {texts[0]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
