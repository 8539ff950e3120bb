"""Undo the disguises a word rule would miss, and remember where every character came from.

Two views of a field are built, each with an offset map back to the original text, so a
violation found in a view is reported on the characters the writer actually typed:

* ``compat`` (every check runs on it): Unicode NFKC (fullwidth "ｆｒｅｅ", ligatures,
  superscripts) plus the 1:1 look-alike table of :mod:`genpersona.guard.text`.
* ``folded`` (word rules run on it too): digit/symbol-for-letter inside words ("pr3gn4nt",
  "fr€e" is left alone, "$ale" -> "sale") and separators inside words
  ("p.r.e.g.n.a.n.t", "p-r-e-g", "p r e g n a n t", "preg.nant").

The folded view is only built when the field has something to fold, and the engine keeps a
folded-view hit only when its span covers a folded character, so plain text costs one
``str.isascii`` scan and innocent numbers ("2024", "£5", "SKU 4021A", "10am") never change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from genpersona.guard.text import normalize as lookalikes

# NFKC would turn these into letters a caps or length rule then counts ("™" -> "TM")
_KEEP = frozenset("™℠…")
LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
}
# "1" reads as either letter: "1gbt" is "lgbt", "d1et" is "diet"; the folder tries both
_ONE_ALT = "l"
# a run of letters and leet characters (no spaces): the unit leetspeak is decoded in
_WORDISH = re.compile(r"(?:[@$]|[^\W_])[^\W_]*(?:[@$!|][^\W_]+)*")
# number + unit or ordinal ("10am", "50p", "4x4", "1st", "100ml", "3D"): never leetspeak
_NUMBER_UNIT = re.compile(
    r"\d+(?:[.,]\d+)?(?:st|nd|rd|th|am|pm|p|ml|l|cl|g|kg|mg|cm|mm|m|km|k|x\d*|s|in|ft|oz|lb|lbs"
    r"|yr|yrs|mo|d|h|hr|hrs|min|mins|gb|mb|tb|w|kw|v|mah|ah|hz|d|pc|pcs|pk|cm2|ish)",
    re.IGNORECASE,
)
# single characters kept apart by one repeated separator: "p.r.e.g", "p-r-e-g", "p r e g"
_SPACED = re.compile(r"(?<![^\W_])[^\W_](?:(?P<sep>[ .\-_*·•/]{1,2})[^\W_]){3,}(?![^\W_])")
# a separator wedged between letters of one word ("preg.nant", "pr*gnant", "mis·carriage")
_WEDGE = re.compile(r"(?<=[^\W\d_])[.*_·•](?=[^\W\d_])")


@dataclass(slots=True)
class View:
    """Text plus, for each of its characters, the index of the original character."""

    text: str
    origin: list[int]  # len(text) + 1 entries; the last is len(original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of the view's [start, end)."""
        if end <= start:
            o = self.origin[start]
            return o, o
        return self.origin[start], self.origin[end - 1] + 1


def identity(text: str) -> View:
    return View(text, list(range(len(text) + 1)))


def compat(raw: str) -> View:
    """NFKC + look-alikes. Identity offsets whenever NFKC leaves the text alone (nearly always)."""
    if raw.isascii() or unicodedata.is_normalized("NFKC", raw):
        return identity(lookalikes(raw))
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(raw):
        piece = ch if ch in _KEEP else unicodedata.normalize("NFKC", ch)
        out.append(piece)
        origin.extend([i] * len(piece))
    origin.append(len(raw))
    return View(lookalikes("".join(out)), origin)


def _needs_folding(text: str) -> bool:
    return any(ch in LEET for ch in text) or bool(_WEDGE.search(text) or _SPACED.search(text))


def _decode_word(word: str, one: str) -> str | None:
    """The word with leet characters read as letters, or None when it is not leetspeak."""
    letters = sum(ch.isalpha() for ch in word)
    if letters == 0 or not any(ch in LEET for ch in word) or _NUMBER_UNIT.fullmatch(word):
        return None
    if letters < 2 or len(word) < 3 or (len(word) == 3 and word.isupper()):
        return None  # short codes: "A4", "B2B", "5EX", "3D", "CO2"; "FR33" is still read
    return "".join(one if ch == "1" else LEET.get(ch, ch) for ch in word)


def _unseparate(view: View) -> View:
    """Drop separators inside words: "p.r.e.g.n.a.n.t", "p r e g n a n t", "preg.nant"."""
    text = view.text
    keep = [True] * len(text)
    for m in _SPACED.finditer(text):
        # one separator repeated throughout, between single characters, so "A to Z",
        # "S/M/L" or "a b-c" never collapse
        parts = m.group().split(m.group("sep"))
        if len(parts) < 4 or any(len(p) != 1 for p in parts):
            continue
        for j in range(m.start(), m.end()):
            if not text[j].isalnum():
                keep[j] = False
    for m in _WEDGE.finditer(text):
        keep[m.start()] = False
    if all(keep):
        return view
    origin = [o for o, k in zip(view.origin, keep, strict=False) if k] + [view.origin[-1]]
    return View("".join(ch for ch, k in zip(text, keep, strict=True) if k), origin)


def _fold(view: View, one: str) -> View:
    view = _unseparate(view)
    text = view.text
    out: list[str] = []
    pos = 0
    for m in _WORDISH.finditer(text):
        decoded = _decode_word(m.group(), one)
        if decoded is not None:
            out += [text[pos : m.start()], decoded]  # same length: offsets stay 1:1
            pos = m.end()
    if not out:
        return view
    out.append(text[pos:])
    return View("".join(out), view.origin)


def folded(view: View) -> list[View]:
    """The folded views of a compat view: none when nothing is disguised (the common case),
    one when decoding changes text, two when a "1" could be an "i" or an "l"."""
    if not _needs_folding(view.text):
        return []
    first = _fold(view, LEET["1"])
    out = [first] if first.text != view.text else []
    if "1" in view.text:
        second = _fold(view, _ONE_ALT)
        if second.text != first.text and second.text != view.text:
            out.append(second)
    return out


def changed(view: View, base: View, start: int, end: int) -> bool:
    """Whether the view's [start, end) holds a character the folding changed or dropped."""
    o_start, o_end = view.span(start, end)
    base_chars = {o: ch for o, ch in zip(base.origin, base.text, strict=False)}
    prev = None
    for i in range(start, end):
        o = view.origin[i]
        if base_chars.get(o) != view.text[i] or (prev is not None and o != prev + 1):
            return True
        prev = o
    return o_end - o_start != end - start
