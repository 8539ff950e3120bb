"""Copy quality: would a marketer send this line, or is it a keyword list, a fragment, an echo?

The old ranking rewarded overlap with the customer's themes, so the best-scoring
"subject line" was the prompt's interests line copied back as a list. This scorer
reads the *form* of a line, which keyword stuffing cannot fake:

- ``sendable``: a logistic regression on lexical features (function-word share,
  commas per word, list shape, a dangling last word, repetition, title-case runs; since
  2026.12.4 also a content word that comes back, labels joined by "and", a guess at who
  the customer is, statement openers such as "It is" / "We have") trained on
  human-written copy (Upworthy headlines in sentence case, the guide's and the recipes'
  examples) against degenerate copy generated from the same vocabulary (keyword lists,
  fragments, repetitions, truncations) and the labelled development lines (written ones
  and real model outputs). The trained weights ship with the package
  (``quality_model.json``; retrain with ``python -m evals.copy.train``).
- since 2026.12.5 ``sendable`` also reads how the line is *built* (``quality_structure``):
  its function-word skeleton under a trigram model of human headlines, whether it speaks
  to the reader, a closing full stop, a pile of content words, a ", for the ..." tail.
  A model file names the features it was fitted on and is read with exactly those, so
  the previous version's weights (``PREVIOUS_MODEL_PATH``) stay loadable for comparisons.
- ``echo``: how much of the line is the prompt's context copied verbatim; a catalogue
  name written back with its end cut off (``cut_short``) keeps a fifth of its quality.
- ``sendable`` also reads the line's *meaning* when a MiniLM vector of it is at hand (the
  shipped embedder; the ``semantic`` head of the model file): awkward word order, filler
  and off-voice wording that no lexical count sees. Without a vector of the right
  embedder the lexical head alone is used (fakes in unit tests, another scoring embedder).
- ``copied``: closeness to the prompt's own few-shot lines (``quality_examples``): a
  recipe example written back verbatim is fluent and on-voice, and still not new copy.
- ``fluency``: the model's own mean token log-probability, where the backend returns it
  (a weak signal: copying the prompt is fluent too, so it only nudges).

``quality = sendable * (1 - echo penalty) * (1 - copy penalty)`` (times ``CUT_KEEP`` for a
name cut short) nudged by fluency. Ranking multiplies
relevance and specificity by it (a list of themes earns no "personal" credit) and adds
it with a weight large enough that no keyword list outranks a fluent line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, PrivateAttr

from genpersona.agent.quality_examples import ExampleMatcher, copied_from, copy_penalty
from genpersona.agent.quality_structure import STRUCTURE_FEATURES, structure_features

QUALITY_VERSION = "copy-quality-2026.12.5"
MODEL_PATH = Path(__file__).with_name("quality_model.json")
#: the previous scorer's weights (2026.12.4: lexical features only, no skeleton model),
#: kept loadable so the eval can compare both on the same rows (``load_model(PREVIOUS_MODEL_PATH)``)
PREVIOUS_MODEL_PATH = Path(__file__).with_name("quality_model_2026.12.4.json")
#: below this, a line is treated as not sendable (a hard step in ranking)
SENDABLE_THRESHOLD = 0.35
ECHO_WEIGHT = 0.8
#: quality kept by a line that ends a catalogue name early (``cut_short``): as a fragment
CUT_KEEP = 0.2
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
LEXICAL_FEATURES = [
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
    "repeated_content",
    "and_list",
    "person_guess",
    "statement_opener",
]
#: the features of 2026.12.5: the lexical ones, then the skeleton and structure ones
#: (``quality_structure``); a model file names the features it was trained on, and
#: ``features`` computes those, so an older model file still reads lines as it was fitted
FEATURES = LEXICAL_FEATURES + STRUCTURE_FEATURES
KNOWN_FEATURES = frozenset(FEATURES)
#: function words that make a chunk a phrase rather than a bare label ("new", "little",
#: "one"... sit in labels too: "New season gifts and storage")
_STRUCTURAL = FUNCTION_WORDS - frozenset(
    [
        "new",
        "little",
        "more",
        "most",
        "one",
        "all",
        "every",
        "some",
        "just",
        "back",
        "up",
        "out",
        "off",
    ]
)
#: a guess at who the customer is or shops for, which the context never says
PERSON_WORDS = frozenset(
    ["she", "her", "he", "him", "his", "husband", "wife", "mum", "mom", "dad", "girl", "boy",
     "woman", "man", "cat", "dog", "guy", "lady", "grandma", "grandad", "granny", "son",
     "daughter", "boyfriend", "girlfriend", "baby", "kids", "children"]
)  # fmt: skip
#: openings of statements about the shop or the moment, not about anything the reader gets
_OPENERS = frozenset(
    [("it", "is"), ("this", "is"), ("there", "is"), ("we", "have"), ("we", "are"), ("we're",),
     ("we've",), ("they",), ("i",), ("my",), ("it's",), ("we", "will")]
)  # fmt: skip


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _repeated_content(low: list[str]) -> float:
    """1.0 when a content word comes back ("The new kitchen for the new season")."""
    content = [_stem(w) for w in low if w not in _STRUCTURAL and len(w) > 2]
    return 1.0 if len(set(content)) < len(content) else 0.0


def _and_list(text: str) -> float:
    """Share of bare labels among the parts of a line joined by "and" / "&" / commas
    ("New season gifts and storage", "the bags and the candles and the lanterns"); 0 when
    nothing is joined by "and"."""
    if not re.search(r"\band\b|&", text, re.IGNORECASE):
        return 0.0
    parts = [tokens(p) for p in re.split(r"[,;|&]|\band\b", text, flags=re.IGNORECASE)]
    parts = [[w.lower() for w in p] for p in parts if p]
    if len(parts) < 2:
        return 0.0
    bare = 0
    for p in parts:
        while p and p[0] in DETERMINERS:
            p = p[1:]
        bare += bool(p) and len(p) <= 3 and not any(w in _STRUCTURAL for w in p)
    return bare / len(parts)


def _opener(low: list[str]) -> float:
    return 1.0 if tuple(low[:1]) in _OPENERS or tuple(low[:2]) in _OPENERS else 0.0


def features(text: str, names: Sequence[str] = FEATURES) -> list[float]:
    """The features ``names`` of one line (default: ``FEATURES``, this version's)."""
    values = dict(zip(LEXICAL_FEATURES, lexical_features(text), strict=True))
    if any(n not in values for n in names):
        values.update(
            zip(STRUCTURE_FEATURES, structure_features(text, FUNCTION_WORDS), strict=True)
        )
    return [values[n] for n in names]


def lexical_features(text: str) -> list[float]:
    """The lexical features of one line (order: ``LEXICAL_FEATURES``)."""
    toks = tokens(text)
    low = [t.lower() for t in toks]
    n = len(toks)
    if n == 0:
        return [1.0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
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
        _repeated_content(low),
        _and_list(text),
        1.0 if any(w in PERSON_WORDS for w in low) else 0.0,
        _opener(low),
    ]


class SemanticHead(BaseModel):
    """Lexical features plus the line's embedding, one logistic regression."""

    embedder: str
    dim: int
    lex_coef: list[float]
    emb_coef: list[float]
    #: the training run's figures (extra heads only; the main file keeps them in trained_on)
    trained_on: dict[str, float] = {}

    _emb: np.ndarray | None = PrivateAttr(default=None)

    def z(self, x: list[float], vector: np.ndarray) -> float:
        """The logit: lexical features ``x`` plus the line's ``vector``."""
        if self._emb is None:  # converted once, not per line
            self._emb = np.asarray(self.emb_coef, np.float32)
        lex = sum(c * v for c, v in zip(self.lex_coef, x, strict=True))
        return lex + float(np.dot(self._emb, vector))


class HeadFile(BaseModel):
    """A semantic head for another embedder, in its own file beside the model
    (``quality_head_<embedder>.json``, written by ``python -m evals.copy.train --embedder``).
    It is used only with the model version and features it was trained with."""

    version: str
    features: list[str]
    head: SemanticHead


class QualityModel(BaseModel):
    version: str
    features: list[str]
    #: the lexical head: used when no vector of ``semantic.embedder`` is given
    coef: list[float]
    #: the MiniLM head (the shipped embedder)
    semantic: SemanticHead | None = None
    trained_on: dict[str, float] = {}
    #: semantic heads of other embedders (extra head files), by embedder name
    extra_heads: dict[str, SemanticHead] = {}

    def head(self, embedder_name: str | None) -> SemanticHead | None:
        """The semantic head for vectors of this embedder (None: the MiniLM head)."""
        if embedder_name is None or (self.semantic and self.semantic.embedder == embedder_name):
            return self.semantic
        return self.extra_heads.get(embedder_name)

    def wants(self, embedder_name: str) -> bool:
        """Whether vectors of this embedder feed a semantic head."""
        return self.head(embedder_name) is not None

    def sendable(
        self, text: str, vector: np.ndarray | None = None, embedder: str | None = None
    ) -> float:
        """P(sendable); with ``vector`` (a line's vector from ``embedder``, MiniLM when
        None) through that embedder's semantic head, else through the lexical head."""
        x = features(text, self.features)
        head = self.head(embedder) if vector is not None else None
        if head is not None and vector is not None and len(vector) == head.dim:
            z = head.z(x, vector)
        else:
            z = sum(c * v for c, v in zip(self.coef, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def head_path(embedder_name: str, folder: Path | None = None) -> Path:
    """Where the extra semantic head of ``embedder_name`` is kept."""
    return (folder or MODEL_PATH.parent) / f"quality_head_{embedder_name}.json"


@cache
def load_model(path: Path = MODEL_PATH) -> QualityModel:
    model = QualityModel.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if not set(model.features) <= KNOWN_FEATURES or len(model.features) != len(model.coef):
        # a feature list that drifted from the weights would score silently wrong
        raise ValueError(
            f"{path.name} was trained on other features; retrain: python -m evals.copy.train"
        )
    for extra in sorted(path.parent.glob("quality_head_*.json")):
        held = HeadFile.model_validate(json.loads(extra.read_text(encoding="utf-8")))
        # a head of another model version reads features that may have changed meaning:
        # it is not used (the lexical head is), and tests/test_copy_quality.py flags it
        if held.version == model.version and held.features == model.features:
            model.extra_heads[held.head.embedder] = held.head
    return model


def _phrases(context: list[str]) -> list[list[str]]:
    return _context_phrases(tuple(context))


@lru_cache(maxsize=256)
def _context_phrases(context: tuple[str, ...]) -> list[list[str]]:
    """The context's phrases as lower-case words, once per draft's context (every line of
    a draft, and every check of a line, reads the same context). Callers must not mutate."""
    return [p for p in ([w.lower() for w in tokens(c)] for c in context) if p]


#: the prompt's own framing, or copy that tells the customer what we know about them
_META_RE = re.compile(
    r"\b(customer likes|interests?:|campaign:|background:|angle:|based on your|because you "
    r"(like|love|bought|often)|you (often )?bought|your (favourite )?(themes|interests?)|"
    r"who often buys|as you bought|since you often|"
    # the recipes' angle lines (prompts/recipes.yaml ``focus``) written back as copy
    r"one product from the|told as a small story|keep coming back to|buy again and again|"
    r"they used to buy|a moment in the calendar|a thoughtful present for someone else|"
    r"have just arrived in the shop)\b",
    re.IGNORECASE,
)


def echo(text: str, context: list[str]) -> float:
    """How much of ``text`` is the prompt's context copied back, in [0, 1].

    1.0 when two or more context phrases (themes, product names) appear verbatim, or
    one phrase of four words or more (a catalogue description); otherwise the share of the
    line's content words that are context words (scaled down under three content words)."""
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
    share = sum(w in ctx_words for w in content) / len(content)
    # one or two content words are too few to call a copy ("Your home, a little more you")
    return share * min(1.0, len(content) / 3)


def cut_short(text: str, context: list[str]) -> bool:
    """A catalogue name from the context written back with its last word(s) cut off
    ("hot water bottle keep" of "Hot water bottle keep calm", "Doormat spotty home sweet"):
    the first n - 1 words (at least three) of a name, or its first four or more, in order,
    not followed by the rest of it. The model runs out of tokens or stops mid-name."""
    low = [w.lower() for w in tokens(text)]
    if len(low) < 3 or not context:
        return False
    joined = " " + " ".join(low) + " "
    for p in _phrases(context):
        if len(p) < 4 or f" {' '.join(p)} " in joined:
            continue
        for k in range(len(p) - 1, 2, -1):
            if k < len(p) - 1 and k < 4:
                break
            head = f" {' '.join(p[:k])} "
            if head in joined:
                return True
    return False


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
    #: closeness to the nearest few-shot line of the prompt (1.0: copied verbatim)
    copied: float = 0.0


def assess(
    text: str,
    context: list[str],
    mean_logprob: float | None = None,
    *,
    vector: np.ndarray | None = None,
    embedder: str | None = None,
    examples: Sequence[str] | ExampleMatcher = (),
    model: QualityModel | None = None,
) -> QualityReading:
    """The copy-quality reading of one line against the context its prompt carried
    (``vector``: the line's embedding for the semantic head of ``embedder``, MiniLM when
    None; ``examples``: the prompt's few-shot lines, which the line must not copy;
    ``model``: another classifier file, e.g. the previous version's, for comparisons)."""
    sendable = (model or load_model()).sendable(text, vector, embedder)
    e = echo(text, context)
    copied = copied_from(text, examples)
    # a line that uses the customer's words is on topic; one made of nothing else (or of
    # verbatim phrases, scored 1.0) is copying
    penalty = ECHO_WEIGHT * max(0.0, (e - 0.8) / 0.2)
    q = sendable * (1.0 - penalty) * (1.0 - copy_penalty(copied))
    if cut_short(text, context):
        q *= CUT_KEEP
    flu = fluency_score(mean_logprob)
    if flu is not None:
        q = (1 - FLUENCY_WEIGHT) * q + FLUENCY_WEIGHT * flu * (
            1.0 if q >= SENDABLE_THRESHOLD else 0.0
        )
    return QualityReading(sendable=round(sendable, 4), echo=round(e, 4), copied=copied,
                          fluency=None if flu is None else round(flu, 4), quality=round(q, 4))  # fmt: skip


def is_sendable(
    text: str, context: list[str] | None = None, vector: np.ndarray | None = None
) -> bool:
    return assess(text, context or [], vector=vector).quality >= SENDABLE_THRESHOLD
