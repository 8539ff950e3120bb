"""Which FAQ entry answers a chat question: embeddings over every phrasing, plus word overlap.

Embedding similarity alone confuses neighbours that share a topic (a question about
vouchers sits close to both gift entries), and a customer's wording is often one the
entry's own question does not use. Two signals, combined:

- ``dense``: the best cosine between the question and any vector of an entry (question
  and answer, the question alone, each of the brand's ``also_asked`` paraphrases);
- ``lexical``: the IDF-weighted share of the question's content words (crudely stemmed)
  that the entry's question, paraphrases, answer or tags contain. Words the knowledge
  never uses count against it, so "a voucher for my car" does not match "gift cards".

``score = (1 - w) * dense + w * lexical``; the best entry answers when its *confidence*,
``top + m * (top - second)``, reaches the threshold: a clear winner over every other
entry is trusted at a lower absolute score than a near tie between two entries. ``w``,
``m`` and the threshold are fitted per embedder on the chat eval's dev part only
(``python -m evals.chat.fit_retrieval``) and ship in ``chat_retrieval.json``; an embedder
without fitted values (the fake one in unit tests) gets pure dense similarity, no margin
term and the old hand-set 0.45.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from genpersona.agent import knowledge
from genpersona.brands.guide import BrandGuide, KnowledgeEntry
from genpersona.embeddings.base import Embedder
from genpersona.vectors.base import VectorStore

PARAMS_PATH = Path(__file__).with_name("chat_retrieval.json")
DEFAULT_THRESHOLD = 0.45
#: a word no entry uses weighs like one a single entry uses (it still counts against all)
UNSEEN_DF = 1

_TOKEN_RE = re.compile(r"[a-z0-9£]+")
_STOPWORDS_TEXT = (
    "a an the and or but if of to in on at for from by with about as into is are was were be "
    "been being am do does did doing done have has had having i me my mine we us our you your "
    "yours it its this that these those there here what which who whom whose when where why how "
    "can could would should will shall may might must please hi hello thanks thank just so "
    "any some get got also then than too very really want wanna need like"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split(" "))
_SUFFIXES = ("ies", "ing", "ed", "es", "s")
_DERIVED = ("ery", "ers", "er", "ion", "ions", "al", "ly", "y")


def stem(word: str) -> str:
    """A crude English stem: 'deliveries', 'delivered', 'delivery' -> 'deliv'."""
    for suffix in _SUFFIXES:
        if suffix == "es" and not word.endswith(("ses", "xes", "zes", "ches", "shes")):
            continue  # boxes -> box, but notes -> note
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            if suffix in ("ing", "ed") and word[-1] == word[-2] and word[-1] not in "slz":
                word = word[:-1]  # shipped -> ship, wrapping -> wrap
            break
    for suffix in _DERIVED:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("e") and len(word) >= 5:
        return word[:-1]  # damage -> damag, like damaged
    return word


#: words customers use for the same thing in a shop; each group folds onto its first word
_CONCEPTS: list[tuple[str, ...]] = [
    ("delivery", "post", "postage", "ship", "shipping", "courier", "dispatch", "arrive"),
    (
        "damaged",
        "broken",
        "broke",
        "smashed",
        "cracked",
        "chipped",
        "shattered",
        "faulty",
        "dented",
    ),  # fmt: skip
    ("phone", "call", "ring", "telephone", "rang"),
    ("email", "e-mail", "mail", "inbox"),
    ("wrap", "wrapping", "ribbon"),
    ("message", "note", "dedication"),
    ("giftcard", "voucher", "egift"),
    ("trade", "wholesale", "bulk", "retailer", "stockist", "resell"),
    ("cancel", "amend", "swap", "modify"),
    ("pay", "payment", "visa", "mastercard", "amex", "paypal", "klarna"),
    (
        "europe",
        "abroad",
        "overseas",
        "international",
        "internationally",
        "ireland",
        "france",
        "spain",
        "germany",
        "italy",
        "netherlands",
        "holland",
        "belgium",
        "portugal",
        "denmark",
        "sweden",
        "norway",
        "austria",
        "poland",
        "switzerland",
        "greece",
        "finland",
        "european",
        "eu",
        "country",
        "countries",
    ),  # fmt: skip
]
_FOLD = {stem(word): stem(group[0]) for group in _CONCEPTS for word in group}
_PHRASES = [
    (re.compile(r"\bgift ?cards?\b|\bpresent cards?\b|\be-gift\b"), " giftcard "),
    (re.compile(r"\bsend (?:it |them |this |something |\w+ )?back\b"), " return "),
    (re.compile(r"\bget in touch\b|\bspeak to\b|\btalk to\b"), " contact "),
]


def content_stems(text: str) -> list[str]:
    text = text.lower().replace("'", "")
    for rx, repl in _PHRASES:
        text = rx.sub(repl, text)
    words = _TOKEN_RE.findall(text)
    stems = [stem(w) for w in words if w not in STOPWORDS]
    return [_FOLD.get(s, s) for s in stems]


class RetrievalParams(BaseModel):
    """Fitted weights for one embedder (see the module docstring)."""

    embedder: str
    lexical_weight: float = 0.0
    margin_weight: float = 0.0
    threshold: float = DEFAULT_THRESHOLD
    fitted_on: str = "hand-set"


@cache
def _fitted() -> dict[str, RetrievalParams]:
    if not PARAMS_PATH.exists():
        return {}
    raw = json.loads(PARAMS_PATH.read_text())
    return {name: RetrievalParams.model_validate(p) for name, p in raw["embedders"].items()}


def params_for(embedder_name: str) -> RetrievalParams:
    return _fitted().get(embedder_name) or RetrievalParams(embedder=embedder_name)


class EntryScore(BaseModel):
    index: int
    entry: KnowledgeEntry
    dense: float
    lexical: float
    score: float


def _vocabularies(guide: BrandGuide) -> list[set[str]]:
    return [
        set(content_stems(" ".join([*e.phrasings, e.answer, *e.tags]))) for e in guide.knowledge
    ]


def lexical_scores(guide: BrandGuide, question: str) -> list[float]:
    """Per entry: the IDF-weighted share of the question's content stems it contains."""
    vocab = _vocabularies(guide)
    n = len(vocab)
    terms = content_stems(question)
    if not terms or not n:
        return [0.0] * n

    def idf(term: str) -> float:
        df = sum(term in v for v in vocab)
        return math.log((n + 1) / (max(df, UNSEEN_DF) + 0.5))

    weights = {t: idf(t) for t in set(terms)}
    total = sum(weights[t] for t in terms)
    return [sum(weights[t] for t in terms if t in v) / total for v in vocab]


