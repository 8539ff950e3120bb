"""Copy quality: would a marketer send this line, or is it a keyword list, a fragment, an echo?

The old ranking rewarded overlap with the customer's themes, so the best-scoring
"subject line" was the prompt's interests line copied back as a list. This scorer
reads the *form* of a line, which keyword stuffing cannot fake:

- ``sendable``: a logistic regression on lexical features (function-word share,
  commas per word, list shape, a dangling last word, repetition, title-case runs...)
  trained on human-written copy (Upworthy headlines in sentence case, the guide's and
  the recipes' examples) against degenerate copy generated from the same vocabulary
  (keyword lists, fragments, repetitions, truncations). The trained weights ship with
  the package (``quality_model.json``; retrain with ``python -m evals.copy.train``).
- ``echo``: how much of the line is the prompt's context copied verbatim.
- ``fluency``: the model's own mean token log-probability, where the backend returns it
  (a weak signal: copying the prompt is fluent too, so it only nudges).

``quality = sendable * (1 - echo penalty)`` nudged by fluency. Ranking multiplies
relevance and specificity by it (a list of themes earns no "personal" credit) and adds
it with a weight large enough that no keyword list outranks a fluent line.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel

QUALITY_VERSION = "copy-quality-2026.12.1"
MODEL_PATH = Path(__file__).with_name("quality_model.json")
#: below this, a line is treated as not sendable (a hard step in ranking)
SENDABLE_THRESHOLD = 0.35
ECHO_WEIGHT = 0.8
FLUENCY_WEIGHT = 0.15

_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*|\d+")
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "over",
        "under",
        "about",
        "your",
        "you",
        "our",
        "we",
        "us",
        "my",
        "me",
        "it",
        "its",
        "it's",
        "is",
        "are",
        "was",
        "be",
        "been",
        "this",
        "that",
        "these",
        "those",
        "what",
        "who",
        "how",
        "why",
        "when",
        "where",
        "which",
        "there",
        "here",
        "just",
        "all",
        "every",
        "some",
        "one",
        "little",
        "more",
        "most",
        "so",
        "not",
        "no",
        "now",
        "can",
        "will",
        "would",
        "could",
        "should",
        "may",
        "might",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "get",
        "got",
        "let",
        "make",
        "makes",
        "made",
        "come",
        "see",
        "find",
        "give",
        "take",
        "keep",
        "than",
        "then",
        "too",
        "very",
        "as",
        "if",
        "up",
        "out",
        "off",
        "back",
        "new",
    ]
)
DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "your",
        "our",
        "my",
        "this",
        "that",
        "its",
        "is",
        "are",
    ]
)
VERBISH = frozenset(
    [
        "is",
        "are",
        "was",
        "be",
        "make",
        "makes",
        "made",
        "come",
        "comes",
        "see",
        "find",
        "give",
        "gives",
        "take",
        "keep",
        "keeps",
        "let",
        "meet",
        "bring",
        "brings",
        "brighten",
        "wrap",
        "wraps",
        "light",
        "lights",
        "love",
        "loves",
        "called",
        "wants",
        "deck",
        "fill",
        "fills",
        "top",
        "pick",
        "treat",
        "say",
        "says",
        "feel",
        "feels",
        "need",
        "needs",
        "get",
        "gets",
        "try",
        "run",
        "running",
        "saved",
        "waiting",
        "landed",
        "arrived",
        "welcome",
        "discover",
        "spruce",
    ]
)
#: words of copy that could be about any shop, any customer
GENERIC = frozenset(
    [
        "products",
        "product",
        "items",
        "item",
        "deals",
        "deal",
        "goods",
        "range",
        "selection",
        "collection",
        "store",
        "stock",
        "website",
        "site",
        "online",
        "offers",
        "offer",
        "prices",
        "price",
        "quality",
        "best",
        "great",
        "amazing",
        "click",
        "check",
        "browse",
        "available",
        "today",
        "everyone",
        "something",
        "stuff",
        "things",
    ]
)
DETERMINERS = frozenset(["a", "an", "the", "your", "our", "my", "this", "that"])
#: function words a determiner may precede ("the new", "a little", "your next")
_AFTER_DET_OK = frozenset(
    ["little", "new", "more", "most", "very", "one", "next", "own", "first", "last", "best"]
)
FEATURES = [
    "bias",
    "n_words",
    "very_short",
    "function_share",
    "has_function",
    "comma_per_word",
    "list_shape",
    "dangling_end",
    "distinct_ratio",
    "repeated_bigram",
    "title_case_share",
    "verbish",
    "odd_end_punct",
    "digit_share",
    "avg_word_len",
    "starts_lower",
    "generic_share",
    "doubled_word",
    "det_then_function",
]


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def features(text: str) -> list[float]:
    """The lexical features of one line (order: ``FEATURES``)."""
    toks = tokens(text)
    low = [t.lower() for t in toks]
    n = len(toks)
    if n == 0:
        return [1.0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    commas = text.count(",") + text.count(";") + text.count("|")
    func = sum(w in FUNCTION_WORDS for w in low)
    # "a, b, c" / "a, b and c": comma-separated chunks of at most three content words
    chunks = [c.strip() for c in re.split(r"[,;|]", text) if c.strip()]
    short_chunks = sum(
        len(tokens(c)) <= 3 and not any(w.lower() in FUNCTION_WORDS for w in tokens(c))
        for c in chunks
    )
    list_shape = (
        1.0 if len(chunks) >= 3 and short_chunks >= 2 else short_chunks / max(3, len(chunks))
    )
    bigrams = list(zip(low, low[1:], strict=False))
    inner = toks[1:]
    title = sum(t[0].isupper() for t in inner if t.lower() not in {"i"}) / max(1, len(inner))
    stripped = text.rstrip()
    return [
        1.0,
        min(n, 16) / 16,
        1.0 if n <= 2 else 0.0,
        func / n,
        1.0 if func else 0.0,
        min(commas / n, 1.0),
        list_shape,
        1.0 if low[-1] in DANGLING or stripped.endswith(("-", ",", ":", "&")) else 0.0,
        len(set(low)) / n,
        1.0 if len(set(bigrams)) < len(bigrams) else 0.0,
        title,
        1.0 if any(w in VERBISH or w.endswith(("ing", "ed")) for w in low) else 0.0,
        1.0 if stripped.endswith((",", "-", ":", ";", "&", "/")) else 0.0,
        sum(t.isdigit() for t in toks) / n,
        min(sum(len(t) for t in toks) / n, 12) / 12,
        1.0 if text.strip()[:1].islower() else 0.0,
        sum(w in GENERIC for w in low) / n,
        1.0 if any(a == b for a, b in bigrams) else 0.0,
        sum(a in DETERMINERS and b in FUNCTION_WORDS and b not in _AFTER_DET_OK for a, b in bigrams)
        / n,  # fmt: skip
    ]


class QualityModel(BaseModel):
    version: str
    features: list[str]
    coef: list[float]
    trained_on: dict[str, float] = {}

    def sendable(self, text: str) -> float:
        x = features(text)
        z = sum(c * v for c, v in zip(self.coef, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def load_model(path: Path = MODEL_PATH) -> QualityModel:
    model = QualityModel.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if model.features != FEATURES:
        # a feature list that drifted from the weights would score silently wrong
        raise ValueError(
            f"{path.name} was trained on other features; retrain: python -m evals.copy.train"
        )
    return model


def _phrases(context: list[str]) -> list[list[str]]:
    return [p for p in ([w.lower() for w in tokens(c)] for c in context) if p]


#: the prompt's own framing, or copy that tells the customer what we know about them
_META_RE = re.compile(
    r"\b(customer likes|interests?:|campaign:|background:|angle:|based on your|because you "
    r"(like|love|bought|often)|you (often )?bought|your (favourite )?(themes|interests?)|"
    r"who often buys|as you bought|since you often)\b",
    re.IGNORECASE,
)


def echo(text: str, context: list[str]) -> float:
    """How much of ``text`` is the prompt's context copied back, in [0, 1].

    1.0 when two or more context phrases (themes, product names) appear verbatim, or
    one phrase of four words or more (a catalogue description); otherwise the share of the line's content words
    that are context words."""
    low = [w.lower() for w in tokens(text)]
    if _META_RE.search(text):
        return 1.0
    if not low or not context:
        return 0.0
    joined = " " + " ".join(low) + " "
    verbatim = [p for p in _phrases(context) if f" {' '.join(p)} " in joined]
    if len(verbatim) >= 2 or any(len(p) >= 4 for p in verbatim):
        return 1.0
    content = [w for w in low if w not in FUNCTION_WORDS]
    if not content:
        return 0.0
    ctx_words = {w for p in _phrases(context) for w in p if w not in FUNCTION_WORDS}
    return sum(w in ctx_words for w in content) / len(content)


def fluency_score(mean_logprob: float | None) -> float | None:
    """Mean token log-probability -> [0, 1] (about 0.5 at -2.5 nats per token)."""
    if mean_logprob is None:
        return None
    return 1.0 / (1.0 + math.exp(-(mean_logprob + 2.5) / 0.6))


class QualityReading(BaseModel):
    sendable: float
    echo: float
    fluency: float | None
    quality: float


def assess(text: str, context: list[str], mean_logprob: float | None = None) -> QualityReading:
    """The copy-quality reading of one line against the context its prompt carried."""
    sendable = load_model().sendable(text)
    e = echo(text, context)
    # a line that uses the customer's words is on topic; one made of nothing else (or of
    # verbatim phrases, scored 1.0) is copying
    penalty = ECHO_WEIGHT * max(0.0, (e - 0.8) / 0.2)
    q = sendable * (1.0 - penalty)
    flu = fluency_score(mean_logprob)
    if flu is not None:
        q = (1 - FLUENCY_WEIGHT) * q + FLUENCY_WEIGHT * flu * (
            1.0 if q >= SENDABLE_THRESHOLD else 0.0
        )
    return QualityReading(sendable=round(sendable, 4), echo=round(e, 4),
                          fluency=None if flu is None else round(flu, 4), quality=round(q, 4))  # fmt: skip


def is_sendable(text: str, context: list[str] | None = None) -> bool:
    return assess(text, context or []).quality >= SENDABLE_THRESHOLD
