"""The creepy line by meaning: is a draft about a sensitive topic, whatever words it uses?

Word lists miss euphemisms ("a little one on the way", "money a bit tight this month").
This check compares the draft's sentence embedding with prototype lines per topic and with
innocent anchors (:mod:`genpersona.guard.prototypes`): a topic is flagged when the draft's
best prototype similarity reaches the topic's calibrated threshold *and* beats its best
innocent anchor by a margin, so "baby-blue bunting" (closest to an anchor) passes while
"eating for two? treat yourself" does not.

Cost: the scoring stage embeds every candidate anyway, so the pipeline passes that vector in
and the check is one (prototypes x 384) matrix-vector product. Without a vector the guard
embeds the draft itself with the injected embedder. Prototype vectors are embedded once per
embedder and cached for the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from genpersona.embeddings.base import Embedder
from genpersona.guard.models import Violation
from genpersona.guard.prototypes import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    INNOCENT_ANCHORS,
    TOPIC_PROTOTYPES,
)

RULE_PREFIX = "sensitive.semantic."
# per embedder (Embedder.name): topic thresholds and the margin over the best innocent
# anchor, from `python -m evals.guard.calibrate_semantic` on the dev split (see the docs
# page docs/guides/guardrails-semantic.md); the held-out split was never used here
CALIBRATED: dict[str, tuple[dict[str, float], float]] = {
    "minilm": (
        {
            "pregnancy": 0.4,
            "health": 0.418,
            "life_events": 0.4,
            "religion": 0.405,
            "ethnicity": 0.4,
            "sexuality": 0.4,
            "financial_distress": 0.463,
            "surveillance": 0.486,
        },
        0.06,
    )
}

_MESSAGES = {
    "pregnancy": "reads as knowing the customer is pregnant or expecting a baby",
    "health": "reads as knowing about the customer's health or a medical condition",
    "life_events": "reads as knowing about a bereavement, break-up or job loss",
    "religion": "reads as knowing the customer's religion",
    "ethnicity": "reads as knowing the customer's ethnicity or heritage",
    "sexuality": "reads as knowing the customer's sexuality or gender identity",
    "financial_distress": "reads as knowing the customer is short of money",
    "surveillance": "reads as having watched when or where the customer was seen",
}


@dataclass(frozen=True)
class _Bank:
    matrix: np.ndarray  # rows: every prototype, then every anchor
    topic_rows: dict[str, np.ndarray]  # row indices per topic
    anchor_rows: np.ndarray
    lines: list[str]


@dataclass(frozen=True)
class TopicScore:
    topic: str
    similarity: float  # best cosine to the topic's prototypes
    innocent: float  # best cosine to any innocent anchor
    nearest: str  # the prototype that matched best
    threshold: float
    margin: float

    @property
    def flagged(self) -> bool:
        return self.similarity >= self.threshold and self.similarity - self.innocent >= self.margin


_BANKS: dict[str, _Bank] = {}
_BANK_LOCK = threading.Lock()


def _bank(embedder: Embedder) -> _Bank:
    with _BANK_LOCK:
        bank = _BANKS.get(embedder.name)
        if bank is None:
            lines: list[str] = []
            topic_rows: dict[str, np.ndarray] = {}
            for topic, protos in TOPIC_PROTOTYPES.items():
                topic_rows[topic] = np.arange(len(lines), len(lines) + len(protos))
                lines += protos
            anchors = np.arange(len(lines), len(lines) + len(INNOCENT_ANCHORS))
            lines += INNOCENT_ANCHORS
            matrix = np.asarray(embedder.embed(lines), dtype=np.float32)
            bank = _Bank(matrix, topic_rows, anchors, lines)
            _BANKS[embedder.name] = bank
        return bank


def clear_prototype_cache() -> None:
    with _BANK_LOCK:
        _BANKS.clear()


class SemanticGuard:
    """Topic scores for drafts, with the embedder that made (or will make) their vectors.

    A precomputed vector must come from the same embedder: the prototypes are embedded
    with it and the thresholds are looked up by its name.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        thresholds: dict[str, float] | None = None,
        margin: float | None = None,
    ) -> None:
        self.embedder = embedder
        cal_thr, cal_margin = CALIBRATED.get(embedder.name, ({}, DEFAULT_MARGIN))
        self.thresholds = {t: DEFAULT_THRESHOLD for t in TOPIC_PROTOTYPES} | cal_thr
        self.thresholds |= thresholds or {}
        self.margin = cal_margin if margin is None else margin
        self._facts: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def topics(self) -> list[str]:
        return list(TOPIC_PROTOTYPES)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.embed(texts), dtype=np.float32)

    def scores(self, vector: np.ndarray, topics: list[str] | None = None) -> list[TopicScore]:
        bank = _bank(self.embedder)
        sims = bank.matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        innocent = float(sims[bank.anchor_rows].max()) if len(bank.anchor_rows) else -1.0
        out = []
        for topic in topics if topics is not None else self.topics:
            rows = bank.topic_rows.get(topic)
            if rows is None:
                continue
            best = int(rows[int(np.argmax(sims[rows]))])
            out.append(
                TopicScore(
                    topic,
                    float(sims[best]),
                    innocent,
                    bank.lines[best],
                    self.thresholds[topic],
                    self.margin,
                )
            )
        return out

    def shared_topics(self, shared_facts: list[str]) -> frozenset[str]:
        """Topics the customer raised themselves (embedded once per distinct fact list)."""
        if not shared_facts:
            return frozenset()
        key = "\n".join(shared_facts)
        with self._lock:
            hit = self._facts.get(key)
        if hit is not None:
            return hit
        vecs = self.embed(list(shared_facts))
        found = frozenset(s.topic for v in vecs for s in self.scores(v) if s.flagged)
        with self._lock:
            self._facts[key] = found
            if len(self._facts) > 1024:
                self._facts.popitem(last=False)
        return found

    def violations(
        self,
        text: str,
        categories: list[str],
        *,
        embedding: np.ndarray | None = None,
        allowed: frozenset[str] = frozenset(),
        field: str | None = None,
    ) -> list[Violation]:
        """One blocking violation per flagged topic among ``categories`` (minus ``allowed``)."""
        topics = [t for t in self.topics if t in categories and t not in allowed]
        if not topics or not text.strip():
            return []
        vector = embedding if embedding is not None else self.embed([text])[0]
        out = []
        for s in self.scores(vector, topics):
            if not s.flagged:
                continue
            out.append(
                Violation(
                    rule_id=RULE_PREFIX + s.topic,
                    severity="block",
                    message=(
                        f"{_MESSAGES.get(s.topic, s.topic)} (similarity {s.similarity:.2f} to"
                        f" '{s.nearest}'; threshold {s.threshold:.2f})"
                    ),
                    suggestion="remove the allusion; personalise only with what the customer"
                    " chose to share",
                    field=field,
                )
            )
        return out
