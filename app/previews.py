"""What the customer will see: inbox rows and the landing-page hero, per variant, side by side.

A reviewer approving a subject line should see it the way the inbox cuts it. Visible
lengths (characters, default font and width; every client cuts on pixels, so these are
the measured or documented typical points, rounded down):

- Gmail desktop: subject ~70, and subject + preview share one row of ~130
  (typecount.com/blog/email-subject-line-length: Gmail ~70 desktop / ~40 mobile;
  wordcounternow.com/blog/email-marketing-character-limits.html: Gmail desktop preheader
  120-140, Gmail mobile 90-110).
- Gmail mobile app: subject ~40, preview ~90 (same sources).
- iOS Mail (iPhone 14): subject 48, preview 99 (measured by emailtooltester.com,
  /en/blog/email-subject-lines-character-limit/).
- Sender names: ~20 (Gmail desktop column), ~25 (Gmail app), ~30 (iOS Mail), by the
  width of the sender column in each client's default layout.

Everything model-written is HTML-escaped before it is placed in markup.
"""

from __future__ import annotations

import html

import streamlit as st
from pydantic import BaseModel

from genpersona.brands.loader import load_guide
from genpersona.errors import GenpersonaError
from genpersona.types.content import Variant, VariantContent

ELLIPSIS = "…"


class ClientSpec(BaseModel):
    name: str
    sender: int
    subject: int
    preheader: int
    #: subject and preview share one row of this many characters (Gmail desktop)
    row: int | None = None


CLIENTS = [
    ClientSpec(name="Gmail desktop", sender=20, subject=70, preheader=130, row=130),
    ClientSpec(name="Gmail mobile", sender=25, subject=40, preheader=90),
    ClientSpec(name="iOS Mail", sender=30, subject=48, preheader=99),
]


def truncate(text: str, limit: int) -> str:
    """Cut like an inbox: at ``limit`` characters with an ellipsis (the ellipsis counts)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def inbox_row(content: VariantContent, sender: str, client: ClientSpec) -> dict[str, str]:
    """The visible sender, subject and preview text for one client (plain text)."""
    subject = truncate(content.subject or "", client.subject)
    pre = content.preheader or ""
    if client.row is not None:  # one shared row: the preview gets what the subject leaves
        room = client.row - len(subject) - 3  # " - " between them
        preview = truncate(pre, room) if room > 1 else ""
    else:
        preview = truncate(pre, client.preheader)
    return {"sender": truncate(sender, client.sender), "subject": subject, "preview": preview}


def inbox_html(content: VariantContent, sender: str, client: ClientSpec) -> str:
    row = inbox_row(content, sender, client)
    e = {k: html.escape(v) for k, v in row.items()}
    if client.row is not None:
        body = (
            f"<span style='font-weight:600;min-width:9em;display:inline-block'>{e['sender']}</span>"
            f"<b>{e['subject']}</b> <span style='color:#5f6368'>- {e['preview']}</span>"
        )
    else:
        body = (
            f"<div style='font-weight:600'>{e['sender']}</div>"
            f"<div><b>{e['subject']}</b></div>"
            f"<div style='color:#5f6368'>{e['preview']}</div>"
        )
    return (
        "<div class='gp-inbox' style='font-family:Arial,sans-serif;font-size:14px;"
        "border:1px solid #dadce0;border-radius:8px;padding:8px 12px;margin:4px 0;"
        f"white-space:nowrap;overflow:hidden'><div style='color:#80868b;font-size:11px'>"
        f"{html.escape(client.name)}</div>{body}</div>"
    )


def _price(value: float | None) -> str:
    return f"£{value:,.2f}" if value is not None else ""


def hero_html(content: VariantContent) -> str:
    """The hero as a landing-page block: headline, subheadline, CTA button, featured items."""
    items = "".join(
        "<div class='gp-item' style='flex:1;border:1px solid #eee;border-radius:6px;padding:6px'>"
        f"<div>{html.escape(f.description.capitalize())}</div>"
        f"<div style='color:#555'>{html.escape(_price(f.price))}</div></div>"
        for f in content.featured_items[:4]
    )
    return (
        "<div class='gp-hero' style='font-family:Georgia,serif;background:#fbf7f2;"
        "border-radius:10px;padding:20px;margin:4px 0'>"
        f"<h2 style='margin:0 0 6px 0'>{html.escape(content.headline or '')}</h2>"
        f"<p style='margin:0 0 12px 0'>{html.escape(content.subheadline or '')}</p>"
        "<span class='gp-cta' style='background:#7a3e48;color:#fff;border-radius:4px;"
        f"padding:6px 14px;display:inline-block'>{html.escape(content.cta or '')}</span>"
        f"<div style='display:flex;gap:8px;margin-top:14px'>{items}</div></div>"
    )


def sender_name(brand: str) -> str:
    """The From name the inbox shows: the brand guide's name, else the brand id."""
    try:
        return load_guide(brand).name
    except GenpersonaError:
        return brand


def render_variant(v: Variant, kind: str, sender: str) -> None:
    if kind == "subject_line":
        for client in CLIENTS:
            st.markdown(inbox_html(v.content, sender, client), unsafe_allow_html=True)
    elif kind == "hero":
        st.markdown(hero_html(v.content), unsafe_allow_html=True)
    else:
        st.markdown(html.escape(v.content.main_text()))


def render_previews(variants: list[Variant], kind: str, sender: str) -> None:
    """The variants side by side, best first, as the customer will see them."""
    if kind not in ("subject_line", "hero") or not variants:
        return
    st.subheader("What the customer sees")
    ordered = sorted(variants, key=lambda x: -x.scores.total)
    for col, v in zip(st.columns(len(ordered)), ordered, strict=True):
        with col:
            st.caption(
                f"Variant {v.index + 1}"
                + (f" · {v.content.recipe_id}" if v.content.recipe_id else "")
            )
            render_variant(v, kind, sender)
