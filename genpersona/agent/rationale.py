"""Stage 6: "why this draft" — what it used, what it relied on, what was checked.

The customer-facing line only ever names behaviour ("you often buy ...") or
what the customer knowingly told us; inferred notes inform the copy but are
never quoted back, and opted-out customers are told nothing was personalised.
"""

from __future__ import annotations

import re

from genpersona.agent.context_stage import AgentContext, anonymous_line
from genpersona.agent.prompting import RenderedPrompt
from genpersona.llm.base import LLM
from genpersona.types.content import Rationale, Variant

_WORD = re.compile(r"[a-z]{3,}")
_STOP = {
    "the",
    "and",
    "for",
    "you",
    "your",
    "our",
    "with",
    "this",
    "that",
    "are",
    "from",
    "set",
    "sets",
}


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower())} - _STOP


def _best_overlap(candidates: list[str], text: str) -> tuple[str | None, int]:
    target = _words(text)
    best, best_n = None, 0
    for c in candidates:
        n = len(_words(c) & target)
        if n > best_n:
            best, best_n = c, n
    return best, best_n


def customer_line(actx: AgentContext, top: Variant) -> str:
    """One plain sentence a customer could be shown next to the copy."""
    if not actx.personalized:
        line = anonymous_line(actx.request.anonymous)
        if line:
            return f"Picked for visitors {line}; nothing about you personally was used."
        return "Not personalised: written for every customer, without your data."
    bundle = actx.bundle
    text = top.content.all_text()
    shared = [m.text for m in bundle.memories if m.knowingly_shared]
    fact, fact_n = _best_overlap(shared, text)
    themes = list(bundle.profile.favourite_themes) if bundle.profile else []
    theme, theme_n = _best_overlap(themes, text)
    if fact and fact_n >= theme_n:
        return f"Because you told us: “{fact}”"
    theme = theme or (themes[0] if themes else None)
    if theme:
        return f"Because you often buy {theme.lower()}"
    if actx.featured:
        return f"Because {actx.featured[0].description.lower()} suits what you have bought before"
    return "Based on what you have bought from us"


def build_rationale(
    actx: AgentContext,
    top: Variant,
    variants: list[Variant],
    prompt: RenderedPrompt,
    llm: LLM,
    rules_checked: list[str],
) -> Rationale:
    bundle = actx.bundle
    facts: list[str] = []
    items: list[str] = []
    if actx.personalized:
        if bundle.profile:
            facts += [f"favourite theme: {t}" for t in bundle.profile.favourite_themes[:3]]
        facts += [f"memory #{m.fact_id} ({m.source}): {m.text}" for m in bundle.memories[:3]]
        items += [
            f"{r.stock_code} {r.description} ({r.reason})" for r in bundle.recommendations[:3]
        ]
    elif actx.request.anonymous:
        facts.append(f"visitor context: {anonymous_line(actx.request.anonymous)}")
    items += [f"{f.stock_code} {f.description} (featured)" for f in actx.featured]
    facts += [f"brand knowledge: {k.question}" for k in actx.knowledge]
    grounding = actx.grounding
    if grounding is not None:
        facts += [f"{p.source}: {p.title}" for p in grounding.passages if p.source != "faq"]
        # a guard fallback is the handoff line: nothing safe could be said from the passages
        outcome = "handoff" if top.is_fallback and grounding.outcome == "answer" else None
        knowledge_used = [p.id for p in grounding.passages] if not outcome else []
    else:
        knowledge_used = [k.question for k in actx.knowledge]
    return Rationale(
        customer_line=customer_line(actx, top),
        facts_used=facts,
        items_used=list(dict.fromkeys(items)),
        consent=bundle.consent,
        personalized=actx.personalized,
        rules_checked=rules_checked,
        model=llm.model,
        backend=llm.backend,
        prompt_template=prompt.template,
        prompt_version=prompt.version,
        exemplar_ids=[e.id for e in actx.exemplars],
        conversation=list(actx.request.conversation),
        anonymous=actx.request.anonymous,
        channel=actx.request.channel,
        knowledge_used=knowledge_used,
        chat_outcome=(outcome or grounding.outcome) if grounding is not None else None,
        passages=[p.model_dump() for p in grounding.passages] if grounding and not outcome else [],
    )
