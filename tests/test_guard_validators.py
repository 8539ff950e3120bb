"""Each validator on a small guide built here, plus every labelled line of the eval set."""

from __future__ import annotations

from datetime import date

import pytest

from genpersona.brands.guide import BrandGuide
from genpersona.guard.engine import apply_disclaimers, autofix, check
from genpersona.types.content import FeaturedItem, VariantContent

DAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def guide() -> BrandGuide:
    return BrandGuide.model_validate(
        {
            "id": "testshop",
            "name": "Test Shop",
            "version": "2026.11.1",
            "locale": "en-GB",
            "voice": ["plain"],
            "banned_terms": ["cheap", "ass", {"term": "hurry", "severity": "warn"}],
            "preferred_terms": [
                {"use": "email", "instead_of": ["e-mail"]},
                {"use": "basket", "instead_of": ["cart"]},
            ],
            "competitors": ["Rival Co", "M&S"],
            "disclaimers": {"email": ["Terms apply."]},
            "claims": {
                "registry": [
                    {
                        "id": "ten",
                        "wording": "10% off mugs",
                        "valid_from": "2026-11-01",
                        "valid_until": "2026-11-30",
                    },
                    {
                        "id": "old",
                        "wording": "20% off mugs",
                        "valid_from": "2025-01-01",
                        "valid_until": "2025-02-01",
                    },
                    {
                        "id": "web",
                        "wording": "free delivery over £40",
                        "valid_from": "2026-01-01",
                        "channels": ["web"],
                    },
                ]
            },
            "limits": {"subject_line": {"max_chars": 30, "max_words": 6}},
            "style": {"max_caps_words": 0, "max_exclamations": 1, "max_emoji": 0},
            "fallbacks": {"subject_line": ["New mugs are in"]},
        }
    )


def rules(guide: BrandGuide, text: str, **kw) -> list[str]:
    kw.setdefault("kind", "subject_line")
    kw.setdefault("send_date", DAY)
    kw.setdefault("channel", "web")
    return [v.rule_id for v in check(text, guide, **kw).violations]


def test_banned_whole_words_inflections_no_substrings(guide: BrandGuide) -> None:
    assert rules(guide, "Cheap mugs") == ["banned_term"]
    assert rules(guide, "Cheaps and asses") == ["banned_term", "banned_term"]
    assert rules(guide, "Classic glass, Scunthorpe") == []
    assert rules(guide, "Assorted bass, passes") == []
    report = check("hurried mugs", guide, kind="subject_line", channel="web", send_date=DAY)
    assert report.passed and report.violations[0].severity == "warn"  # warn does not block
    span = report.violations[0].span
    assert span is not None and span.text == "hurried"


def test_preferred_terms_are_autofixed_with_case_and_plural(guide: BrandGuide) -> None:
    fixed, fixes = autofix(
        VariantContent(subject="E-mail about your carts"), guide, kind="subject_line"
    )
    assert fixed.subject == "Email about your baskets"
    assert len(fixes) == 2
    assert rules(guide, "cartoon cartons") == []


def test_competitors(guide: BrandGuide) -> None:
    assert rules(guide, "Better than Rival Co") == ["competitor"]
    assert rules(guide, "Unlike M&S") == ["competitor"]
    assert rules(guide, "A rival for tea") == []


def test_claims_registry_dates_and_channels(guide: BrandGuide) -> None:
    assert rules(guide, "10% off mugs") == []
    assert rules(guide, "10% off mugs", send_date=date(2026, 12, 1)) == ["claim.expired"]
    assert rules(guide, "20% off mugs") == ["claim.expired"]
    assert rules(guide, "15% off mugs") == ["claim.unregistered"]
    assert rules(guide, "Mugs for £4") == ["claim.unregistered"]
    assert rules(guide, "The best mugs") == ["claim.unregistered"]
    assert rules(guide, "Feel free, best wishes") == []
    assert rules(guide, "free delivery over £40", channel="web") == []
    assert "claim.wrong_channel" in rules(guide, "free delivery over £40", channel="email")


def test_catalogue_price_of_featured_item_is_not_a_claim(guide: BrandGuide) -> None:
    vc = VariantContent(
        subject="Teapot, £12.50",
        featured_items=[FeaturedItem(stock_code="1", description="TEAPOT", price=12.5)],
    )
    assert rules(guide, vc) == []
    assert rules(guide, VariantContent(subject="Teapot, £9.99")) == ["claim.unregistered"]


def test_disclaimer_required_and_applied_and_exempt(guide: BrandGuide) -> None:
    assert rules(guide, "New mugs", channel="email") == ["disclaimer.missing"]
    vc = apply_disclaimers("New mugs", guide, "email", kind="subject_line")
    assert vc.preheader == "Terms apply."
    assert rules(guide, vc, channel="email") == []
    assert apply_disclaimers(vc, guide, "email", kind="subject_line") == vc  # idempotent


def test_length_limits_exclude_disclaimer_and_trim(guide: BrandGuide) -> None:
    assert rules(guide, "A b c d e f g") == ["length.max_words"]
    long = "Mugs for tea, and also a great many other things you like"
    assert "length.max_chars" in rules(guide, long)
    fixed, fixes = autofix(long, guide, kind="subject_line")
    assert fixed.subject == "Mugs for tea" and any("trimmed" in f for f in fixes)


