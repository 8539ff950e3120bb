"""Stage 5: score and rank candidates with one embedding call and a few dot products.

- brand voice: closer to the guide's do-examples and approved exemplars than to
  its don't-examples;
- relevance: similarity to this customer's interests (themes, shared and
  inferred facts, recommended items), or to the visitor context and brief;
- specificity: does the draft fit *this* customer better than a sample of the
  brand's other customers? (share of others it is further from);
- length fit: inside the guide's limit, neither truncated-looking nor bloated;
- novelty: unlike what this customer already received.

Every score is in [0, 1] and carries a scorer version (``SCORER_VERSIONS``) so
that eval figures name the scorer that produced them. The other customers'
vectors are cached here for ``OTHERS_TTL_S``; repeated texts (examples, exemplars)
are cached by the embedder ``default_deps`` wraps, so per draft one embedder call
embeds only new text.
"""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, ConfigDict

from genpersona.agent.clicks import CLICK_TERM_VERSION, rank_with_clicks
from genpersona.agent.context_stage import AgentContext, anonymous_line
from genpersona.agent.deps import AgentDeps
from genpersona.agent.generation import semantic_gate
from genpersona.agent.quality import QUALITY_VERSION, SENDABLE_THRESHOLD
from genpersona.agent.quality_examples import ExampleMatcher
from genpersona.agent.quality_ranking import (
    LineVectors,
    copy_quality,
    line_embedder,
    line_vectors,
    prompt_examples,
    variant_lines,
)
from genpersona.agent.trace import StageTimer
from genpersona.agent.variables import limit_chars
from genpersona.embeddings.base import Embedder
from genpersona.types.content import Scores, Variant

SCORER_VERSIONS = {
    "brand_voice": "voice-2026.11.1",
    "relevance": "relevance-2026.11.1",
    "specificity": "specificity-rank-2026.11.1",
    "length_fit": "length-2026.11.1",
    "novelty": "novelty-2026.11.1",
    "quality": QUALITY_VERSION,
    "click_ctr": f"{CLICK_TERM_VERSION} (GENPERSONA_CLICK_MODEL_WEIGHT; omitted without a model)",
    "total": "weights-2026.12.4 (quality-weighted, plus the main line's specificity among "
    "sendable lines; weight 0 = weights-2026.11.1)",
}
WEIGHTS = {
    "brand_voice": 0.25,
    "relevance": 0.25,
    "specificity": 0.2,
    "length_fit": 0.15,
    "novelty": 0.15,
}
#: weights-2026.12.4: among sendable lines, the credit for a main line (subject, headline)
#: that fits this customer better than the others (``specificity`` of the main line alone);
#: at 0.3 a line about this customer's own themes outranks a generic one of up to ~0.3 more
#: quality, and a line under the sendable threshold gets none of it (a keyword list of the
#: customer's themes is "specific" in meaning, so the credit must not reach it)
SPECIFIC_WEIGHT = 0.3
#: the credit grows from nothing at the sendable threshold to whole at this quality
SPECIFIC_FULL_AT = 0.6
FALLBACK_PENALTY = 0.25
BLOCKING_PENALTY = 0.5
OTHERS_TTL_S = 600.0


def _embed_once(embedder: Embedder, texts: list[str]) -> dict[str, np.ndarray]:
    """Each distinct text's vector from one embedder call (each call has a fixed cost);
    across requests the embedder's own cache (``default_deps``) keeps repeats cheap."""
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        return {}
    return dict(zip(distinct, embedder.embed(distinct), strict=True))


def _rows(vectors: dict[str, np.ndarray], texts: list[str], dim: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), np.float32)
    return np.stack([vectors[t] for t in texts])


#: prepares scoring references next to generation; small: each job is a few ms plus one
#: embedder call, and the embedder serialises anyway
_PREPARE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="genpersona-scoring")
_OTHERS: dict[tuple[str, str], tuple[float, list[str], np.ndarray]] = {}
_OTHERS_LOCK = threading.Lock()


