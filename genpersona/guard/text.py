"""Fast whole-word phrase matching shared by the validators.

Text is tokenized once per field; phrases are looked up by their first token in
a dict, so a check costs O(tokens) whatever the size of the guide's word lists
(a regex alternation of hundreds of terms would be tried at every position).
Whole-token matching is also what keeps "class" from matching "ass".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# what may separate the words of one phrase: spaces, hyphens/dashes, a dot ("U.S.")
_GAP_RE = re.compile(r"[\s\-\u2010-\u2014.]{0,3}")
# 1:1 character translation (offsets stay valid): curly quotes and dashes to ASCII
_NORMALIZE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "\u2011": "-",
        "\u00a0": " ",
        # Cyrillic and Greek look-alikes, so "frее" (Cyrillic е) cannot slip past a word rule
        **dict(
            zip(
                "аеорсухіјѕԁАВЕКМНОРСТХІЈЅοαειкνρτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
                "aeopcyxijsdABEKMHOPCTXIJSoaeikvptyxABEHIKMNOPTYX",
                strict=True,
            )
        ),
    }
)
_VOWELS = set("aeiou")


def normalize(text: str) -> str:
    return text.translate(_NORMALIZE)


@dataclass(slots=True)
class Token:
    text: str
    lower: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    return [
        Token(m.group(), m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)
    ]


def inflections(word: str) -> set[str]:
    """Plural and simple verb forms of ``word`` ("hurry" -> hurries, hurried, hurrying)."""
    w = word.lower()
    forms = {w, w + "s", w + "'s"}
    if not w.isalpha() or len(w) < 3:
        return forms
    if w.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(w + "es")
    if w.endswith("e"):
        forms |= {w + "d", w[:-1] + "ing"}
    elif w.endswith("y") and w[-2] not in _VOWELS:
        forms |= {w[:-1] + "ies", w[:-1] + "ied", w + "ing"}
    else:
        forms |= {w + "ed", w + "ing"}
        if len(w) <= 4 and w[-1] not in _VOWELS | {"w", "x", "y"} and w[-2] in _VOWELS:
            forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    return forms


@dataclass(slots=True)
class Match:
    start: int  # char offsets in the field text
    end: int
    text: str
    payload: Any
    variant: str  # the phrase form that matched (lower case unless case-sensitive)
    tok_start: int = 0
    tok_end: int = 0


@dataclass
class _Entry:
    tokens: tuple[str, ...]
    payload: Any
    case_sensitive: bool
    variant: str


@dataclass
class PhraseMatcher:
    """Whole-word, multi-word phrase lookup keyed on the first token."""

    _ci: dict[str, list[_Entry]] = field(default_factory=dict)
    _cs: dict[str, list[_Entry]] = field(default_factory=dict)
    size: int = 0

    def add(
        self, phrase: str, payload: Any, *, inflect: bool = False, case_sensitive: bool = False
    ) -> None:
        toks = [m.group() for m in TOKEN_RE.finditer(normalize(phrase))]
        if not toks:
            return
        if inflect and case_sensitive:
            last_forms = {toks[-1], toks[-1] + "s"}
        elif inflect:
            last_forms = inflections(toks[-1])
        else:
            last_forms = {toks[-1]}
        for last in last_forms:
            parts = [*toks[:-1], last]
            key_parts = tuple(parts if case_sensitive else (p.lower() for p in parts))
            entry = _Entry(key_parts, payload, case_sensitive, " ".join(key_parts))
            index = self._cs if case_sensitive else self._ci
            bucket = index.setdefault(key_parts[0], [])
            if all(e.tokens != key_parts or e.payload is not payload for e in bucket):
                bucket.append(entry)
                bucket.sort(key=lambda e: -len(e.tokens))
                self.size += 1

    def add_all(self, phrases: Iterable[str], payload: Any, **kw: Any) -> None:
        for p in phrases:
            self.add(p, payload, **kw)

    def find(self, text: str, tokens: list[Token], *, overlapping: bool = False) -> list[Match]:
        """Longest match at each token; non-overlapping unless asked otherwise."""
        out: list[Match] = []
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            cands = self._ci.get(tok.lower, []) + self._cs.get(tok.text, [])
            best: Match | None = None
            for e in cands:
                k = len(e.tokens)
                if i + k > n or (best and k <= best.tok_end - best.tok_start):
                    continue
                if self._fits(text, tokens, i, e):
                    end = tokens[i + k - 1].end
                    best = Match(
                        tok.start, end, text[tok.start : end], e.payload, e.variant, i, i + k
                    )
                    if not overlapping:
                        break
                    out.append(best)
                    best = None
            if best is not None and not overlapping:
                out.append(best)
                i = best.tok_end
            else:
                i += 1
        return out

    @staticmethod
    def _fits(text: str, tokens: list[Token], i: int, e: _Entry) -> bool:
        for j, want in enumerate(e.tokens):
            tok = tokens[i + j]
            if (tok.text if e.case_sensitive else tok.lower) != want:
                return False
            if j and not _GAP_RE.fullmatch(text, tokens[i + j - 1].end, tok.start):
                return False
        return True


def is_sentence_start(text: str, pos: int) -> bool:
    j = pos - 1
    while j >= 0 and text[j] in " \t\"'“‘(":
        j -= 1
    return j < 0 or text[j] in ".!?:\n"


def match_case(template: str, replacement: str) -> str:
    """Give ``replacement`` the capitalisation pattern of ``template``."""
    if template.isupper() and len(template) > 1:
        return replacement.upper()
    if template[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement
