"""How a line is built: its function-word skeleton, and words it says twice.

The 270M model's bad lines are fluent-looking: every word is a real word and most word
pairs are common, so a keyword-list detector passes them ("A set of regency cake for tea
for two", "Soft, fresh linen, for the sofa and the window seat."). What gives many of them
away is the *skeleton*: the line with every content word replaced by its class
("a <n> of <n> <n> for <n> for <n>"), read by a small trigram model of how human headlines
are built. The skeleton model is trained on Upworthy headlines that are *not* among the
classifier's positives (``python -m evals.copy.train`` writes ``quality_structure.json``),
so a line does not score well merely for being a training positive. It costs a few dict
look-ups per line: cheap enough for every candidate of a campaign.

The features read here (``structure_features``):

- ``struct_mean`` / ``struct_min``: the skeleton's mean and lowest trigram log-probability
  (scaled to about [0, 1]); a line whose skeleton no headline has is odd, whatever its words;
- ``addresses_reader``: "you" / "your" (shop copy speaks to the reader; the model's bad
  lines often talk about a third party or nobody);
- ``ends_period``: a full stop at the end (subject lines rarely carry one; the model's
  run-on preheaders do);
- ``noun_pile``: the longest run of content words with no function word, over the length
  ("regency cake", "pick up sticks and the house");
- ``comma_for``: a comma followed by "for" / "with" / "ready" / "to" -- the model's tic of
  bolting a purpose on ("..., for the next birthday party.").

``pair_repeat(main, second)`` is the share of the second line's content words that the
main line already says: a preheader that repeats its subject wastes the customer's second
line ("A brand new year's resolution." / "... to buy the new year's resolution."), and
ranking reads it (``quality_ranking.copy_quality``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import BaseModel

STRUCTURE_PATH = Path(__file__).with_name("quality_structure.json")
STRUCTURE_FEATURES = [
    "struct_mean",
    "struct_min",
    "addresses_reader",
    "ends_period",
    "noun_pile",
    "comma_for",
]
#: interpolation weights of the trigram, bigram and unigram estimates
_LAMBDAS = (0.6, 0.3, 0.1)
#: log-probability that maps to 0.0 in the scaled features (anything lower is clipped)
_FLOOR = -12.0

_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*|\d+|[,.!?:;]")
_PUNCT = frozenset(",.!?:;")
_READER = frozenset(["you", "your", "yours", "you're", "you'll", "you've", "yourself"])
_PURPOSE = frozenset(["for", "with", "ready", "to", "perfect", "made"])


def _word_class(word: str) -> str:
    """A content word's class: its suffix is what the skeleton keeps of it."""
    if word.isdigit():
        return "<d>"
    for suffix, tag in (("ing", "<ing>"), ("ed", "<ed>"), ("ly", "<ly>"), ("s", "<s>")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            return tag
    return "<w>"


def skeleton(text: str, function_words: Iterable[str]) -> list[str]:
    """The line as function words, punctuation and content-word classes, with start and
    end marks: "A set of regency cake" -> <s> a <w> of <w> <w> </s>."""
    keep = frozenset(function_words)
    out = ["<s>"]
    for tok in _TOKEN_RE.findall(text):
        low = tok.lower()
        out.append(low if low in keep or low in _PUNCT else _word_class(low))
    return out + ["</s>"]


class StructureModel(BaseModel):
    """Trigram counts of headline skeletons (keys joined by a space)."""

    version: str
    function_words: list[str]
    unigrams: dict[str, int]
    bigrams: dict[str, int]
    trigrams: dict[str, int]
    lines: int

    def logprobs(self, text: str) -> list[float]:
        """Each skeleton token's interpolated log-probability given the two before it."""
        sk = skeleton(text, self.function_words)
        total = sum(self.unigrams.values())
        vocab = len(self.unigrams) + 1
        out: list[float] = []
        for i in range(1, len(sk)):
            w, p1 = sk[i], sk[i - 1]
            p2 = sk[i - 2] if i >= 2 else "<s>"
            uni = (self.unigrams.get(w, 0) + 1) / (total + vocab)
            c1 = self.unigrams.get(p1, 0)
            bi = self.bigrams.get(f"{p1} {w}", 0) / c1 if c1 else 0.0
            c2 = self.bigrams.get(f"{p2} {p1}", 0)
            tri = self.trigrams.get(f"{p2} {p1} {w}", 0) / c2 if c2 else 0.0
            lt, lb, lu = _LAMBDAS
            out.append(math.log(lt * tri + lb * bi + lu * uni))
        return out


def fit_structure(
    lines: Iterable[str], function_words: Iterable[str], version: str
) -> StructureModel:
    """Count the skeletons of ``lines`` (human-written headlines)."""
    fw = sorted(set(function_words))
    uni: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    tri: Counter[str] = Counter()
    n = 0
    for line in lines:
        sk = skeleton(line, fw)
        n += 1
        uni.update(sk)
        bi.update(f"{a} {b}" for a, b in zip(sk, sk[1:], strict=False))
        padded = ["<s>", *sk]
        tri.update(f"{a} {b} {c}" for a, b, c in zip(padded, padded[1:], padded[2:], strict=False))
    # a trigram seen once is noise at this size; its bigram and unigram still count
    tri = Counter({k: v for k, v in tri.items() if v >= 2})
    return StructureModel(version=version, function_words=fw, unigrams=dict(uni),
                          bigrams=dict(bi), trigrams=dict(tri), lines=n)  # fmt: skip


@cache
def load_structure(path: Path = STRUCTURE_PATH) -> StructureModel:
    return StructureModel.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _scaled(lp: float) -> float:
    return max(0.0, min(1.0, 1.0 - lp / _FLOOR))


def _content(low: list[str], function_words: frozenset[str]) -> list[str]:
    return [w for w in low if w not in function_words and w not in _PUNCT]


def structure_features(
    text: str, function_words: frozenset[str], model: StructureModel | None = None
) -> list[float]:
    """The features of ``STRUCTURE_FEATURES``, in that order."""
    toks = [t.lower() for t in _TOKEN_RE.findall(text)]
    words = [t for t in toks if t not in _PUNCT]
    if not words:
        return [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    lps = (model or load_structure()).logprobs(text)
    run = best = 0
    for w in words:
        run = run + 1 if w not in function_words else 0
        best = max(best, run)
    comma_for = any(a == "," and b in _PURPOSE for a, b in zip(toks, toks[1:], strict=False))
    return [
        _scaled(sum(lps) / len(lps)),
        _scaled(min(lps)),
        1.0 if any(w in _READER for w in words) else 0.0,
        1.0 if text.rstrip().endswith(".") else 0.0,
        best / len(words),
        1.0 if comma_for else 0.0,
    ]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _content_stems(text: str, function_words: frozenset[str]) -> list[str]:
    low = [t.lower() for t in _TOKEN_RE.findall(text)]
    return [_stem(w) for w in _content(low, function_words) if len(w) > 2]


def pair_repeat(main: str, second: str, function_words: frozenset[str]) -> float:
    """Share of ``second``'s content words (stemmed, three letters or more) that ``main``
    already has, in [0, 1]; 0 when the second line has none."""
    said = set(_content_stems(main, function_words))
    words = _content_stems(second, function_words)
    if not words:
        return 0.0
    return sum(w in said for w in words) / len(words)