class ScoringContext(BaseModel):
    """The reference vectors one draft is scored against."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    good: np.ndarray  # do-examples + approved exemplars
    bad: np.ndarray  # don't-examples
    interest: np.ndarray | None  # this customer's (or visitor's) interests
    own_themes: np.ndarray | None  # same basis as the other customers' vectors
    others: np.ndarray  # other customers' theme vectors
    past: np.ndarray  # what this customer already received
    max_chars: int
    #: what the prompt told the model about the customer: copying it back is echo
    context_terms: list[str] = []
    #: the prompt's few-shot lines: a candidate that copies one is not new copy
    examples: list[str] = []
    #: candidate texts embedded with the references (inline scoring), by text
    candidates: dict[str, np.ndarray] = {}
    #: the candidates' lines for the copy-quality classifier, from the same pass when it
    #: has a head for the scoring embedder (else from one call per batch to MiniLM)
    lines: LineVectors = LineVectors()


def interest_text(actx: AgentContext) -> str:
    """Everything we may personalise on, as one text; visitor context when anonymous."""
    b = actx.bundle
    if actx.personalized:
        parts = list(b.profile.favourite_themes) if b.profile else []
        parts += [m.text for m in b.memories]
        parts += [r.description for r in b.recommendations[:4]]
        return ". ".join(parts)
    return ". ".join(p for p in (anonymous_line(actx.request.anonymous), actx.request.brief) if p)


def context_terms(actx: AgentContext) -> list[str]:
    """The phrases a prompt may have shown: themes, recommended items, shared facts, brief."""
    b = actx.bundle
    terms: list[str] = []
    if actx.personalized:
        terms += list(b.profile.favourite_themes) if b.profile else []
        terms += [r.description for r in b.recommendations[:6]]
        terms += [m.text for m in b.memories if m.knowingly_shared]
    terms += [f.description for f in actx.featured]
    if actx.request.brief:
        terms.append(actx.request.brief)
    return terms


def theme_text(themes: list[str]) -> str:
    return ", ".join(themes)


def other_customers(brand: str, deps: AgentDeps) -> tuple[list[str], np.ndarray]:
    """(ids, theme vectors) of a sample of the brand's customers, cached for OTHERS_TTL_S."""
    key = (brand, deps.scoring_embedder.name)
    now = time.monotonic()
    with _OTHERS_LOCK:
        cached = _OTHERS.get(key)
        if cached and now - cached[0] < OTHERS_TTL_S:
            return cached[1], cached[2]
    pairs = deps.other_interests(brand, deps.settings)
    ids = [p[0] for p in pairs]
    vecs = (
        deps.scoring_embedder.embed([p[1] for p in pairs])
        if pairs
        else np.zeros((0, deps.scoring_embedder.dim), np.float32)
    )
    with _OTHERS_LOCK:
        _OTHERS[key] = (now, ids, vecs)
    return ids, vecs


