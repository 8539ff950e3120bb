"""Product themes derived from descriptions: a keyword taxonomy, then embeddings.

The UCI catalog has no categories, yet copy needs them ("candles and lanterns",
"Christmas"). Step 1 is an ordered keyword taxonomy: transparent, reproducible
and easy to correct. Step 2 gives the items no keyword matched the theme whose
centroid (mean vector of its keyword-matched items) is nearest, if it is near
enough; the rest stay "gifts and homeware". Both steps are deterministic for a
given embedder, so re-running an ingest yields the same themes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

OTHER = "gifts-and-homeware"


@dataclass(frozen=True)
class ThemeRule:
    slug: str
    label: str
    keywords: tuple[str, ...]


#: priority order: the first matching rule is an item's primary theme; style
#: themes (vintage) and broad ones (home decor) come last so occasions win.
TAXONOMY: tuple[ThemeRule, ...] = (
    ThemeRule(
        "christmas",
        "Christmas",
        (
            "christmas",
            "xmas",
            "advent",
            "santa",
            "reindeer",
            "snowflake",
            "snowman",
            "nativity",
            "bauble",
            "noel",
            "festive",
            "mistletoe",
            "stocking",
            "angel",
            "tree decoration",
        ),
    ),
    ThemeRule("easter", "Easter and spring", ("easter", "chick", "bunny", "spring", "egg hunt")),
    ThemeRule(
        "party-supplies",
        "party supplies",
        (
            "party",
            "birthday",
            "bunting",
            "balloon",
            "napkin",
            "cake case",
            "paper cup",
            "paper plate",
            "straw",
            "confetti",
            "banner",
            "celebration",
            "gift bag",
            "party bag",
        ),
    ),
    ThemeRule(
        "candles-and-lanterns",
        "candles and lanterns",
        (
            "candle",
            "t-light",
            "t light",
            "tlight",
            "tealight",
            "tea light",
            "lantern",
            "night light",
            "incense",
            "oil burner",
            "candlestick",
            "light holder",
            "fairy light",
            "string light",
            "lamp",
            "chandelier",
            "light chain",
            "lights",
        ),
    ),
    ThemeRule(
        "kitchen-and-baking",
        "kitchen and baking",
        (
            "baking",
            "cake tin",
            "cake stand",
            "cakestand",
            "mould",
            "jam",
            "recipe",
            "kitchen",
            "apron",
            "oven glove",
            "tea towel",
            "teapot",
            "tea set",
            "mug",
            "cup",
            "saucer",
            "plate",
            "bowl",
            "cutlery",
            "lunch box",
            "lunch bag",
            "jar",
            "biscuit",
            "cookie cutter",
            "pantry",
            "tray",
            "coffee",
            "measuring",
            "spoon",
            "chopping board",
            "egg cup",
            "cake",
            "tea cosy",
            "milk jug",
            "placemat",
            "coaster",
            "larder",
            "bread",
            "oven mitt",
            "sugar",
            "platter",
            "dispenser",
            "picnic",
        ),
    ),
    ThemeRule(
        "garden",
        "garden",
        (
            "garden",
            "flower pot",
            "plant pot",
            "planter",
            "bird house",
            "birdhouse",
            "bird feeder",
            "watering",
            "herb marker",
            "seed",
            "trowel",
            "gardener",
            "parasol",
            "wind chime",
            "plant",
        ),
    ),
    ThemeRule(
        "jewellery-and-accessories",
        "jewellery and accessories",
        (
            "necklace",
            "bracelet",
            "earring",
            "ring",
            "charm",
            "hair",
            "brooch",
            "purse",
            "handbag",
            "umbrella",
            "pendant",
            "diamante",
            "bead",
            "bangle",
            "scarf",
            "wallet",
            "compact mirror",
        ),
    ),
    ThemeRule(
        "toys-and-kids",
        "toys and children's gifts",
        (
            "toy",
            "childrens",
            "children's",
            "child",
            "kids",
            "dolly",
            "doll",
            "spaceboy",
            "jigsaw",
            "game",
            "puzzle",
            "teddy",
            "skipping rope",
            "colouring",
            "play",
            "soldier",
            "dinosaur",
            "crayons",
            "magic",
            "circus",
            "noughts",
            "naughts",
            "skittles",
        ),
    ),
    ThemeRule(
        "stationery-and-gift-wrap",
        "stationery and gift wrap",
        (
            "card",
            "wrap",
            "wrapping",
            "paper",
            "notebook",
            "pencil",
            "pen",
            "sticker",
            "tape",
            "ribbon",
            "gift tag",
            "envelope",
            "writing set",
            "notepad",
            "journal",
            "eraser",
            "tissue",
            "scrapbook",
            "scrap book",
            "book",
            "stamp",
            "office",
        ),
    ),
    ThemeRule(
        "bags-and-storage",
        "bags and storage",
        ("jumbo bag", "shopper", "tote", "storage", "basket", "tin", "box", "hamper", "bag"),
    ),
    ThemeRule(
        "vintage",
        "vintage",
        (
            "vintage",
            "retro",
            "antique",
            "regency",
            "victorian",
            "edwardian",
            "baroque",
            "french",
            "shabby",
            "parisienne",
            "nostalgia",
            "old fashioned",
        ),
    ),
    ThemeRule(
        "home-decor",
        "home decor",
        (
            "frame",
            "mirror",
            "clock",
            "cushion",
            "doormat",
            "sign",
            "hook",
            "wall art",
            "knob",
            "coat hanger",
            "hanging heart",
            "decoration",
            "ornament",
            "vase",
            "wreath",
            "garland",
            "cabinet",
            "shelf",
            "doorstop",
            "chalkboard",
            "plaque",
            "tile",
            "quilt",
            "throw",
            "hot water bottle",
            "wicker",
            "curtain",
            "waste bin",
        ),
    ),
)
OTHER_RULE = ThemeRule(OTHER, "gifts and homeware", ())

LABELS: dict[str, str] = {r.slug: r.label for r in (*TAXONOMY, OTHER_RULE)}


def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    alts = sorted((re.escape(k) for k in keywords), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alts) + r")(?:s|es)?\b")


_PATTERNS = [(_r, _pattern(_r.keywords)) for _r in TAXONOMY]


def keyword_themes(description: str) -> list[str]:
    """All taxonomy themes whose keywords occur in the description, in priority order."""
    text = description.lower()
    return [rule.slug for rule, pat in _PATTERNS if pat.search(text)]


@dataclass
class ThemeAssignment:
    primary: pd.Series  # stock_code -> primary theme slug
    memberships: pd.DataFrame  # stock_code, theme, score, method
    stats: dict[str, int]


def assign_themes(
    catalog: pd.DataFrame,
    vectors: np.ndarray | None = None,
    *,
    min_similarity: float = 0.5,
) -> ThemeAssignment:
    """Themes for every catalog row (needs stock_code, description; vectors row-aligned).

    Keyword matches score 1.0 (primary) / 0.6 (secondary); embedding matches score
    their cosine similarity to the theme centroid and are only used for items
    with no keyword match.
    """
    rows: list[tuple[str, str, float, str]] = []
    primary: dict[str, str] = {}
    unmatched: list[int] = []
    for idx, (code, desc) in enumerate(
        zip(catalog["stock_code"], catalog["description"], strict=True)
    ):
        found = keyword_themes(desc)
        if found:
            primary[code] = found[0]
            rows.append((code, found[0], 1.0, "keyword"))
            rows.extend((code, slug, 0.6, "keyword") for slug in found[1:])
        else:
            unmatched.append(idx)
    n_embedded = 0
    if vectors is not None and len(vectors) == len(catalog) and unmatched:
        codes = catalog["stock_code"].tolist()
        slugs = [r.slug for r in TAXONOMY]
        centroids = []
        for slug in slugs:
            members = [i for i, c in enumerate(codes) if primary.get(c) == slug]
            if members:
                centroid = vectors[members].mean(axis=0)
                centroids.append(centroid / (np.linalg.norm(centroid) or 1.0))
            else:
                centroids.append(np.zeros(vectors.shape[1], np.float32))
        sims = vectors[unmatched] @ np.stack(centroids).T
        best = sims.argmax(axis=1)
        for row, idx in enumerate(unmatched):
            score = float(sims[row, best[row]])
            if score >= min_similarity:
                code = codes[idx]
                primary[code] = slugs[best[row]]
                rows.append((code, slugs[best[row]], round(score, 4), "embedding"))
                n_embedded += 1
    for code in catalog["stock_code"]:
        if code not in primary:
            primary[code] = OTHER
            rows.append((code, OTHER, 1.0, "default"))
    memberships = pd.DataFrame(rows, columns=["stock_code", "theme", "score", "method"])
    n_keyword = len(catalog) - len(unmatched)
    return ThemeAssignment(
        primary=pd.Series(primary, name="theme"),
        memberships=memberships,
        stats={
            "keyword": n_keyword,
            "embedding": n_embedded,
            "default": len(catalog) - n_keyword - n_embedded,
        },
    )