def test_caps_exclamation_emoji_and_their_fixes(guide: BrandGuide) -> None:
    assert rules(guide, "NEW mugs") == ["style.caps"]
    assert rules(guide, "UK mugs") == []
    assert rules(guide, "Mugs!! Jugs!") == ["style.exclamation", "style.exclamation"]
    assert rules(guide, "Mugs 🎄") == ["style.emoji"]
    fixed, _ = autofix("NEW mugs!! Jugs! 🎄", guide, kind="subject_line")
    assert fixed.subject == "New mugs! Jugs."
    assert check(fixed, guide, kind="subject_line", channel="web", send_date=DAY).passed


def test_locale_spelling(guide: BrandGuide) -> None:
    assert rules(guide, "Favorite colors") == ["spelling.locale", "spelling.locale"]
    assert rules(guide, "Personalized, king-size, prize") == ["spelling.locale"]
    fixed, _ = autofix("Favorite mugs", guide, kind="subject_line")
    assert fixed.subject == "Favourite mugs"


def test_creepy_line_innocent_uses_and_shared_facts(guide: BrandGuide) -> None:
    assert rules(guide, "Congrats on the pregnancy") == ["creepy.pregnancy"]
    assert rules(guide, "We noticed you browsing") == ["creepy.surveillance"]
    assert rules(guide, "Our heart-shaped lantern") == []
    assert rules(guide, "Retail therapy time") == []
    assert rules(guide, "Congrats on the pregnancy", shared_facts=["told us she is pregnant"]) == []


def test_leakage(guide: BrandGuide) -> None:
    assert rules(guide, "Mail a@b.com") == ["leak.email"]
    assert rules(guide, "Call 07700 900123") == ["leak.phone"]
    assert rules(guide, "To SW1A 1AA") == ["leak.address"]
    assert rules(guide, "Hi {name}") == ["leak.placeholder"]
    assert rules(guide, "Like Jo Bloggs", other_customer_markers=["Jo Bloggs"]) == [
        "leak.other_customer"
    ]
    assert rules(guide, "tok abc123xyz", canary="abc123xyz") == ["leak.canary"]
    assert rules(guide, "Set of 72, 3 tier") == []


def test_output_safety(guide: BrandGuide) -> None:
    assert "output.script" in rules(guide, "<script>x</script>", kind="hero")
    assert rules(guide, "<b>hi</b>", kind="hero") == ["output.html", "output.html"]
    assert rules(guide, "[x](javascript:go())", kind="hero") == ["output.js_url"]
    assert rules(guide, "&lt;b&gt;hi&lt;/b&gt;", kind="hero") == []


def test_report_spans_index_into_all_text(guide: BrandGuide) -> None:
    vc = VariantContent(subject="New mugs", preheader="Cheap tea")
    report = check(vc, guide, kind="subject_line", channel="web", send_date=DAY)
    v = report.violations[0]
    assert v.field == "preheader" and v.span is not None
    assert report.text[v.span.start : v.span.end] == "Cheap"


# --- every labelled line of the eval set, per rule family --------------------------------
def _labelled() -> list:
    """The lines word rules must decide alone. Euphemisms need the semantic check (MiniLM),
    and the new categories' held-out lines are measured (``python -m evals.guard.run``), not
    asserted: their misses are the documented shortfall."""
    from evals.guard.run import load_cases

    return [
        c
        for c in load_cases("all")
        if not c.category.startswith("euphemism") and (c.split == "dev" or c.category == "core")
    ]


@pytest.mark.parametrize("case", _labelled(), ids=lambda c: f"{c.split}-{c.rule}-{c.label}")
def test_labelled_case(case) -> None:
    report = check(case.content, case.guide, **case.kwargs)
    mine = [v for v in report.violations if any(v.rule_id.startswith(p) for p in case.prefixes)]
    if case.label == "violating":
        assert mine, f"missed: {case.content!r}"
    elif case.split == "dev":
        assert not mine and report.passed, f"false hit: {case.content!r} {report.violations}"


def test_apply_disclaimers_infers_the_field_from_the_content() -> None:
    from genpersona.brands.loader import load_guide

    bank = load_guide("northbank")
    vc = apply_disclaimers(VariantContent(headline="Savings accounts made simple"), bank, "web")
    assert vc.subheadline == "Terms and eligibility criteria apply."
    chat = apply_disclaimers(VariantContent(answer="Tap Settings."), bank, "chat")
    assert chat.answer == "Tap Settings. This is general information, not financial advice."


def test_evasions_found_after_the_heldout_run(guide: BrandGuide) -> None:
    """Probes written after the held-out measurement; each was a miss before its fix."""
    assert rules(guide, "Twenty percent off") == ["claim.unregistered"]
    assert rules(guide, "Ten quid mugs") == ["claim.unregistered"]
    assert rules(guide, "2-for-1 mugs") == ["claim.unregistered"]
    assert rules(guide, "Fr\u0435e mugs") == ["claim.unregistered"]  # Cyrillic e
    assert rules(guide, "Ch\u0435ap mugs") == ["banned_term"]
    assert rules(guide, "fr\u200bee mugs") == ["output.invisible_char"]
    assert rules(guide, "The little one on the way") == ["creepy.pregnancy"]
    assert rules(guide, "A one-off design") == []
    assert rules(guide, "Picnic 👨‍👩‍👧", kind="subject_line") == [
        "style.emoji"
    ]  # ZWJ emoji is fine
