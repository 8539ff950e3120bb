"""Normalization before the word rules: compatibility forms, leetspeak, separators inside
words; spans stay in the original text and innocent numbers never change."""

from __future__ import annotations

from datetime import date

import pytest

from genpersona.brands.guide import BrandGuide
from genpersona.guard.engine import autofix, check
from genpersona.guard.normalize import compat, folded
from genpersona.types.content import VariantContent

DAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def guide() -> BrandGuide:
    return BrandGuide.model_validate(
        {
            "id": "normshop",
            "name": "Norm Shop",
            "version": "2026.11.1",
            "locale": "en-GB",
            "voice": ["plain"],
            "banned_terms": ["cheap"],
            "preferred_terms": [{"use": "basket", "instead_of": ["cart"]}],
            "competitors": ["Rival Co"],
            # the shop's own site may be linked (the dotted name must not read as a disguise)
            "chat": {"link_hosts": ["normshop.co.uk"]},
            "claims": {
                "registry": [
                    {
                        "id": "gift-cards",
                        "kind": "price",
                        "wording": "gift cards from £10",
                        "valid_from": "2026-01-01",
                    }
                ]
            },
        }
    )


def rules(guide: BrandGuide, text: str) -> list[str]:
    return sorted(
        v.rule_id for v in check(text, guide, kind="subject_line", send_date=DAY).violations
    )


@pytest.mark.parametrize(
    ("text", "rule", "span"),
    [
        ("Congrats on being pr3gn4nt", "creepy.pregnancy", "pr3gn4nt"),
        ("Gifts for your p.r.e.g.n.a.n.c.y", "creepy.pregnancy", "p.r.e.g.n.a.n.c.y"),
        ("Gifts for your p r e g n a n c y", "creepy.pregnancy", "p r e g n a n c y"),
        ("Throws for your c-h-e-m-o days", "creepy.health", "c-h-e-m-o"),
        ("Treats for the d1abetic in you", "creepy.health", "d1abetic"),
        ("Our 1gbt picks", "creepy.sexuality", "1gbt"),  # "1" read as "l"
        ("Proud to be g@y?", "creepy.sexuality", "g@y"),
        ("Candles for your ch.urch", "creepy.religion", "ch.urch"),
        ("Ch3ap mugs for all", "banned_term", "Ch3ap"),
        ("Better than R1val Co", "competitor", "R1val Co"),
        ("Fr33 mugs today", "claim.unregistered", "Fr33"),
        ("Our $ale starts now", "claim.unregistered", "$ale"),
        ("Ｆｒｅｅ mugs today", "claim.unregistered", "Ｆｒｅｅ"),  # fullwidth
        ("５０％ off throws", "claim.unregistered", "５０％"),
        ("B.O.G.O.F on candles", "claim.unregistered", "B.O.G.O.F"),
    ],
)
def test_disguised_words_are_caught_with_the_original_span(
    guide: BrandGuide, text: str, rule: str, span: str
) -> None:
    report = check(text, guide, kind="subject_line", send_date=DAY)
    hits = [v for v in report.violations if v.rule_id == rule]
    assert hits, report.violations
    v = hits[0]
    assert v.span is not None and v.span.text == span
    assert text[v.span.start : v.span.end] == span


@pytest.mark.parametrize(
    "text",
    [
        "Our 2024 calendar is here",
        "Gift cards from £10",
        "Open 9am to 5pm, Monday to Saturday",
        "A4 notebooks and A5 planners",
        "3D-printed cookie cutters",
        "Set of 4 mugs, 350ml each",
        "Our 1st birthday party is on Friday",
        "Lanterns in S, M and L",
        "Model B2B-40 shelf brackets, SKU 4021A",
        "Visit www.normshop.co.uk for more",
        "Tea at 11, cake at 3",
        "Hello! Lovely mugs are back!",
        "Y2K-style bunting and 1950s-style jugs",
    ],
)
def test_innocent_numbers_codes_and_dots_pass(guide: BrandGuide, text: str) -> None:
    assert [r for r in rules(guide, text) if not r.startswith("style.")] == []


def test_plain_ascii_builds_no_folded_view() -> None:
    view = compat("Cosy mugs for cold mornings")
    assert view.origin == list(range(len(view.text) + 1))
    assert folded(view) == []


def test_offsets_map_back_through_nfkc_expansion() -> None:
    raw = "ﬁne ｆｒｅｅ"  # a ligature (1 char -> 2) then fullwidth letters
    view = compat(raw)
    assert view.text == "fine free"
    s = view.text.index("free")
    assert view.span(s, s + 4) == (raw.index("ｆ"), len(raw))


def test_trademark_sign_is_not_turned_into_caps(guide: BrandGuide) -> None:
    assert rules(guide, "Norm Shop™ mugs, made well") == []


def test_one_disguised_hit_is_reported_once(guide: BrandGuide) -> None:
    assert rules(guide, "Ch3ap and cheap mugs") == ["banned_term", "banned_term"]


def test_spans_in_later_fields_index_the_joined_text(guide: BrandGuide) -> None:
    vc = VariantContent(subject="Ｍｕｇｓ for you", preheader="Proud to be g@y?")
    report = check(vc, guide, kind="subject_line", send_date=DAY)
    v = next(v for v in report.violations if v.rule_id == "creepy.sexuality")
    assert v.span is not None and report.text[v.span.start : v.span.end] == "g@y"


def test_autofix_replaces_on_the_original_text_after_nfkc(guide: BrandGuide) -> None:
    fixed, fixes = autofix("ﬁll your cart today", guide, kind="subject_line", send_date=DAY)
    assert fixed.subject == "ﬁll your basket today"
    assert any("cart" in f for f in fixes)
