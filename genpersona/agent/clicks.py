"""The click model's term in ranking: predicted CTR stored with the scores, a small nudge.

Why a nudge and not a ranking: the click model is pretrained on Upworthy headlines
and tells the winner of two headlines of one test about 60% of the time (69% when
they differ clearly), so it should break near-ties between candidates the other
scorers rate alike, never overrule voice, relevance or quality. The term is
``weight * clip(z - mean(z), -0.5, 0.5)`` where ``z`` is each candidate's predicted
relative log-odds of a click: with the default weight 0.2 it moves a total by at
most 0.1, and usually by about 0.02. Each variant's predicted click rate is stored
as ``scores.click_ctr`` (the delivery's exposures then carry it, and ``learn update``
uses it as the prior of recipes with little data).

The model is the latest one under the home (``genpersona learn train``), loaded
once per process (``genpersona.clickmodel``). With no trained model, or when it was
trained on an embedder this process does not have, the term is omitted (logged
once) and ``click_ctr`` stays None.
"""

from __future__ import annotations

import logging

import numpy as np

from genpersona.agent.deps import AgentDeps
from genpersona.clickmodel.embed_cache import embedder_version
from genpersona.clickmodel.features import features_from
from genpersona.clickmodel.model import ClickModel, model_if_trained
from genpersona.clickmodel.train import model_root
from genpersona.embeddings.base import Embedder
from genpersona.types.content import Variant

log = logging.getLogger(__name__)

CLICK_TERM_VERSION = "clickterm-2026.12.1"
#: the relative log-odds term is capped here, so the model can never dominate a ranking
CLICK_TERM_CAP = 0.5
_MISMATCH_REPORTED: set[tuple[str, str]] = set()


def click_model_for(deps: AgentDeps) -> tuple[ClickModel, Embedder] | None:
    """The trained model and an embedder of this process that matches it, else None."""
    model = model_if_trained(model_root(deps.settings))
    if model is None:
        return None
    for emb in (deps.embedder, deps.scoring_embedder):
        if embedder_version(emb) == model.meta.embedder:
            return model, emb
    key = (model.meta.version, embedder_version(deps.embedder))
    if key not in _MISMATCH_REPORTED:
        _MISMATCH_REPORTED.add(key)
        log.info(
            "click model %s was trained on %s embeddings, this process has %s: term omitted",
            key[0],
            model.meta.embedder,
            key[1],
        )
    return None


def click_terms(
    model: ClickModel, embedder: Embedder, variants: list[Variant]
) -> tuple[np.ndarray, np.ndarray]:
    """(predicted CTR, capped relative log-odds) per variant, from one embedder call."""
    texts = [v.content.main_text() or " " for v in variants]
    z = model.score(features_from(embedder.embed(texts), texts))
    z = z + np.array(
        [model.meta.recipe_offsets.get(v.content.recipe_id or "", 0.0) for v in variants]
    )
    return model.ctr_of_scores(z), np.clip(z - z.mean(), -CLICK_TERM_CAP, CLICK_TERM_CAP)


def rank_with_clicks(scored: list[Variant], kind: str, deps: AgentDeps) -> list[Variant]:
    """``scored`` with ``click_ctr`` set and the weighted term in ``total``, best first;
    unchanged when there is no usable model, and for chat answers (not clicked copy)."""
    if not scored or kind == "chat_answer":
        return scored
    found = click_model_for(deps)
    if found is None:
        return scored
    ctr, rel = click_terms(*found, scored)
    weight = deps.settings.click_model_weight
    out = []
    for v, p, r in zip(scored, ctr, rel, strict=True):
        scores = v.scores.model_copy(
            update={"click_ctr": round(float(p), 6), "total": round(v.scores.total + weight * r, 4)}
        )
        out.append(v.model_copy(update={"scores": scores}))
    return sorted(out, key=lambda v: v.scores.total, reverse=True)
