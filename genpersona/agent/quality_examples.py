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
from functools import lru_cache
from pathlib import Path

import numpy as np

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


class _Examples:
    """What a set of example lines is, prepared once for every draft that shows it (a
    brand's recipes and guide lines are the same for thousands of drafts in a campaign):
    each example's words, every run of ``LIFT_MIN_WORDS`` or more words of any example (a
    lift or an exact copy is then one set look-up, not a scan of every example), and a
    word-count matrix that bounds every example's match ratio in one numpy operation."""

    def __init__(self, examples: tuple[str, ...]) -> None:
        words = [w for w in (_words(e) for e in dict.fromkeys(examples)) if w]
        self.words = list({tuple(w): w for w in words}.values())
        self.exact = frozenset(tuple(w) for w in self.words)
        self.runs = frozenset(
            tuple(w[i:j])
            for w in self.words
            for i in range(len(w))
            for j in range(i + LIFT_MIN_WORDS, len(w) + 1)
        )
        self.vocab = {t: k for k, t in enumerate(dict.fromkeys(t for w in self.words for t in w))}
        self.counts = np.zeros((len(self.words), len(self.vocab)), dtype=np.int64)
        for row, w in enumerate(self.words):
            for t in w:
                self.counts[row, self.vocab[t]] += 1
        self.lengths = np.array([len(w) for w in self.words], dtype=np.int64)


@lru_cache(maxsize=64)
def _prepared(examples: tuple[str, ...]) -> _Examples:
    return _Examples(examples)


class ExampleMatcher:
    """The prompt's example lines, prepared once for many candidate lines. The closeness
    is the word-sequence match ratio to the nearest example (``SequenceMatcher.ratio``),
    found by visiting the examples in order of an upper bound of that ratio (the shared
    word counts, which is ``quick_ratio``) and stopping at the first that cannot beat the
    closest so far: the result is the plain maximum over every example, exactly, for a
    few ``ratio`` calls instead of one per example. One per draft; not shared between
    threads (its ``SequenceMatcher``s are stateful); the prepared examples are shared."""

    def __init__(self, examples: Sequence[str]) -> None:
        self._ex = _prepared(tuple(examples))
        self._matchers: dict[int, SequenceMatcher[str]] = {}

    def _ratio(self, row: int, words: list[str]) -> float:
        matcher = self._matchers.get(row)
        if matcher is None:  # its index of the example is built once per draft
            matcher = SequenceMatcher(None, [], self._ex.words[row], autojunk=False)
            self._matchers[row] = matcher
        matcher.set_seq1(words)
        return matcher.ratio()

    def closeness(self, text: str) -> float:
        """Closeness of ``text`` to the nearest example line, in [0, 1] (1.0: same words)."""
        words = _words(text)
        ex = self._ex
        if not words or not ex.words:
            return 0.0
        key = tuple(words)
        if key in ex.exact or (len(words) >= LIFT_MIN_WORDS and key in ex.runs):
            return 1.0
        line = np.zeros(len(ex.vocab), dtype=np.int64)
        for t in words:
            k = ex.vocab.get(t)
            if k is not None:
                line[k] += 1
        shared = np.minimum(ex.counts, line).sum(axis=1)
        bounds = 2.0 * shared / (ex.lengths + len(words))  # quick_ratio, every example
        best = 0.0
        for row in np.argsort(-bounds, kind="stable"):
            if bounds[row] <= best:
                break  # bounds only fall from here: no later example can win
            best = max(best, self._ratio(int(row), words))
        return round(best, 4)


def copied_from(text: str, examples: Sequence[str] | ExampleMatcher) -> float:
    """Closeness of ``text`` to the nearest example line, in [0, 1] (1.0: the same words)."""
    matcher = examples if isinstance(examples, ExampleMatcher) else ExampleMatcher(examples)
    return matcher.closeness(text)


def copy_penalty(copied: float) -> float:
    """0 below ``NEAR_FROM``, 1 from ``NEAR_FULL``: a copied line keeps no quality."""
    return min(1.0, max(0.0, (copied - NEAR_FROM) / (NEAR_FULL - NEAR_FROM)))
