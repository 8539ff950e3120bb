"""The console's customer previews through AppTest: inbox truncation per client at the
documented lengths, HTML escaping of model text, variants side by side."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app.previews import CLIENTS, ELLIPSIS, hero_html, inbox_html, inbox_row, truncate
from genpersona.types.content import FeaturedItem, VariantContent

LONG = "Little lanterns for long winter evenings by the fire, and a few more words"  # 74 chars
PRE = "Warm light for the window, the table and the garden path, ready for the darkest evenings."


def test_truncation_at_each_clients_documented_length() -> None:
    content = VariantContent(subject=LONG, preheader=PRE)
    by_name = {c.name: c for c in CLIENTS}
    ios = inbox_row(content, "The Gift Loft", by_name["iOS Mail"])
    assert 46 <= len(ios["subject"]) <= 48 and ios["subject"].endswith(ELLIPSIS)
    assert ios["subject"][:-1] == LONG[: len(ios["subject"]) - 1]
    mobile = inbox_row(content, "The Gift Loft", by_name["Gmail mobile"])
    assert 38 <= len(mobile["subject"]) <= 40 and mobile["subject"].endswith(ELLIPSIS)
    assert len(mobile["preview"]) <= 90
    desktop = inbox_row(content, "The Gift Loft", by_name["Gmail desktop"])
    assert 68 <= len(desktop["subject"]) <= 70 and desktop["subject"].endswith(ELLIPSIS)
    assert len(desktop["subject"]) + 3 + len(desktop["preview"]) <= 130
    short = inbox_row(VariantContent(subject="Tea for two"), "A" * 40, by_name["iOS Mail"])
    assert short["subject"] == "Tea for two" and len(short["sender"]) == 30


def test_truncate_keeps_short_text_whole() -> None:
    assert truncate("Tea  for\ntwo", 40) == "Tea for two"
    assert truncate("x" * 10, 5) == "xxxx" + ELLIPSIS


def test_model_text_is_escaped() -> None:
    evil = "<script>alert('x')</script> & <b>bold</b>"
    row = inbox_html(VariantContent(subject=evil, preheader=evil), "<img src=x>", CLIENTS[1])
    assert "<script>" not in row and "&lt;script&gt;" in row and "<img" not in row
    hero = hero_html(VariantContent(headline=evil, subheadline=evil, cta="<i>Go</i>",
                                    featured_items=[FeaturedItem(stock_code="1", description="<b>mug</b>", price=2.5)]))  # fmt: skip
    assert "<script>" not in hero and "<b>mug" not in hero and "&lt;i&gt;Go" in hero
    assert "£2.50" in hero


def _app() -> None:
    from app.previews import render_previews
    from genpersona.types.content import FeaturedItem, Scores, Variant, VariantContent

    subject = [
        Variant(index=i, scores=Scores(total=1 - i / 10),
                content=VariantContent(subject=f"Subject {i} " + "x" * 60, preheader="<b>Pre</b>",
                                       recipe_id=f"gift_idea/2026.12.1/guide#{i}"))
        for i in range(3)
    ]  # fmt: skip
    render_previews(subject, "subject_line", "The Gift Loft")
    hero = Variant(index=0, content=VariantContent(headline="Make the table <em>sing</em>",
                   subheadline="Cake stands.", cta="Browse the shop",
                   featured_items=[FeaturedItem(stock_code="22423", description="REGENCY CAKESTAND 3 TIER", price=12.75)]))  # fmt: skip
    render_previews([hero], "hero", "The Gift Loft")


def test_previews_render_side_by_side_in_the_console() -> None:
    at = AppTest.from_function(_app, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    html_blocks = [m.value for m in at.markdown if "gp-inbox" in m.value or "gp-hero" in m.value]
    inbox = [b for b in html_blocks if "gp-inbox" in b]
    assert len(inbox) == 3 * len(CLIENTS)  # every variant in every client
    assert all("<b>Pre</b>" not in b for b in inbox)
    assert any("Subject 0" in b for b in inbox[: len(CLIENTS)])  # best first
    hero = next(b for b in html_blocks if "gp-hero" in b)
    assert "&lt;em&gt;sing" in hero and "Regency cakestand 3 tier" in hero and "£12.75" in hero
    assert "Browse the shop" in hero
    captions = [c.value for c in at.caption]
    assert any("gift_idea/2026.12.1" in c for c in captions)
