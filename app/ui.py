"""Small presentation helpers shared by the console's views: flash messages, badges, highlights."""

from __future__ import annotations

import html
from datetime import datetime

import streamlit as st

from genpersona.db.base import utcnow
from genpersona.types.content import VariantContent
from genpersona.types.violations import Violation

FIELDS = ("subject", "preheader", "headline", "subheadline", "cta", "answer")
FIELD_LABELS = {
    "subject": "Subject",
    "preheader": "Preheader",
    "headline": "Headline",
    "subheadline": "Subheadline",
    "cta": "Button",
    "answer": "Answer",
}
KIND_LABELS = {
    "subject_line": "Email subject",
    "hero": "Landing hero",
    "chat_answer": "Chat answer",
}
STATUS_COLORS = {
    "pending": "blue",
    "approved": "green",
    "edited": "violet",
    "rejected": "red",
    "expired": "gray",
}

CSS = """
<style>
mark.gp-block { background: #ffd6d6; border-bottom: 2px solid #d33; padding: 0 2px; }
mark.gp-warn { background: #fff1c2; border-bottom: 2px solid #d9a400; padding: 0 2px; }
.gp-field { margin: 0.1rem 0 0.4rem 0; font-size: 1.05rem; line-height: 1.45; }
.gp-label { color: #6b7280; font-size: 0.75rem; text-transform: uppercase; letter-spacing: .04em; }
del.gp { background: #ffe3e3; color: #9b1c1c; }
ins.gp { background: #dcfce7; color: #166534; text-decoration: none; }
</style>
"""


def inject_css() -> None:
    st.markdown(CSS, unsafe_allow_html=True)


def flash(kind: str, message: str) -> None:
    """Queue a message to show at the top of the next run (callbacks cannot place elements)."""
    st.session_state.setdefault("flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("flash", []):
        getattr(st, kind)(message)


def age(ts: datetime | None) -> str:
    if ts is None:
        return ""
    seconds = max(0, int((utcnow() - ts).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def status_badge(status: str) -> str:
    return f":{STATUS_COLORS.get(status, 'gray')}-badge[{status}]"


def _field_offsets(content: VariantContent) -> list[tuple[str, str, int]]:
    """(field, text, offset in all_text()) in the order all_text() joins them."""
    out: list[tuple[str, str, int]] = []
    offset = 0
    for field in FIELDS:
        text = getattr(content, field)
        if text:
            out.append((field, text, offset))
            offset += len(text) + 1
    return out


def _marks_for(
    field: str, text: str, offset: int, violations: list[Violation]
) -> list[tuple[int, int, str]]:
    marks: list[tuple[int, int, str]] = []
    for v in violations:
        if v.span is None or not v.span.text:
            continue
        start = v.span.start - offset
        if start >= 0 and text[start : start + len(v.span.text)] == v.span.text:
            marks.append((start, start + len(v.span.text), v.severity))
            continue
        found = text.lower().find(v.span.text.lower())  # spans from older drafts, other offsets
        if found >= 0 and getattr(v, "field", None) in (None, field):
            marks.append((found, found + len(v.span.text), v.severity))
    marks.sort()
    merged: list[tuple[int, int, str]] = []
    for m in marks:
        if merged and m[0] < merged[-1][1]:
            continue
        merged.append(m)
    return merged


def highlighted_fields(content: VariantContent, violations: list[Violation]) -> str:
    """HTML of the variant's fields with each violation's span marked (red block, amber warn)."""
    parts: list[str] = []
    for field, text, offset in _field_offsets(content):
        pieces: list[str] = []
        cursor = 0
        for start, end, severity in _marks_for(field, text, offset, violations):
            pieces.append(html.escape(text[cursor:start]))
            pieces.append(f'<mark class="gp-{severity}">{html.escape(text[start:end])}</mark>')
            cursor = end
        pieces.append(html.escape(text[cursor:]))
        parts.append(
            f'<div class="gp-label">{FIELD_LABELS[field]}</div>'
            f'<div class="gp-field">{"".join(pieces)}</div>'
        )
    for item in content.featured_items:
        price = f" · £{item.price:.2f}" if item.price is not None else ""
        parts.append(
            f'<div class="gp-label">Featured item</div>'
            f'<div class="gp-field">{html.escape(item.description)} '
            f"<small>({html.escape(item.stock_code)}{price})</small></div>"
        )
    return "".join(parts)


def diff_html(ops: list[dict]) -> str:
    """A reviewer's edit as struck-out and inserted words, field by field."""
    rows = []
    for op in ops:
        old = f'<del class="gp">{html.escape(op["old"])}</del>' if op["old"] else ""
        new = f'<ins class="gp">{html.escape(op["new"])}</ins>' if op["new"] else ""
        label = FIELD_LABELS.get(op["field"], op["field"])
        rows.append(f"<div><span class='gp-label'>{label}</span> {old} {new}</div>")
    return "".join(rows)
