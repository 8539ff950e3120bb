"""Stage 2a: the agent context becomes the template variables, in one place.

Every variable any template may use is always passed (``StrictUndefined``
turns a missing one into an error). Static, brand-level values (voice, canary,
examples) and personal values (customer, visitor, conversation) are kept apart
so the templates can put the static ones first for prefix caching.
"""

from __future__ import annotations

import re
from typing import Any

from genpersona.agent.context_stage import AgentContext, anonymous_line

MAX_EXAMPLES = 4
MAX_EXEMPLARS = 3
MAX_FACTS = 3
MAX_PRODUCTS = 3
GENERIC_INTERESTS = "our bestsellers"
EXAMPLE_BRIEF = "gift ideas"


_WORD_RE = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
_STOPWORDS = {
    "your", "with", "from", "that", "this", "what", "when", "wants", "just", "they", "them",
    "every", "because", "were", "feel", "make", "next", "called", "little", "long", "fresh",
    "good", "question", "usually", "soon", "yours", "will", "have", "here", "there",
}  # fmt: skip


def example_interests(text: str, k: int = 3) -> str:
    """Interests an example line plausibly answers, taken from its own nouns.

    Few-shot records that pair 'Interests: bunting, garden, party' with a line
    about bunting teach a small base model to write *from* the interests line,
    which is where the customer's own interests go in the final record.
    """
    words = [w.lower() for w in _WORD_RE.findall(text) if w.lower() not in _STOPWORDS]
    return ", ".join(list(dict.fromkeys(words))[:k])


def _example(text: str, **extra: str) -> dict[str, str]:
    base = {"text": text, "interests": example_interests(text) or GENERIC_INTERESTS,
            "brief": EXAMPLE_BRIEF, "product": "", "sub": "", "cta": "", "question": ""}  # fmt: skip
    base.update(extra)
    return base


def _hero_example(text: str, cta_default: str) -> dict[str, str]:
    """Guide hero examples may be 'headline | subheadline | cta'."""
    parts = [p.strip() for p in text.split("|")]
    headline = parts[0]
    sub = parts[1] if len(parts) > 1 else ""
    cta = parts[2] if len(parts) > 2 else cta_default
    return _example(headline, sub=sub, cta=cta, product="one of our bestsellers")


def examples_for(actx: AgentContext) -> list[dict[str, str]]:
    guide, kind = actx.guide, actx.request.kind
    do = list(guide.examples[kind].do) if kind in guide.examples else []
    cta_default = guide.fallback_cta or "Take a look"
    if kind == "chat_answer":
        shots = [_example(k.answer, question=k.question) for k in guide.knowledge[:2]]
        return shots + [_example(t, question="Can you help me?") for t in do[:2]]
    static = do[:MAX_EXAMPLES]
    dynamic = [e.text for e in actx.exemplars[:MAX_EXEMPLARS] if e.text not in static]
    texts = static + dynamic
    if kind == "hero":
        return [_hero_example(t, cta_default) for t in texts]
    return [_example(t) for t in texts]


def customer_block(actx: AgentContext) -> dict[str, list[str]] | None:
    """Only with personalization consent; every string here is untrusted in the template.

    ``facts`` are the top memories (behavioural and shared) for instruction models;
    ``shared`` only what the customer told us, the one kind of fact a short
    completion prompt for a small base model gets (it copies what it sees)."""
    if not actx.personalized:
        return None
    bundle = actx.bundle
    themes = list(bundle.profile.favourite_themes[:3]) if bundle.profile else []
    products = [r.description.lower() for r in bundle.recommendations[:MAX_PRODUCTS]]
    products = products[: max(0, 5 - len(themes))]  # a short interests line keeps the model on it
    facts = [m.text for m in bundle.memories[:MAX_FACTS]]
    shared = [m.text for m in bundle.memories if m.knowingly_shared][:MAX_FACTS]
    return {"themes": themes, "products": products, "facts": facts, "shared": shared}


def limit_chars(actx: AgentContext) -> int:
    limit = actx.guide.limit_for(actx.request.kind)
    default = {"subject_line": 60, "hero": 70, "chat_answer": 400}[actx.request.kind]
    return limit.max_chars if limit and limit.max_chars else default


def history(actx: AgentContext) -> list:
    """The turns before the customer's latest message (which the template shows last)."""
    turns = actx.request.conversation
    last = max((i for i, t in enumerate(turns) if t.role == "customer"), default=len(turns))
    return turns[:last]


def prompt_variables(actx: AgentContext, *, repair_note: str = "") -> dict[str, Any]:
    guide, request = actx.guide, actx.request
    return {
        # static, brand-level
        "brand": {"name": guide.name, "voice": ", ".join(guide.voice), "locale": guide.locale},
        "canary": actx.canary,
        "kind": request.kind,
        "limits_chars": limit_chars(actx),
        "examples": examples_for(actx),
        "avoid": list(guide.examples[request.kind].dont[:3])
        if request.kind in guide.examples
        else [],
        # request-level
        "brief": request.brief,
        "knowledge": [{"question": k.question, "answer": k.answer} for k in actx.knowledge],
        "featured": [f.model_dump() for f in actx.featured],
        # personal, always last in the templates
        "customer": customer_block(actx),
        "context_line": anonymous_line(request.anonymous) if not actx.personalized else "",
        "conversation": [t.model_dump() for t in history(actx)],
        "message": actx.last_message,
        "regenerate_note": request.regenerate_note or "",
        "repair_note": repair_note,
    }