class ScoringInputs(BaseModel):
    """The texts one draft's scoring needs embedded, gathered before any embedder call so
    a campaign can embed the inputs of many drafts in one call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    good: list[str]
    bad: list[str]
    past: list[str]
    candidates: list[str]
    interest: str
    themes: str | None
    others: np.ndarray
    max_chars: int
    context_terms: list[str] = []
    examples: list[str] = []
    #: each candidate line alone, for the classifier, when it reads this embedder's vectors
    lines: list[str] = []

    def texts(self) -> list[str]:
        extra = ([self.interest] if self.interest else []) + ([self.themes] if self.themes else [])
        return self.good + self.bad + self.past + self.candidates + extra + self.lines


def scoring_inputs(
    actx: AgentContext,
    deps: AgentDeps,
    variant_texts: list[str] | None = None,
    lines: list[str] | None = None,
) -> ScoringInputs:
    emb, guide, kind = deps.scoring_embedder, actx.guide, actx.request.kind
    examples = guide.examples.get(kind)
    own_themes = (
        actx.bundle.profile.favourite_themes if actx.personalized and actx.bundle.profile else []
    )
    others = np.zeros((0, emb.dim), np.float32)
    if own_themes:
        ids, vecs = other_customers(actx.request.brand, deps)
        keep = [i for i, cid in enumerate(ids) if cid != actx.request.customer_id]
        others = vecs[keep] if len(keep) else others
    past: list[str] = []
    if actx.personalized and actx.request.customer_id:
        if actx.past is not None:  # read ahead for the batch
            past = actx.past
        else:
            past = deps.past_texts(
                actx.request.brand, actx.request.customer_id, kind, deps.settings
            )
    return ScoringInputs(
        good=(list(examples.do) if examples else []) + [e.text for e in actx.exemplars],
        bad=list(examples.dont) if examples else [],
        past=past,
        candidates=list(variant_texts or []),
        interest=interest_text(actx),
        themes=theme_text(own_themes) if own_themes else None,
        others=others,
        max_chars=limit_chars(actx),
        context_terms=context_terms(actx),
        examples=prompt_examples(actx, deps.settings.prompts_dir),
        lines=list(lines or []),
    )


def assemble_scoring_context(
    inputs: ScoringInputs,
    vectors: dict[str, np.ndarray],
    dim: int,
    lines: LineVectors | None = None,
) -> ScoringContext:
    return ScoringContext(
        good=_rows(vectors, inputs.good, dim),
        bad=_rows(vectors, inputs.bad, dim),
        interest=vectors[inputs.interest] if inputs.interest else None,
        own_themes=vectors[inputs.themes] if inputs.themes else None,
        others=inputs.others,
        past=_rows(vectors, inputs.past, dim),
        max_chars=inputs.max_chars,
        candidates={t: vectors[t] for t in inputs.candidates},
        context_terms=inputs.context_terms,
        examples=inputs.examples,
        lines=lines or LineVectors(),
    )


def _lines_in_pass(deps: AgentDeps) -> tuple[Embedder | None, bool]:
    """(whose vectors the classifier reads, whether the scoring pass embeds them)."""
    emb = line_embedder(deps.scoring_embedder, deps.embedder, deps.settings.copy_quality_vectors,
                        deps.line_reader)  # fmt: skip
    return emb, emb is not None and emb.name == deps.scoring_embedder.name


def build_scoring_context(
    actx: AgentContext,
    deps: AgentDeps,
    variant_texts: list[str] | None = None,
    lines: list[str] | None = None,
) -> ScoringContext:
    """Reference vectors; ``variant_texts`` (and the candidates' ``lines``, when the
    classifier reads the scoring embedder's vectors) are embedded in the same model call."""
    lemb, shared = _lines_in_pass(deps)
    inputs = scoring_inputs(actx, deps, variant_texts, lines if shared else None)
    vectors = _embed_once(deps.scoring_embedder, inputs.texts())
    got = None
    if lemb is not None and shared:
        got = LineVectors(embedder=lemb.name, space=lemb.space,
                          vectors={t: vectors[t] for t in inputs.lines})  # fmt: skip
    return assemble_scoring_context(inputs, vectors, deps.scoring_embedder.dim, got)


def build_scoring_contexts(
    items: list[tuple[AgentContext, list[str], list[str]]], deps: AgentDeps
) -> list[ScoringContext]:
    """The batch variant, for (context, candidate texts, candidate lines) per draft: every
    draft's references, candidates and lines in ONE embedder call; when the classifier
    reads another embedder's vectors than scoring's, its lines in one more for the batch."""
    lemb, shared = _lines_in_pass(deps)
    all_inputs = [
        scoring_inputs(actx, deps, texts, lines if shared else None) for actx, texts, lines in items
    ]
    vectors = _embed_once(deps.scoring_embedder, [t for inp in all_inputs for t in inp.texts()])
    if lemb is not None and not shared:
        vectors_of_lines = _embed_once(lemb, [t for _, _, lines in items for t in lines])
    else:
        vectors_of_lines = vectors
    out = []
    for inp, (_, _, lines) in zip(all_inputs, items, strict=True):
        got = None
        if lemb is not None:
            got = LineVectors(embedder=lemb.name, space=lemb.space,
                              vectors={t: vectors_of_lines[t] for t in lines})  # fmt: skip
        out.append(assemble_scoring_context(inp, vectors, deps.scoring_embedder.dim, got))
    return out


def _top_mean(sims: np.ndarray, k: int = 3) -> np.ndarray:
    """Per variant (column), the mean of its k highest similarities to the references."""
    if sims.shape[0] == 0:
        return np.zeros(sims.shape[1])
    return np.sort(sims, axis=0)[-k:].mean(axis=0)


# Each scorer takes every variant's vector at once (rows of ``vecs``): one matrix product
# per reference set instead of one per variant, on the request path.
def brand_voice(vecs: np.ndarray, sctx: ScoringContext) -> np.ndarray:
    if sctx.good.size == 0 and sctx.bad.size == 0:
        return np.full(len(vecs), 0.5)
    margin = _top_mean(sctx.good @ vecs.T) - _top_mean(sctx.bad @ vecs.T)
    return np.clip(0.5 + margin, 0.0, 1.0)


def relevance(vecs: np.ndarray, sctx: ScoringContext) -> np.ndarray:
    if sctx.interest is None:
        return np.zeros(len(vecs))
    return np.clip(vecs @ sctx.interest, 0.0, 1.0)


def specificity(vecs: np.ndarray, sctx: ScoringContext) -> np.ndarray:
    """Share of other customers each draft fits worse than it fits this one."""
    if sctx.own_themes is None or sctx.others.shape[0] == 0:
        return np.zeros(len(vecs))
    own = vecs @ sctx.own_themes
    return np.mean((sctx.others @ vecs.T) < own, axis=0)


def main_line_vectors(
    variants: list[Variant], embedder: Embedder, line_vecs: LineVectors | None
) -> np.ndarray | None:
    """The main lines' vectors in the scoring embedder's space, when the classifier's line
    vectors are that embedder's (the demo's MiniLM: nothing is embedded again); else None."""
    if line_vecs is None or line_vecs.embedder != embedder.name:
        return None
    texts = [v.content.main_text() for v in variants]
    if not all(t in line_vecs.vectors for t in texts):
        return None
    return np.stack([line_vecs.vectors[t] for t in texts])


def specific_credit(specific: float, quality: float) -> float:
    """The main line's specificity credit (weights-2026.12.4): none under the sendable
    threshold, whole from ``SPECIFIC_FULL_AT``."""
    ramp = (quality - SENDABLE_THRESHOLD) / (SPECIFIC_FULL_AT - SENDABLE_THRESHOLD)
    return SPECIFIC_WEIGHT * specific * min(1.0, max(0.0, ramp))


def length_fit(text: str, max_chars: int) -> float:
    n = len(text)
    if n == 0:
        return 0.0
    if n > max_chars:
        return float(max(0.0, 1.0 - (n - max_chars) / max_chars))
    low = 0.4 * max_chars
    return 1.0 if n >= low else float(n / low)


def novelty(vecs: np.ndarray, sctx: ScoringContext) -> np.ndarray:
    if sctx.past.shape[0] == 0:
        return np.ones(len(vecs))
    return np.clip(1.0 - np.max(sctx.past @ vecs.T, axis=0), 0.0, 1.0)


def variant_texts(variants: list[Variant]) -> list[str]:
    return [v.content.all_text() or " " for v in variants]


def candidate_vectors(
    variants: list[Variant], sctx: ScoringContext, embedder: Embedder
) -> np.ndarray:
    """The candidates' vectors: from the inline scoring call, else one call for the rest."""
    texts = variant_texts(variants)
    missing = [t for t in texts if t not in sctx.candidates]
    vectors = {**sctx.candidates, **_embed_once(embedder, missing)}
    return _rows(vectors, texts, embedder.dim)


def score_variants(
    variants: list[Variant],
    sctx: ScoringContext,
    embedder: Embedder,
    quality_weight: float = 0.5,
    *,
    vecs: np.ndarray | None = None,
    line_vecs: LineVectors | None = None,
) -> list[Variant]:
    """Scores on every variant, best first (``vecs``: their vectors, when already made;
    ``line_vecs``: each line's vector for the copy-quality classifier's semantic head).

    With ``quality_weight`` w > 0: relevance and specificity count only as far as the line
    is sendable (a list of the customer's themes is close to them in meaning, but is not
    personal copy), total = (1 - w) * weighted parts + w * quality, and a line below the
    sendable threshold loses w more, so it ranks under every sendable line. Among sendable
    lines the main line's own specificity (the subject alone, as the inbox shows it first)
    earns ``specific_credit``: between two fluent lines, the one about this customer wins."""
    if not variants:
        return []
    if vecs is None:
        vecs = candidate_vectors(variants, sctx, embedder)
    columns: dict[str, np.ndarray | list[float]] = {
        "brand_voice": brand_voice(vecs, sctx),
        "relevance": relevance(vecs, sctx),
        "specificity": specificity(vecs, sctx),
        "length_fit": [length_fit(v.content.main_text(), sctx.max_chars) for v in variants],
        "novelty": novelty(vecs, sctx),
    }
    main = main_line_vectors(variants, embedder, line_vecs) if quality_weight > 0 else None
    main_specific = specificity(main, sctx) if main is not None else columns["specificity"]
    scored: list[Variant] = []
    shots = ExampleMatcher(sctx.examples)  # the examples prepared once for every line
    for i, v in enumerate(variants):
        parts = {k: float(col[i]) for k, col in columns.items()}
        cq = copy_quality(v, sctx.context_terms, shots, line_vecs)
        quality = cq.quality
        if quality_weight > 0:
            parts["relevance"] *= quality
            parts["specificity"] *= quality
        total = sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
        if quality_weight > 0:
            total = (1 - quality_weight) * total + quality_weight * quality
            total += specific_credit(float(main_specific[i]), quality)
            if quality < SENDABLE_THRESHOLD:
                total -= quality_weight
        if v.is_fallback:
            total -= FALLBACK_PENALTY
        if any(x.severity == "block" for x in v.violations):
            total -= BLOCKING_PENALTY
        rounded = {k: round(val, 4) for k, val in parts.items()}
        extra = {"quality": quality, "echo": cq.echo, "fluency": cq.fluency, "copied": cq.copied}
        scores = Scores(**rounded, **extra, total=round(total, 4))
        scored.append(v.model_copy(update={"scores": scores}))
    return sorted(scored, key=lambda v: v.scores.total, reverse=True)


def _prepare_scoring(actx: AgentContext, deps: AgentDeps, timer: StageTimer) -> ScoringContext:
    """Scoring references, built once the first candidate is decoding (or after 1 s, so a
    backend that never reports a start cannot stall the draft)."""
    timer.model_started.wait(timeout=1.0)
    return build_scoring_context(actx, deps)


def start_scoring(
    actx: AgentContext, deps: AgentDeps, timer: StageTimer
) -> Future[ScoringContext] | None:
    """The reference vectors of scoring depend only on the context: with a model on another
    machine, prepare them while the candidates decode (contextvars travel along, so the
    trace stays whole). Not beside a model that shares this CPU: on a small machine the
    embedder would only slow its decoding (measured: same wall time, work merely hidden
    inside model time), and not beside an instant fake, where the thread hand-off costs more.
    """
    if deps.llm.shares_cpu:
        return None
    return _PREPARE.submit(contextvars.copy_context().run, _prepare_scoring, actx, deps, timer)


def score_candidates(
    passed: list[Variant],
    actx: AgentContext,
    deps: AgentDeps,
    prepared: Future[ScoringContext] | None,
) -> list[Variant]:
    """The score stage: the passing variants, scored and ranked best first."""
    # inline, the candidates join the references in one embedder call (each has a fixed cost)
    sctx = (
        prepared.result()
        if prepared
        else build_scoring_context(actx, deps, variant_texts(passed), variant_lines(passed))
    )
    return score_batch_item(passed, sctx, actx, deps)


#: the kinds the copy-quality classifier was trained for: one-line marketing copy (subject
#: lines and preheaders, headlines). A chat answer is a paragraph composed from an FAQ
#: passage; it is judged by the support check, and the classifier would only penalise its
#: length (a grounded answer scored below zero in the demo).
QUALITY_KINDS = frozenset({"subject_line", "hero"})


def score_batch_item(
    passed: list[Variant], sctx: ScoringContext, actx: AgentContext, deps: AgentDeps
) -> list[Variant]:
    """Gate and rank one draft's candidates against its prepared references (shared by the
    single path and the batched campaign path)."""
    emb = deps.scoring_embedder
    vecs = candidate_vectors(passed, sctx, emb)
    passed, vecs = semantic_gate(passed, vecs, actx, emb)  # the guard, by meaning
    # each line alone, for the quality classifier: from the scoring pass when it made them
    lemb = line_embedder(emb, deps.embedder, deps.settings.copy_quality_vectors, deps.line_reader)
    lines = line_vectors(passed, lemb, known=sctx.lines)
    kind = actx.request.kind
    weight = deps.settings.copy_quality_weight if kind in QUALITY_KINDS else 0.0
    scored = score_variants(passed, sctx, emb, weight, vecs=vecs, line_vecs=lines)
    return rank_with_clicks(scored, kind, deps)  # predicted CTR, a small term


def clear_caches() -> None:
    """Forget the other customers' vectors (tests; a re-ingest changes who they are)."""
    with _OTHERS_LOCK:
        _OTHERS.clear()
