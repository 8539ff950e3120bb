"""Grounded chat: decide, before any model call, what the brand can truthfully say.

For the customer's latest message this finds the passages that could answer it
(the brand's FAQ/policy entries, then its catalog for "do you sell ..." questions)
and picks one outcome:

- ``answer`` — a passage supports an answer: the best FAQ entry by a hybrid of word
  overlap and MiniLM similarity over its phrasings, with its lead over the next entry
  (``passage_search.confidence``), reaches the threshold fitted on the chat eval's dev part. With a small base model the answer
  is *composed* from that passage (lightly personalised with consented context);
  an instruction-tuned model writes it and the guard's support rule checks it.
- ``handoff`` — a shop question nothing supports (an order, an account, a
  complaint): the brand's handoff line.
- ``decline`` — off-topic, abusive, or an attempt to instruct the assistant: the
  brand's decline line. The message is never obeyed, whatever it says.

Which passages were used is recorded in the draft's rationale and returned by the API.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from genpersona.agent.chat_input import focus_question
from genpersona.agent.deps import AgentDeps
from genpersona.agent.passage_search import confidence, params_for, rank
from genpersona.brands.guide import BrandGuide
from genpersona.context.models import ContextBundle
from genpersona.guard.validators.harmful import harmful_categories
from genpersona.guard.validators.injection import looks_like_injection
from genpersona.vectors.base import CATALOG

ChatOutcome = Literal["answer", "handoff", "decline"]
AnswerMode = Literal["compose", "generate"]

_PRODUCT_RE = re.compile(
    r"\b(?:do you (?:sell|have|stock|do|make|carry)|have you got|are there any|is there an?"
    r"|i'?m looking for|looking for an?|any (?:\w+ )?(?:in stock|available)|sell any)\b",
    re.IGNORECASE,
)
_SHOP_RE = re.compile(
    r"\b(?:orders?|ordered|account|refunds?|charged?|charges|payments?|paid|pay|parcels?"
    r"|deliver\w*|ship\w*|post(?:age|code)?|couriers?|tracking|invoices?|receipts?|discount"
    r"|codes?|vouchers?|coupons?|complain\w*|manager|address|items?|products?|basket|checkout"
    r"|passwords?|log ?in|sign ?in|email|subscri\w*|newsletter|unsubscribe|missing|wrong|broken"
    r"|damaged|smashed|cracked|arrived|phone|number|call|late|return\w*|exchange|gift\w*|wrap\w*|cards?|stock|size|colour|price|cost"
    r"|shop|store|website|app|data|delete|personal|cancel\w*|change)\b",
    re.IGNORECASE,
)
#: questions about one customer's own order, money or account need a person even when an
#: FAQ entry looks close ("I was charged twice for order 58213")
_PERSONAL_RE = re.compile(
    r"\b(?:charged|double[- ]charged|declined|complain\w*|manager|delete my|close my"
    r"|log ?in|password|my (?:account|data|card|refund)|didn'?t work|order (?:no\.?|number|#)?\s*\d{4,})",
    re.IGNORECASE,
)
#: a catalog hit must be this close to the question to be offered as "yes, we sell it"
CATALOG_MIN_SCORE = 0.5


class Passage(BaseModel):
    """One piece of the brand's knowledge an answer may draw on."""

    id: str  # faq:3, catalog:22423
    source: Literal["faq", "catalog"]
    title: str
    text: str
    score: float = 0.0


class Grounding(BaseModel):
    question: str
    outcome: ChatOutcome
    reason: str
    mode: AnswerMode
    passages: list[Passage] = Field(default_factory=list)
    #: the words to say without the model (composed answer, handoff or decline line);
    #: None when an instruction-tuned model writes the answer
    scripted: str | None = None

    @property
    def passage_texts(self) -> list[str]:
        return [p.text for p in self.passages]


