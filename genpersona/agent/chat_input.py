"""The customer's chat message as the pipeline sees it: bounded, question first, never orders.

A message can be long (a pasted email, a quoted document) and the question is
usually at its end, so cutting at the first N characters loses it. ``condense``
keeps the message's last question sentences in full, then a head and a tail
window around an elision mark, within ``Settings.chat_message_window``. The
chat route and the OpenAI-compatible route both call ``chat_reply``, which calls
this, so both behave the same.
"""

from __future__ import annotations

import re

ELISION = " […] "
_SENTENCE_RE = re.compile(r"[^.!?\n]*[^.!?\n\s][^.!?\n]*(?:[.!?]+|$)", re.MULTILINE)


def question_sentences(text: str) -> list[str]:
    """Sentences that ask something, in order (a '?' or a question word opening them)."""
    out = []
    for m in _SENTENCE_RE.finditer(text):
        s = m.group().strip()
        if s.endswith("?") or re.match(
            r"(?i)(?:how|what|when|where|why|which|who|do|does|did|can|could|is|are|will|would)\b",
            s,
        ):
            out.append(s)
    return out


def focus_question(text: str, limit: int = 300) -> str:
    """What to retrieve for: the last question (plus the one before, if short), else the
    message's tail."""
    qs = question_sentences(text)
    if not qs:
        flat = " ".join(text.split())
        return flat[-limit:]
    picked = qs[-1]
    if len(qs) > 1 and len(qs[-2]) + len(picked) < limit:
        picked = f"{qs[-2]} {picked}"
    return picked[:limit]


def condense(text: str, window: int) -> str:
    """``text`` within ``window`` characters, keeping the last questions whole."""
    flat = " ".join(text.split())
    if len(flat) <= window:
        return flat
    question = focus_question(flat, limit=window // 2)
    rest = window - len(question) - 2 * len(ELISION)
    head_len = max(0, rest // 3)
    tail_len = max(0, rest - head_len)
    head = flat[:head_len].rstrip()
    tail = flat[-tail_len:].lstrip() if tail_len else ""
    if question and question in tail:
        return f"{head}{ELISION}{tail}".strip()
    return f"{head}{ELISION}{tail}{ELISION}{question}".strip()