def rank(
    guide: BrandGuide,
    question: str,
    embedder: Embedder,
    store: VectorStore,
    params: RetrievalParams,
    *,
    k: int = 10,
) -> list[EntryScore]:
    """Every entry within reach, best hybrid score first."""
    if not guide.knowledge or not question.strip():
        return []
    dense_hits = knowledge.retrieve_scored(
        guide, question, embedder, store, k=min(k, len(guide.knowledge)), min_score=-1.0
    )
    dense = {i: s for i, _, s in dense_hits}
    floor = min(dense.values(), default=0.0)  # entries beyond the k nearest: at most this
    lexical = lexical_scores(guide, question)
    w = params.lexical_weight
    out = [
        EntryScore(
            index=i,
            entry=e,
            dense=dense.get(i, floor),
            lexical=lexical[i],
            score=(1 - w) * dense.get(i, floor) + w * lexical[i],
        )
        for i, e in enumerate(guide.knowledge)
    ]
    out.sort(key=lambda s: -s.score)
    return out


def confidence(ranked: list[EntryScore], params: RetrievalParams) -> float:
    """How sure the best entry is the answer: its score plus a share of its lead."""
    if not ranked:
        return 0.0
    top = ranked[0].score
    second = ranked[1].score if len(ranked) > 1 else 0.0
    return top + params.margin_weight * (top - second)