def _sentence_case(description: str) -> str:
    text = " ".join(description.split()).lower()
    return text[:1].upper() + text[1:]


def catalog_passage(brand: str, question: str, deps: AgentDeps) -> Passage | None:
    """The closest catalog item, when it is close enough to be what they asked about."""
    try:
        hits = deps.store.query(
            CATALOG, deps.embedder.embed_one(question), k=1, where={"brand": brand}
        )
    except Exception:  # noqa: BLE001 - no catalog indexed for this brand: no product passage
        return None
    if not hits or hits[0].score < CATALOG_MIN_SCORE:
        return None
    code = hits[0].id.rsplit(":", 1)[-1]
    try:
        found = deps.catalog_items(brand, [code], deps.settings).get(code)
    except Exception:  # noqa: BLE001 - catalog table missing (vectors without a database)
        return None
    if found is None:
        return None
    name = _sentence_case(found.description)
    price = f" for £{found.price:.2f}" if found.price is not None else ""
    return Passage(
        id=f"catalog:{code}",
        source="catalog",
        title=name,
        text=f"Yes, we sell the {name}{price}.",
        score=float(hits[0].score),
    )


def personal_opener(bundle: ContextBundle) -> str:
    """A light, consented touch: a returning customer is thanked for coming back."""
    if bundle.personalized and bundle.profile is not None and bundle.profile.frequency >= 2:
        return "Thanks for shopping with us again. "
    return ""


def answer_mode(deps: AgentDeps) -> AnswerMode:
    setting = deps.settings.chat_answer_mode
    if setting != "auto":
        return setting
    return "generate" if deps.llm.instruction_tuned else "compose"


def screen(message: str) -> tuple[ChatOutcome, str] | None:
    """The outcome decided by the message alone, before any retrieval (None: retrieve)."""
    if looks_like_injection(message):
        return "decline", "the message tries to instruct the assistant"
    if harmful_categories(message):
        return "decline", "the message is abusive"
    if _PERSONAL_RE.search(message):
        return "handoff", "the question is about the customer's own order or account"
    return None


def answer_threshold(deps: AgentDeps) -> float:
    setting = deps.settings.chat_min_passage_score
    return setting if setting is not None else params_for(deps.embedder.name).threshold


def ground(guide: BrandGuide, message: str, bundle: ContextBundle, deps: AgentDeps) -> Grounding:
    """The outcome for ``message`` and the passages behind it (see the module docstring)."""
    mode = answer_mode(deps)
    question = focus_question(message)

    def closed(outcome: ChatOutcome, reason: str) -> Grounding:
        line = guide.handoff_line if outcome == "handoff" else guide.decline_line
        return Grounding(question=question, outcome=outcome, reason=reason, mode=mode,
                         scripted=line)  # fmt: skip

    early = screen(message)
    if early is not None:
        return closed(*early)
    params = params_for(deps.embedder.name)
    ranked = rank(guide, question, deps.embedder, deps.store, params)
    sure = confidence(ranked, params)
    passages = [
        Passage(
            id=f"faq:{s.index}",
            source="faq",
            title=s.entry.question,
            text=s.entry.answer,
            score=round(sure, 4),
        )  # fmt: skip
        for s in ranked[:1]
        if sure >= answer_threshold(deps)
    ]
    if not passages and _PRODUCT_RE.search(question):
        item = catalog_passage(guide.id, question, deps)
        if item is not None:
            passages = [item]
    if not passages:
        if _SHOP_RE.search(message) or _PRODUCT_RE.search(question):
            return closed("handoff", "no passage of the brand's knowledge answers it")
        return closed("decline", "the question is not about the shop")
    scripted = personal_opener(bundle) + passages[0].text if mode == "compose" else None
    return Grounding(
        question=question,
        outcome="answer",
        reason=f"answered from {passages[0].id} ({passages[0].title})",
        mode=mode,
        passages=passages,
        scripted=scripted,
    )
