"""Claims: every price, percentage or promise word must be a registered, currently valid claim.

A claim word ("free", "save", "best", a price, a percentage) is allowed only
inside the exact wording of a claim in the guide's registry that is valid on
the send date and for the channel. Anything else is blocked: an unregistered
offer is a legal problem, not a style problem.
"""

from __future__ import annotations

import re

from genpersona.brands.guide import Claim
from genpersona.guard.offers_in_words import find_offers, free_from
from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

PRICE_RE = re.compile(
    r"[£$€]\s?\d+(?:,\d{3})*(?:\.\d{1,2})?(?:\s?(?:k|m|bn)\b)?"
    r"|(?<![\w.])\d+(?:,\d{3})*(?:\.\d{1,2})?\s?(?:p|pence|pounds?|quid|dollars?|euros?|gbp|usd|eur)(?![\w])",
    re.IGNORECASE,
)
PERCENT_RE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:%|percent\b|per\s?cent\b)", re.IGNORECASE)
MULTIBUY_RE = re.compile(
    r"(?<![\w])\d{1,2}[\s-]?for[\s-]?(?:\d{1,2}|£\s?\d[\d.]*)(?![\w%])", re.IGNORECASE
)
_NUM = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|a hundred|hundred)"
)
# amounts written in words: "twenty percent", "ten quid", "fifty pounds"
WORD_AMOUNT_RE = re.compile(
    rf"(?<![\w]){_NUM}(?:[\s-]{_NUM})?\s?(?:percent|per\s?cent|pounds?|quid|pence|dollars?|euros?)(?![\w])",
    re.IGNORECASE,
)
_STATUS_RULE = {
    "expired": "claim.expired",
    "not_yet_valid": "claim.not_yet_valid",
    "wrong_channel": "claim.wrong_channel",
}


def _price_value(text: str) -> float | None:
    digits = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    if not digits:
        return None
    value = float(digits.group().replace(",", ""))
    if re.search(r"\d\s?(?:p|pence)\b", text, re.IGNORECASE):
        value /= 100
    return value


def claims(f: FieldText, opts: CheckOptions) -> list[Violation]:
    text = f.text
    policy = f.guide.claims
    triggers: list[tuple[int, int, str]] = [
        (m.start, m.end, "claim word") for m in f.cg.claim_triggers.find(text, f.tokens)
    ]
    if policy.check_prices:
        for m in PRICE_RE.finditer(text):
            value = _price_value(m.group())
            if value is not None and any(abs(value - p) < 0.005 for p in opts.catalog_prices):
                continue  # the catalogue price of a featured item is a fact, not an offer
            triggers.append((m.start(), m.end(), "price"))
    if policy.check_percentages:
        triggers += [(m.start(), m.end(), "percentage") for m in PERCENT_RE.finditer(text)]
    triggers += [(m.start(), m.end(), "multi-buy offer") for m in MULTIBUY_RE.finditer(text)]
    triggers += [(m.start(), m.end(), "amount") for m in WORD_AMOUNT_RE.finditer(text)]
    triggers += [(s, e, "offer in words") for s, e in find_offers(text)]

    valid: list[tuple[int, int]] = []
    invalid: list[tuple[int, int, Claim, str]] = []
    for regex, claim in f.cg.claims:
        for m in regex.finditer(text):
            status = claim.status_on(opts.send_date, opts.channel)
            if status == "valid":
                valid.append((m.start(), m.end()))
            else:
                invalid.append((m.start(), m.end(), claim, status))
    if not triggers and not invalid:
        return []
    innocent = [
        (m.start, m.end) for m in f.cg.claim_innocent.find(text, f.tokens, overlapping=True)
    ] + free_from(text)

    def covered(spans: list[tuple[int, int]], s: int, e: int) -> bool:
        return any(a <= s and e <= b for a, b in spans)

    out: list[Violation] = []
    reported: list[tuple[int, int]] = []
    for s, e, claim, status in invalid:
        if covered(valid, s, e) or covered(reported, s, e):
            continue
        reported.append((s, e))
        when = {
            "expired": f"it expired on {claim.valid_until}",
            "not_yet_valid": f"it only starts on {claim.valid_from}",
            "wrong_channel": f"it is only approved for {', '.join(claim.channels or [])}",
        }[status]
        out.append(
            f.violation(
                _STATUS_RULE[status],
                "block",
                f"claim '{claim.id}' is not valid on {opts.send_date} for {opts.channel}: {when}",
                s,
                e,
                suggestion=_suggest(f, opts, claim.kind),
            )
        )
    for s, e, what in sorted(triggers, key=lambda t: (t[0], -t[1])):  # longest first
        if covered(valid, s, e) or covered(reported, s, e) or covered(innocent, s, e):
            continue
        reported.append((s, e))
        out.append(
            f.violation(
                "claim.unregistered",
                "block",
                f"{what} '{text[s:e]}' is not part of an approved claim valid on {opts.send_date}",
                s,
                e,
                suggestion=_suggest(f, opts, None),
            )
        )
    return out


def _suggest(f: FieldText, opts: CheckOptions, kind: str | None) -> str:
    ok = [
        c
        for c in f.guide.claims.registry
        if c.status_on(opts.send_date, opts.channel) == "valid" and (kind is None or c.kind == kind)
    ]
    if not ok:
        return "remove the claim; no approved claim of this kind is valid now"
    return "remove it, or use approved wording exactly: " + "; ".join(
        f"'{c.wording}'" for c in ok[:3]
    )
