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
from genpersona.agent.recipes import Recipe, RecipeBook, RecipeExample
from genpersona.types.content import ContentKind

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


def _plain(term: str) -> str:
    """A theme or catalog description as words a sentence can hold ('JUMBO BAG RED' -> 'jumbo
    bag red'); trailing sizes and codes dropped."""
    words = [w for w in re.split(r"[\s,/]+", term.lower()) if w and not any(c.isdigit() for c in w)]
    return " ".join(words[:4])


#: interests the background sentence names (the lead one rotates per candidate)
BACKGROUND_INTERESTS = 3
#: few-shot records every candidate of a kind shares (the cached static prefix)
SHARED_SHOTS = 3


def customer_interests(actx: AgentContext) -> list[str]:
    """The customer's interests in plain words: favourite themes, then the top
    recommended item, without repeats."""
    block = customer_block(actx)
    if block is None:
        return []
    terms = [_plain(t) for t in block["themes"] + block["products"][:1]]
    return [t for t in dict.fromkeys(terms) if t]


def lead_interest(actx: AgentContext, focus: int = 0) -> str:
    """The interest candidate ``focus`` is about ("" when there is none to name)."""
    terms = customer_interests(actx)
    return terms[focus % len(terms)] if terms else ""


def background_line(actx: AgentContext, focus: int = 0) -> str:
    """The customer as one background sentence, shaped like the examples' backgrounds.

    Up to three interests in plain words, the lead one rotating per candidate (``focus``)
    so the candidates between them cover what this customer buys, as a sentence ("often
    buys A and B, and lately C"), never a list: a small base model copies a list verbatim
    into the line and only imitates a sentence. Two interests were too few: the lines
    came out about anyone (specificity 25 % in the 2026.12.1 eval)."""
    block = customer_block(actx)
    brief = actx.request.brief.strip()
    about = f", reading about {brief}" if brief else ""
    if block is None:
        line = anonymous_line(actx.request.anonymous) if actx.request.anonymous else ""
        who = f"a visitor ({line})" if line else "a shopper we do not know yet"
        return who + about
    terms = customer_interests(actx)
    if not terms:
        return "a returning customer" + about
    k = focus % len(terms)
    picked = [terms[(k + i) % len(terms)] for i in range(min(BACKGROUND_INTERESTS, len(terms)))]
    line = f"a customer who often buys {' and '.join(picked[:2])}"
    if len(picked) > 2:
        line += f", and lately {picked[2]}"
    return line + about


def _label(theme: str) -> str:
    """A theme label as a sentence holds it: labels are written by people ("Easter and
    spring"), so their case is kept; sizes and codes dropped."""
    words = [w for w in re.split(r"[\s/]+", theme.strip()) if w and not any(c.isdigit() for c in w)]
    return " ".join(words[:5])


def lead_interests(actx: AgentContext) -> list[str]:
    """What the candidates of a draft are about, one each in turn (prompts 2026.12.4): the
    customer's rarest favourite theme (themes are the categories the specificity of a line
    is judged against), then their two rarest together by their head words; the top
    recommended item only for a customer without themes. A catalogue description
    ("assorted colour bird ornament") made lines about one item that read as about anyone
    who buys home decor."""
    block = customer_block(actx)
    if block is None:
        return []
    share_of = {_label(t): actx.theme_shares.get(t, 2.0) for t in block["themes"]}
    themes = [t for t in share_of if t]
    if not themes:
        return [t for t in (_plain(p) for p in block["products"][:1]) if t]
    # rarest first: a line about a theme every other customer shares fits them as well as
    # this one. On the copy eval's 100 demo customers against 9 random others, a sentence
    # about the customer's first favourite told them apart 44 times in 100, about their
    # rarest 63; about two head words together ("candles and bags"), 59 for the first two
    # favourites and 77 for the two rarest (`python -m evals.copy.lead_phrases`). Themes
    # missing from the shares keep their favourite order, after the counted ones. Only
    # these two leads: a candidate about a common theme was a line about anyone.
    themes = sorted(themes, key=lambda t: share_of[t])  # stable: ties keep favourite order
    if len(themes) > 1:
        # each by its head word ("candles and kitchen" for "candles and lanterns" and
        # "kitchen and baking"): two whole labels in one line read as a list of them
        pair = f"{head_word(themes[0])} and {head_word(themes[1])}"
        return [themes[0], pair] if pair not in themes else themes[:2]
    return themes


def head_word(label: str) -> str:
    """A theme label's head word: "candles and lanterns" -> "candles", "home decor" as is."""
    return label.split(" and ")[0].strip() or label


def lead_of(actx: AgentContext, focus: int = 0) -> str:
    """The one interest candidate ``focus`` is about ("" when there is none to name)."""
    terms = lead_interests(actx)
    return terms[focus % len(terms)] if terms else ""


