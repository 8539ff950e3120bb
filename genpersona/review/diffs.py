"""Word-level diffs of a reviewer's edit: kept with the decision, counted for insights, mined for rules.

A diff is a list of plain dicts (JSON-ready) so it can be stored as-is:
``{"field": "subject", "op": "replace", "old": "Buy", "new": "Shop", "pos": 0}``
where ``pos`` is the word offset in the original field.
"""

from __future__ import annotations

import difflib
import string
from typing import Any

from genpersona.types.content import VariantContent

TEXT_FIELDS = ("subject", "preheader", "headline", "subheadline", "cta", "answer")
#: substitutions longer than this (in words, either side) are rewrites, not term swaps
MAX_TERM_WORDS = 3
_STRIP = string.punctuation + "“”‘’«»…–—"


def diff_content(old: VariantContent, new: VariantContent) -> list[dict[str, Any]]:
    """Word-level changes field by field, plus a change of featured items if any."""
    ops: list[dict[str, Any]] = []
    for field in TEXT_FIELDS:
        before = (getattr(old, field) or "").split()
        after = (getattr(new, field) or "").split()
        if before == after:
            continue
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            ops.append(
                {
                    "field": field,
                    "op": tag,
                    "old": " ".join(before[i1:i2]),
                    "new": " ".join(after[j1:j2]),
                    "pos": i1,
                }
            )
    old_items = [i.stock_code for i in old.featured_items]
    new_items = [i.stock_code for i in new.featured_items]
    if old_items != new_items:
        ops.append(
            {
                "field": "featured_items",
                "op": "replace",
                "old": " ".join(old_items),
                "new": " ".join(new_items),
                "pos": 0,
            }
        )
    return ops


def edit_size(ops: list[dict[str, Any]]) -> int:
    """Words removed plus words added: 'Buy now' -> 'Shop now' is 2."""
    return sum(len(op["old"].split()) + len(op["new"].split()) for op in ops)


def _normalize_term(term: str) -> str:
    words = [w.strip(_STRIP) for w in term.lower().split()]
    return " ".join(w for w in words if w)


def substitutions(ops: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Short (old -> new) term swaps in an edit, normalized so repeats can be counted.

    Case and surrounding punctuation are ignored ('Cheap!' -> 'affordable' counts
    as 'cheap' -> 'affordable'); swaps that differ only in those are not swaps.
    """
    found: list[tuple[str, str]] = []
    for op in ops:
        if op["op"] != "replace" or op["field"] == "featured_items":
            continue
        old, new = _normalize_term(op["old"]), _normalize_term(op["new"])
        if not old or not new or old == new:
            continue
        if len(old.split()) > MAX_TERM_WORDS or len(new.split()) > MAX_TERM_WORDS:
            continue
        pair = (old, new)
        if pair not in found:
            found.append(pair)
    return found
