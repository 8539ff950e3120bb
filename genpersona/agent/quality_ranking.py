"""The copy-quality reading of a whole variant, as ranking uses it.

``quality.assess`` reads one line; a variant has a main line and, for subject lines and
heroes, a second one (preheader, subheadline) that the customer sees right under it.
Here both are read against what the prompt showed the model: the customer's context
(copying it back is echo) and the few-shot lines (copying one is not new copy), with
the lines' vectors for the classifier's semantic head when it has a head for an
embedder at hand (MiniLM, the shipped one; or the scoring embedder, whose pass then
embeds the lines too: ``line_embedder``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from genpersona.agent.context_stage import AgentContext
from genpersona.agent.quality import FUNCTION_WORDS, assess, load_model
from genpersona.agent.quality_examples import ExampleMatcher, copy_penalty, recipe_example_lines
from genpersona.agent.quality_structure import pair_repeat
from genpersona.embeddings.base import Embedder
from genpersona.types.content import Variant

#: weight of the second line (preheader, subheadline) in a variant's quality
SECOND_LINE_WEIGHT = 0.25


class VariantQuality(BaseModel):
    quality: float
    echo: float
    fluency: float | None
    #: the larger closeness of its two lines to a few-shot line of the prompt
    copied: float
    #: share of the second line's content words the main line already says (0: no second line)
    repeat: float = 0.0


def prompt_examples(actx: AgentContext, prompts_dir: Path) -> list[str]:
    """Every copy line a completion prompt for this request may have shown: the recipes'
    examples, the brand's sent lines (the guide's do-examples) and the approved exemplars."""
    kind = actx.request.kind
    if kind == "chat_answer":
        return []
    guide = actx.guide.examples.get(kind)
    sent = [t.split("|")[0].strip() for t in guide.do] if guide else []
    approved = [e.text for e in actx.exemplars]
    return list(dict.fromkeys(recipe_example_lines(prompts_dir, kind) + sent + approved))


def _lines(v: Variant) -> list[str]:
    second = v.content.preheader or v.content.subheadline
    return [v.content.main_text()] + ([second] if second and not v.content.answer else [])


def variant_lines(variants: list[Variant]) -> list[str]:
    """The distinct lines the classifier reads in these variants (main and second lines)."""
    return list(dict.fromkeys(t for v in variants for t in _lines(v) if t))


def line_embedder(
    scoring: Embedder,
    shipped: Embedder | None,
    use_vectors: bool = True,
    reader: Embedder | None = None,
) -> Embedder | None:
    """Whose vectors feed the classifier's semantic head: the configured line ``reader``
    (``copy_quality_embedder``) when the model has a head for its space; else the scoring
    embedder's when it has one (its vectors come from the scoring pass, nothing is
    embedded twice), else the shipped embedder's when it has one, else nobody's (lexical
    head; also with ``use_vectors`` false, the setting ``copy_quality_vectors``)."""
    if not use_vectors:
        return None
    model = load_model()
    for emb in (reader, scoring, shipped):
        if emb is not None and model.wants(emb.space):
            return emb
    return None


class LineVectors(BaseModel):
    """Lines' vectors for the classifier's semantic head, and whose vectors they are."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    embedder: str | None = None
    #: the vector space the semantic head reads them in (``Embedder.space``)
    space: str | None = None
    vectors: dict[str, np.ndarray] = {}


def line_vectors(
    variants: list[Variant], embedder: Embedder | None, known: LineVectors | None = None
) -> LineVectors:
    """Each distinct line's vector (``known`` ones reused; the rest in one embedder call)
    when the classifier has a semantic head for this embedder; otherwise none (the
    lexical head is used)."""
    if embedder is None or not load_model().wants(embedder.space):
        return LineVectors()
    have = known.vectors if known is not None and known.embedder == embedder.name else {}
    texts = variant_lines(variants)
    missing = [t for t in texts if t not in have]
    fresh = dict(zip(missing, embedder.embed(missing), strict=True)) if missing else {}
    return LineVectors(
        embedder=embedder.name,
        space=embedder.space,
        vectors={t: have[t] if t in have else fresh[t] for t in texts},
    )


def copy_quality(
    v: Variant,
    terms: list[str],
    examples: Sequence[str] | ExampleMatcher | None = None,
    vectors: LineVectors | None = None,
) -> VariantQuality:
    """A variant's quality: its main line, with the second line counted in at a quarter.
    Either line copied from the prompt's examples costs the whole variant (the customer
    would read the recipe's line), so the copy penalty is the larger of the two. The
    guide's own fallback lines are exempt: being the guide's line is their point.
    A second line counts only for what it adds: its quality is scaled by the share of its
    content words the main line does not already say (``pair_repeat``), so a preheader
    that repeats its subject ranks under one that complements it."""
    vectors = vectors or LineVectors()
    shots: Sequence[str] | ExampleMatcher = () if v.is_fallback or examples is None else examples
    lines = _lines(v)
    readings = [
        assess(
            t,
            terms,
            v.lm_logprob if i == 0 else None,
            vector=vectors.vectors.get(t),
            embedder=vectors.space or vectors.embedder,
            examples=shots,
        )  # fmt: skip
        for i, t in enumerate(lines)
    ]
    main = readings[0]
    copied = max(r.copied for r in readings)
    repeat = 0.0
    if len(readings) == 1:
        quality = main.quality
    else:
        repeat = pair_repeat(lines[0], lines[1], FUNCTION_WORDS)
        second = readings[1].quality * (1.0 - repeat)
        quality = (1 - SECOND_LINE_WEIGHT) * main.quality + SECOND_LINE_WEIGHT * second
        quality *= 1.0 - copy_penalty(readings[1].copied)  # a copied preheader sinks it too
    return VariantQuality(quality=round(quality, 4), echo=main.echo, fluency=main.fluency,
                          copied=copied, repeat=round(repeat, 4))  # fmt: skip