def lead_background(actx: AgentContext, focus: int = 0) -> str:
    """The customer as the examples' backgrounds are written (prompts 2026.12.4): the one
    interest this candidate is about, and the campaign it reads about. Each example names
    one interest and its line names it back; a background of three interests ("A and B, and
    lately C", 2026.12.2) gave the model no one thing to write about, and its lines came
    out about gifts and winter in general (specificity 25 %)."""
    lead = lead_of(actx, focus)
    if not lead:
        return background_line(actx, focus)
    brief = actx.request.brief.strip()
    about = f", reading about {brief}" if brief else ""
    return f"a customer who often buys {lead}{about}"


def recipe_shots(
    book: RecipeBook, recipe: Recipe, kind: ContentKind, k: int = 4
) -> list[dict[str, str]]:
    """Few-shot records for one candidate (prompts 2026.12.1, kept for the archived
    templates): its own recipe's examples first, then one from each other recipe."""
    if kind not in ("subject_line", "hero"):
        return []
    own = [(recipe, e) for e in recipe.examples(kind)]
    others = [(r, r.examples(kind)[0]) for r in book.recipes.values()
              if r.angle != recipe.angle and r.examples(kind)]  # fmt: skip
    # the own angle last, right before the open record it should continue
    chosen = others[: max(0, k - len(own))] + own
    return [{**e.model_dump(), "angle_brief": r.brief} for r, e in chosen]


def _shot(recipe: Recipe, example: RecipeExample) -> dict[str, str]:
    return {**example.model_dump(), "angle_brief": recipe.brief_for(example.interest)}


def shared_shots(book: RecipeBook, kind: ContentKind) -> list[dict[str, str]]:
    """The records every candidate's prompt starts with: the first example of the first
    ``SHARED_SHOTS`` recipes. Identical for every candidate and customer of a brand, so
    llama.cpp evaluates this prefix once and serves it from its prompt cache after."""
    if kind not in ("subject_line", "hero"):
        return []
    return [_shot(r, r.examples(kind)[0]) for r in list(book.recipes.values())[:SHARED_SHOTS]
            if r.examples(kind)]  # fmt: skip


def own_shot(book: RecipeBook, recipe: Recipe, kind: ContentKind) -> dict[str, str] | None:
    """The candidate's own recipe example, right before its open record: the first one the
    shared records do not already show."""
    if kind not in ("subject_line", "hero"):
        return None
    shown = {
        id(e) for r in list(book.recipes.values())[:SHARED_SHOTS] for e in r.examples(kind)[:1]
    }
    rest = [e for e in recipe.examples(kind) if id(e) not in shown]
    return _shot(recipe, rest[0]) if rest else None


def candidate_variables(
    actx: AgentContext, book: RecipeBook, recipe: Recipe, candidate: int
) -> dict[str, Any]:
    """The per-candidate part: its recipe (the angle about its lead interest), its own
    few-shot record and its background line."""
    kind = actx.request.kind
    return {
        "recipe": {
            "angle": recipe.angle,
            "brief": recipe.brief_for(lead_interest(actx, candidate)),
        },
        "shots": recipe_shots(book, recipe, kind),
        "shared_shots": shared_shots(book, kind),
        "own_shot": own_shot(book, recipe, kind),
        "background": background_line(actx, focus=candidate),
        "lead": _lead(actx, recipe, candidate),
    }


def _lead(actx: AgentContext, recipe: Recipe | None, candidate: int) -> dict[str, str]:
    """The candidate's one interest, its background and its angle about it (2026.12.4)."""
    interest = lead_of(actx, candidate)
    brief = recipe.brief_for(interest) if recipe else "something this customer will like"
    return {"interest": interest, "background": lead_background(actx, candidate), "brief": brief}


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
        "guide_lines": [
            t.split("|")[0].strip() for t in guide.examples[request.kind].do[:MAX_EXAMPLES]
        ]
        if request.kind in guide.examples
        else [],
        # approved by this brand's reviewers, closest to this request: after the static part
        "approved_lines": [e.text for e in actx.exemplars[:MAX_EXEMPLARS]],
        # request-level
        "brief": request.brief,
        "knowledge": [{"question": k.question, "answer": k.answer} for k in actx.knowledge],
        "featured": [f.model_dump() for f in actx.featured],
        # personal, always last in the templates
        "customer": customer_block(actx),
        "context_line": anonymous_line(request.anonymous) if not actx.personalized else "",
        "conversation": [t.model_dump() for t in history(actx)],
        "sent": list(actx.sent),
        "message": actx.last_message,
        "regenerate_note": request.regenerate_note or "",
        "repair_note": repair_note,
        # per-candidate (generation overrides these with ``candidate_variables``)
        "recipe": {"angle": "general", "brief": "something this customer will like"},
        "shots": [],
        "shared_shots": [],
        "own_shot": None,
        "background": background_line(actx),
        "lead": _lead(actx, None, 0),
    }
