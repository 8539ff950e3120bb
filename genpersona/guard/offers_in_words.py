"""Offers and prices written in words: claims just like "50% off" or "£5".

"buy one get one", "half the price", "three for the price of two", "on the house", "a
tenner", "double points": each is a promise the brand must have approved, so the claims
validator treats every match as a claim trigger that only an approved, currently valid
registry wording may cover. Single trigger words ("free", "save", "half price") stay in the
guide's ``claims.triggers`` list; this module holds the patterns a word list cannot express.
"""

from __future__ import annotations

import re

_N = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|a|an|1|2|3|4|5|6|7|8|9|10|"
    r"a couple|a pair)"
)
_ITEM = r"(?:\s+(?:more|extra|mugs?|items?|candles?|tins?|cards?|throws?|of\s+them|\w+s))?"
_OFFERS = [
    # multi-buys
    rf"buy\s+{_N}{_ITEM},?\s+get\s+{_N}{_ITEM}(?:\s+(?:free|half[\s-]price|for\s+free))?",
    r"b1g1|bogof?|bngn",
    rf"{_N}\s+for\s+the\s+price\s+of\s+{_N}",
    rf"pay\s+for\s+{_N},?\s+(?:get|take)\s+{_N}",
    r"(?:(?<![\w£$€.])\d{1,2}|one|two|three|four|five)\s*[-–]?\s*for\s*[-–]?\s*"
    r"(?:\d{1,2}|one|two|three|four)(?![\w%£.,]\d|\d)",
    r"(?:second|2nd|third|3rd|next)\s+(?:one|item|mug|candle|tin|card|throw|\w+)\s+"
    r"(?:half[\s-]price|free|for\s+(?:a\s+)?(?:penny|pound|quid))",
    # fractions and spelled-out reductions
    r"(?:a|one)[\s-](?:third|quarter|fifth|tenth)\s+off",
    r"half\s+(?:off|the\s+price|the\s+cost|of\s+the\s+price|what\s+you'd\s+pay)",
    r"(?:\w+\s+)?(?:percent|per\s?cent|quid|pounds?|pence|dollars?|euros?)\s+off",
    r"(?:zero|0)\s*(?:percent|per\s?cent|%)\s*(?:interest|apr|finance)",
    r"(?:zero|no)\s+(?:delivery|postage|shipping)\s+(?:charges?|costs?|fees?)",
    r"money\s+off|price\s+(?:drops?|cuts?|crash)|prices?\s+(?:slashed|cut|dropped|crashed)",
    r"(?:slashed|knocked|taken)\s+(?:\w+\s+)?off\s+(?:the\s+)?(?:price|rrp|total)",
    r"reduced\s+(?:to|prices?|from)|marked\s+down|knock-?down\s+prices?|rock[\s-]bottom\s+prices?"
    r"|dirt\s+cheap|cheap\s+as\s+chips|never\s+been\s+cheaper|lowest\s+prices?\s+ever",
    # free without the word, or free with a noun
    r"on\s+the\s+house|(?:it's|it\s+is|that's|delivery's|they're|wrapping's)\s+on\s+us|at\s+no\s+(?:extra\s+)?(?:cost|charge)"
    r"|free\s+of\s+charge|no\s+charge|costs?\s+(?:you\s+)?nothing|won'?t\s+cost\s+(?:you\s+)?"
    r"(?:a\s+)?(?:penny|thing|a\s+thing)|(?:yours|it's|get\s+(?:it|one|them))\s+for\s+nothing"
    r"|gratis|complimentary(?!\s+(?:colou?rs?|shades?|tones?|hues?))",
    # money as a price in words
    r"(?:for|under|only|just|from|less\s+than)\s+(?:a\s+)?(?:fiver|tenner|couple\s+of\s+quid)",
    r"(?:double|triple|treble|extra|bonus|2x|3x)\s+(?:loyalty\s+)?points",
]
OFFER_RE = re.compile(r"(?<![\w])(?:" + "|".join(_OFFERS) + r")(?![\w])", re.IGNORECASE)


# "free" that describes what a product lacks, not what it costs
FREE_FROM_RE = re.compile(
    r"(?<![\w])(?:alcohol|sugar|gluten|dairy|nut|plastic|cruelty|caffeine|lactose|palm[\s-]oil"
    r"|fragrance|scent|bpa|latex|wheat|meat|fuss|hassle|stress|guilt|drip|crease|lead)[\s-]free(?![\w])",
    re.IGNORECASE,
)


def free_from(text: str) -> list[tuple[int, int]]:
    """Spans like "alcohol-free" or "plastic-free": descriptions, not offers."""
    return [(m.start(), m.end()) for m in FREE_FROM_RE.finditer(text)]


def find_offers(text: str) -> list[tuple[int, int]]:
    """Spans of offers written in words (the claims validator decides if one is approved)."""
    return [(m.start(), m.end()) for m in OFFER_RE.finditer(text)]
