"""Copies of the prompt's own examples: a line the model lifted from its few-shot records.

A small base model shown "Subject: Fresh bunting for your next garden party" will, now
and then, write exactly that line back for a customer who never bought bunting. It reads
as fluent, on-voice copy, so the sendable classifier and the brand-voice score both like
it; what is wrong is where it came from. This module names every line the completion
prompt showed the model (the recipes' subjects, preheaders, headlines and subheadlines,
the brand's sent lines, the approved exemplars) and measures how close a candidate is to
the nearest one, on words: 1.0 for the same line (case and punctuation aside), the
word-sequence match ratio otherwise, so "Fresh bunting for your next summer party" is a
near-duplicate while a line that borrows a three-word opening is not. A line that is a
whole clause lifted from inside an example (four words or more, in order: "It has been a
while" from "It has been a while, come and see what is new") counts as a copy too: in the
100-customer eval of 2026.12.2 such lifts were one top line in ten, the same five words
for five different customers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path

from genpersona.agent.recipes import load_recipes
from genpersona.types.content import ContentKind

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: word-sequence match ratio where the penalty starts, and where it is total
NEAR_FROM = 0.6
NEAR_FULL = 0.9
#: a line this long or longer found word for word inside an example line is a lift
LIFT_MIN_WORDS = 4
_FIELDS = {"subject_line": ("subject", "preheader"), "hero": ("headline", "subheadline")}


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def recipe_example_lines(prompts_dir: Path, kind: ContentKind) -> list[str]:
    """Every copy line of every recipe for ``kind`` (any of them may be in a prompt)."""
    fields = _FIELDS.get(kind)
    if not fields:
        return []
    book = load_recipes(prompts_dir)
    return [
        text
        for recipe in book.recipes.values()
        for example in recipe.examples(kind)
        for text in (getattr(example, f) for f in fields)
        if text
    ]


class ExampleMatcher:
    """The prompt's example lines, prepared once for many candidate lines: each example's
    words and its ``SequenceMatcher`` (whose index of the example is built once, not per
    candidate), and an upper bound (``quick_ratio``) that skips an example which cannot
    beat the closest one so far. The result is ``copied_from``'s, exactly. One per draft;
    not shared between threads (a matcher is stateful)."""

    def __init__(self, examples: Sequence[str]) -> None:
        self._examples: list[tuple[list[str], SequenceMatcher[str]]] = []
        for example in dict.fromkeys(examples):
            other = _words(example)
            if other:
                self._examples.append((other, SequenceMatcher(None, [], other, autojunk=False)))

    def closeness(self, text: str) -> float:
        """Closeness of ``text`` to the nearest example line, in [0, 1] (1.0: same words)."""
        words = _words(text)
        if not words or not self._examples:
            return 0.0
        best = 0.0
        for other, matcher in self._examples:
            if other == words or (len(words) >= LIFT_MIN_WORDS and _inside(words, other)):
                return 1.0
            matcher.set_seq1(words)
            if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
                continue  # both bound ratio() from above: this example cannot win
            best = max(best, matcher.ratio())
        return round(best, 4)


def copied_from(text: str, examples: Sequence[str] | ExampleMatcher) -> float:
    """Closeness of ``text`` to the nearest example line, in [0, 1] (1.0: the same words)."""
    matcher = examples if isinstance(examples, ExampleMatcher) else ExampleMatcher(examples)
    return matcher.closeness(text)


def _inside(words: list[str], other: list[str]) -> bool:
    """``words`` occurs as a contiguous run of ``other``."""
    n = len(words)
    return any(other[i : i + n] == words for i in range(len(other) - n + 1))


def copy_penalty(copied: float) -> float:
    """0 below ``NEAR_FROM``, 1 from ``NEAR_FULL``: a copied line keeps no quality."""
    return min(1.0, max(0.0, (copied - NEAR_FROM) / (NEAR_FULL - NEAR_FROM)))
