"""Realistic drafts without a model: for tests, the benchmark and a first look at the console.

The copy is built from the demo brand's world (a UK gift and homeware shop,
after the UCI Online Retail catalogue) so the console looks like a working
day: most drafts clean, some with a banned term or an unregistered claim
flagged, a few that fell back to the safe template.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from genpersona.db.base import utcnow
from genpersona.review.queue import submit_drafts
from genpersona.settings import Settings
from genpersona.types.audience import Consent
from genpersona.types.content import (
    ContentKind,
    Draft,
    FeaturedItem,
    Rationale,
    Scores,
    StageTiming,
    Trace,
    Variant,
    VariantContent,
)
from genpersona.types.violations import Span, Violation

ITEMS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55, "candles"),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12.75, "tea time"),
    ("47566", "PARTY BUNTING", 4.95, "party"),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65, "lunch"),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69, "garden"),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 4.95, "baking"),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55, "baking"),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 2.95, "christmas"),
    ("23084", "RABBIT NIGHT LIGHT", 2.08, "kids"),
    ("22197", "POPCORN HOLDER", 0.85, "party"),
    ("21034", "REX CASH+CARRY JUMBO SHOPPER", 0.95, "bags"),
    ("22386", "JUMBO BAG PINK POLKADOT", 1.95, "bags"),
]
CAMPAIGNS = ["spring-tea-party", "christmas-early-bird", "back-to-baking", "garden-refresh", None]
BRIEFS = {
    "spring-tea-party": "Invite customers to host a spring tea party with our cake stands and bunting",
    "christmas-early-bird": "Early Christmas decorations, gently, before the rush",
    "back-to-baking": "Autumn baking: tins, cake cases and pantry storage",
    "garden-refresh": "Bring colour to the garden with ornaments and lights",
    None: "A friendly note about new arrivals this week",
}
SUBJECTS = [
    "{name}, your {theme} table is waiting",
    "New {theme} finds picked for you",
    "A little {theme} inspiration for the weekend",
    "Back in stock: the {item} you loved",
    "Make this weekend about {theme}",
    "Fresh {theme} ideas, straight from our shelves",
]
HEADLINES = [
    "Everything for a {theme} afternoon",
    "Your {theme} corner, refreshed",
    "Small touches, big {theme} moments",
]
ANSWERS = [
    "Our {item} is in stock and ships in 2-3 working days. Would you like to see matching pieces?",
    "Yes, the {item} comes gift-wrapped on request. You can add a note at checkout.",
]
NAMES = ["Anna", "Tom", "Priya", "Oliver", "Sophie", "James", "Mia", "Leo"]
BAD_TERMS = [
    ("cheapest", "banned_term", "'cheapest' is banned: it invites price comparisons"),
    ("50% off", "claim.unregistered", "'50% off' is not in the approved-claims registry"),
    ("Hurry!!", "style.exclamations", "more than one exclamation mark"),
]


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _content(kind: ContentKind, rng: random.Random, item: tuple, name: str) -> VariantContent:
    theme = item[3]
    pretty = item[1].title()
    featured = [FeaturedItem(stock_code=item[0], description=pretty, price=item[2])]
    if kind == "subject_line":
        return VariantContent(
            subject=rng.choice(SUBJECTS).format(name=name, theme=theme, item=pretty),
            preheader=f"Including our {pretty}, from £{item[2]:.2f}.",
            featured_items=featured,
        )
    if kind == "hero":
        return VariantContent(
            headline=rng.choice(HEADLINES).format(theme=theme),
            subheadline=f"Handpicked pieces like the {pretty}, ready to ship.",
            cta="Shop the collection",
            featured_items=featured,
        )
    return VariantContent(answer=rng.choice(ANSWERS).format(item=pretty))


def make_draft(
    rng: random.Random,
    *,
    brand: str = "giftloft",
    kind: ContentKind | None = None,
    customer_id: str | None = None,
    campaign: str | None = "",
    violation_rate: float = 0.15,
    fallback_rate: float = 0.04,
    created_at: datetime | None = None,
    n_variants: int = 3,
) -> Draft:
    """One realistic draft; pass ``rng`` seeded for reproducible drafts."""
    kinds: list[ContentKind] = ["subject_line", "subject_line", "hero", "chat_answer"]
    what: ContentKind = kind if kind is not None else rng.choice(kinds)
    if campaign == "":
        campaign = rng.choice(CAMPAIGNS)
    customer_id = customer_id or f"C{rng.randint(12346, 18287)}"
    name = rng.choice(NAMES)
    fallback = rng.random() < fallback_rate
    flagged = not fallback and rng.random() < violation_rate
    items = rng.sample(ITEMS, 2)
    variants: list[Variant] = []
    for i in range(n_variants):
        content = _content(what, rng, items[i % 2], name)
        violations: list[Violation] = []
        if fallback:
            content = (
                VariantContent(subject="New arrivals are in — take a look")
                if what == "subject_line"
                else VariantContent(headline="New arrivals are in", cta="Shop now")
                if what == "hero"
                else VariantContent(answer="Thanks for asking! A colleague will help you shortly.")
            )
        elif flagged and i == 0:
            term, rule, message = rng.choice(BAD_TERMS)
            main = content.main_text()
            text = f"{main} — {term}"
            start = len(main) + 3
            violations.append(
                Violation(
                    rule_id=rule,
                    severity="block" if rule != "style.exclamations" else "warn",
                    message=message,
                    span=Span(start=start, end=start + len(term), text=term),
                    suggestion="remove it or use a registered offer",
                )
            )
            if what == "subject_line":
                content.subject = text
            elif what == "hero":
                content.headline = text
            else:
                content.answer = text
        base = rng.uniform(0.45, 0.92)
        total = round(max(0.0, base - 0.06 * i - (0.2 if violations else 0.0)), 3)
        scores = Scores(
            brand_voice=round(min(1, base + rng.uniform(-0.1, 0.1)), 3),
            relevance=round(min(1, base + rng.uniform(-0.15, 0.1)), 3),
            specificity=round(rng.uniform(0.3, 0.9), 3),
            length_fit=round(rng.uniform(0.6, 1.0), 3),
            novelty=round(rng.uniform(0.2, 0.9), 3),
            total=total,
        )
        variants.append(
            Variant(
                index=i,
                content=content,
                scores=scores,
                violations=violations,
                is_fallback=fallback,
                attempts=3 if fallback else rng.choice([1, 1, 1, 2]),
            )
        )
    personalized = rng.random() > 0.1
    theme = items[0][3]
    rationale = Rationale(
        customer_line=f"Because you often buy {theme} pieces" if personalized else "",
        facts_used=[f"bought {theme} items 4 times this year", "usually orders on Sunday evenings"]
        if personalized
        else [],
        items_used=[items[0][0], items[1][0]] if personalized else [],
        consent=Consent(personalization=personalized, email=True, chat_memory=personalized),
        personalized=personalized,
        rules_checked=["banned_term", "claim.unregistered", "style.exclamations", "creepy.health"],
        model="gemma-3-270m-q4_k_m",
        backend="local",
        prompt_template=f"{what}.completion.j2",
        prompt_version="2025.06.1",
    )
    trace = Trace(
        stages=[StageTiming(stage="context", ms=12.0), StageTiming(stage="generate", ms=410.0)],
        prompt_tokens=180,
        completion_tokens=40,
        model_ms=410.0,
        total_ms=455.0,
        first_try_passed=0 if fallback else n_variants,
        fallbacks=n_variants if fallback else 0,
    )
    brief = BRIEFS.get(campaign) or f"Campaign {campaign}: new arrivals picked for each customer"
    return Draft(
        brand=brand,
        kind=what,
        customer_id=customer_id,
        campaign=campaign,
        brief=brief,
        variants=variants,
        rationale=rationale,
        trace=trace,
        idempotency_key=_key(brand, what, customer_id, campaign, brief, rng.random()),
        created_at=created_at or utcnow(),
    )


def seed_queue(
    n: int,
    settings: Settings | None = None,
    *,
    seed: int = 7,
    brands: tuple[str, ...] = ("giftloft",),
    spread: timedelta = timedelta(days=10),
    batch: int = 1000,
) -> list[int]:
    """Queue ``n`` pending drafts spread over the last ``spread``; returns their ids."""

    rng = random.Random(seed)
    now = utcnow()
    ids: list[int] = []
    for start in range(0, n, batch):
        drafts = [
            make_draft(
                rng,
                brand=rng.choice(brands),
                created_at=now - spread * rng.random(),
            )
            for _ in range(min(batch, n - start))
        ]
        ids += [d.id for d in submit_drafts(drafts, settings) if d.id is not None]
    return ids
