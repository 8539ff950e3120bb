"""The creepy line by meaning: is a draft about a sensitive topic, whatever words it uses?

Word lists miss euphemisms ("a little one on the way", "money a bit tight this month").
This check runs a small classifier (multinomial logistic regression: one class per sensitive
topic plus "none") on the draft's sentence embedding and blocks a topic whose probability
reaches that topic's threshold.

Where the weights come from, by embedder (``Embedder.name``):

* a shipped model (``semantic_models/<name>.npz``), trained by
  ``python -m evals.guard.train_semantic`` on the prototype and anchor lines of
  :mod:`genpersona.guard.prototypes` plus the guard's dev eval lines, with per-topic
  thresholds chosen on out-of-fold probabilities so no dev compliant line is blocked;
* otherwise (the fake embedder in unit tests, a new embedder) a model fitted at first use on
  the prototype and anchor lines alone, with a default threshold.

Cost: the scoring stage embeds every candidate anyway, so the pipeline passes that vector in
and the check is one (classes x dim) matrix-vector product; without a vector the guard
embeds the draft itself with the injected embedder.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genpersona.embeddings.base import Embedder
from genpersona.guard.prototypes import DEFAULT_THRESHOLD, INNOCENT_ANCHORS, TOPIC_PROTOTYPES
from genpersona.types.violations import Violation

RULE_PREFIX = "sensitive.semantic."
NONE = "none"
MODELS_DIR = Path(__file__).resolve().parent / "semantic_models"
FIT_C = 64.0  # weak regularisation: out-of-fold recall rose with C on the dev lines

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
class TopicModel:
    classes: list[str]  # topic names and NONE
    coef: np.ndarray  # (classes, dim)
    intercept: np.ndarray  # (classes,)
    thresholds: dict[str, float]
    source: str  # "shipped" or "prototypes"

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        logits = self.coef @ np.asarray(vector, dtype=np.float32).reshape(-1) + self.intercept
        logits = logits - logits.max()
        p = np.exp(logits)
        return p / p.sum()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        topics = [t for t in self.classes if t != NONE]
        np.savez(
            path,
            classes=np.array(self.classes),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            threshold_topics=np.array(topics),
            thresholds=np.array([self.thresholds[t] for t in topics], dtype=np.float32),
        )

    @classmethod
    def load(cls, path: Path) -> TopicModel:
        with np.load(path) as z:
            thr = dict(zip(z["threshold_topics"].tolist(), z["thresholds"].tolist(), strict=True))
            return cls(z["classes"].tolist(), z["coef"], z["intercept"], thr, source="shipped")


def training_lines() -> tuple[list[str], list[str]]:
    """The built-in lines and their labels: prototypes by topic, anchors as NONE."""
    texts = [p for ps in TOPIC_PROTOTYPES.values() for p in ps] + list(INNOCENT_ANCHORS)
    labels = [t for t, ps in TOPIC_PROTOTYPES.items() for _ in ps] + [NONE] * len(INNOCENT_ANCHORS)
    return texts, labels


def fit(
    vectors: np.ndarray, labels: list[str], thresholds: dict[str, float], c: float = FIT_C
) -> TopicModel:
    # sklearn is only needed to fit (never on a check): imported here, at first use
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    lr.fit(vectors, labels)
    classes = [str(c) for c in lr.classes_]
    return TopicModel(
        classes,
        lr.coef_.astype(np.float32),
        lr.intercept_.astype(np.float32),
        {t: thresholds.get(t, DEFAULT_THRESHOLD) for t in classes if t != NONE},
        source="prototypes",
    )


_MODELS: dict[str, TopicModel] = {}
_MODEL_LOCK = threading.Lock()


def model_for(embedder: Embedder) -> TopicModel:
    """The shipped model of this embedder, else one fitted on the built-in lines (cached)."""
    with _MODEL_LOCK:
        model = _MODELS.get(embedder.name)
        if model is None:
            path = MODELS_DIR / f"{embedder.name}.npz"
            if path.exists():
                model = TopicModel.load(path)
            else:
                texts, labels = training_lines()
                model = fit(np.asarray(embedder.embed(texts)), labels, {})
            _MODELS[embedder.name] = model
        return model


def use_model(embedder: Embedder, model: TopicModel) -> None:
    """Make ``model`` the topic model of this embedder for the process (tests, experiments)."""
    with _MODEL_LOCK:
        _MODELS[embedder.name] = model


def clear_model_cache() -> None:
    with _MODEL_LOCK:
        _MODELS.clear()


@dataclass(frozen=True)
class TopicScore:
    topic: str
    probability: float
    threshold: float

    @property
    def flagged(self) -> bool:
        return self.probability >= self.threshold


class SemanticGuard:
    """Topic scores for drafts, with the embedder that made (or will make) their vectors.

    A precomputed vector must come from the same embedder: the model is chosen by its name.
    """

    def __init__(self, embedder: Embedder, *, thresholds: dict[str, float] | None = None) -> None:
        self.embedder = embedder
        self._override = dict(thresholds or {})
        self._facts: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model(self) -> TopicModel:
        return model_for(self.embedder)

    @property
    def topics(self) -> list[str]:
        return [t for t in self.model.classes if t != NONE]

    @property
    def calibrated(self) -> bool:
        """Whether the model's thresholds were chosen on labelled lines (a shipped model).
        The pipeline only lets a calibrated model block; a model fitted on the built-in lines
        alone (the fake embedder, a new embedder) is for tests and exploration."""
        return self.model.source == "shipped"

    def threshold(self, topic: str) -> float:
        return self._override.get(topic, self.model.thresholds.get(topic, DEFAULT_THRESHOLD))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.embed(texts), dtype=np.float32)

    def scores(self, vector: np.ndarray, topics: list[str] | None = None) -> list[TopicScore]:
        model = self.model
        probs = model.probabilities(vector)
        wanted = set(topics) if topics is not None else None
        return [
            TopicScore(c, float(p), self.threshold(c))
            for c, p in zip(model.classes, probs, strict=True)
            if c != NONE and (wanted is None or c in wanted)
        ]

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
        return [
            Violation(
                rule_id=RULE_PREFIX + s.topic,
                severity="block",
                message=(
                    f"{_MESSAGES.get(s.topic, s.topic)} (topic probability"
                    f" {s.probability:.2f}, threshold {s.threshold:.2f})"
                ),
                suggestion="remove the allusion; personalise only with what the customer"
                " chose to share",
                field=field,
            )
            for s in self.scores(vector, topics)
            if s.flagged
        ]
