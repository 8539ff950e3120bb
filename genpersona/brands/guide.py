"""The brand guide: a marketer-editable YAML file, validated into typed rules.

Every field here is something a validator in ``genpersona.guard`` checks, so a
rule a marketer writes down is a rule the machine enforces. Models forbid
unknown keys: a typo in the YAML must be an error that names the field, never a
rule silently ignored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from genpersona.types.content import ContentKind

Channel = Literal["email", "web", "chat"]
Severity = Literal["block", "warn"]
FieldName = Literal["subject", "preheader", "headline", "subheadline", "cta", "answer"]
SensitiveCategory = Literal[
    "health",
    "pregnancy",
    "religion",
    "ethnicity",
    "sexuality",
    "financial_distress",
    "life_events",
    "age",
    "surveillance",
]
ALL_SENSITIVE: tuple[str, ...] = (
    "health",
    "pregnancy",
    "religion",
    "ethnicity",
    "sexuality",
    "financial_distress",
    "life_events",
    "age",
    "surveillance",
)


def _field_limits() -> dict[FieldName, LengthLimit]:
    """Defaults for the parts of a variant that have no kind-level limit of their own."""
    return {
        "preheader": LengthLimit(max_chars=110, max_words=20),
        "subheadline": LengthLimit(max_chars=160, max_words=28),
        "cta": LengthLimit(max_chars=28, max_words=5),
    }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindExamples(_Strict):
    """Lines that show the voice (do) and lines that must never ship (dont)."""

    do: list[str] = Field(default_factory=list)
    dont: list[str] = Field(default_factory=list)


class TermRule(_Strict):
    """A banned word or phrase. ``term`` is matched as whole words with simple inflections."""

    term: str | None = None
    pattern: str | None = Field(default=None, description="raw regex instead of a term")
    reason: str = ""
    suggestion: str | None = None
    severity: Severity = "block"
    case_sensitive: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"term": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_of(self) -> TermRule:
        if bool(self.term) == bool(self.pattern):
            raise ValueError("give exactly one of 'term' (a word or phrase) or 'pattern' (a regex)")
        if self.pattern:
            _compile_or_raise(self.pattern)
        return self

    @property
    def label(self) -> str:
        return self.term or self.pattern or ""


class PreferredTerm(_Strict):
    """'email, not e-mail': the words in ``instead_of`` are replaced by ``use``."""

    use: str
    instead_of: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list, description="raw regexes also replaced")
    reason: str = ""
    severity: Severity = "warn"
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _some(self) -> PreferredTerm:
        if not self.instead_of and not self.patterns:
            raise ValueError(f"preferred term {self.use!r} needs 'instead_of' or 'patterns'")
        for p in self.patterns:
            _compile_or_raise(p)
        return self


class CasingRule(_Strict):
    """A word that must be written exactly so ('GitHub', 'internet') except in listed names."""

    term: str
    exceptions: list[str] = Field(default_factory=list)
    allow_sentence_start: bool = True
    severity: Severity = "warn"


class PatternRule(_Strict):
    """A free-form regex rule (punctuation, symbols) with an optional safe replacement."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    pattern: str
    message: str
    replacement: str | None = None
    severity: Severity = "warn"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _compile_or_raise(value)
        return value


class Claim(_Strict):
    """One approved claim: the exact words that may be used, and when."""

    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    kind: Literal[
        "offer", "price", "percentage", "free_delivery", "guarantee", "rate", "superlative", "other"
    ] = "offer"
    wording: str = Field(min_length=2)
    variants: list[str] = Field(default_factory=list, description="other exact wordings allowed")
    valid_from: date | None = None
    valid_until: date | None = None
    channels: list[Channel] | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _dates(self) -> Claim:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(
                f"claim {self.id!r}: valid_until {self.valid_until} is before valid_from {self.valid_from}"
            )
        return self

    def status_on(self, day: date, channel: str | None = None) -> str:
        """'valid', 'expired', 'not_yet_valid' or 'wrong_channel'."""
        if self.valid_from and day < self.valid_from:
            return "not_yet_valid"
        if self.valid_until and day > self.valid_until:
            return "expired"
        if channel and self.channels and channel not in self.channels:
            return "wrong_channel"
        return "valid"

    @property
    def wordings(self) -> list[str]:
        return [self.wording, *self.variants]


DEFAULT_CLAIM_TRIGGERS: list[str] = [
    "free",
    "guarantee",
    "guaranteed",
    "best",
    "save",
    "saving",
    "savings",
    "discount",
    "discounted",
    "cheapest",
    "cheaper",
    "lowest",
    "half price",
    "half-price",
    "sale",
    "clearance",
    "bargain",
    "cashback",
    "money back",
    "price match",
    "unbeatable",
    "number one",
    "no fees",
    "fee-free",
    "interest-free",
    "risk-free",
    "buy one get one",
    "two for one",
    "three for two",
    "half off",
    "bogof",
    "award-winning",
]

DEFAULT_CLAIM_INNOCENT: list[str] = [
    "feel free",
    "free-standing",
    "free standing",
    "hands-free",
    "free time",
    "free spirit",
    "free-spirited",
    "set free",
    "free to",
    "best wishes",
    "all the best",
    "best regards",
    "best friend",
    "best friends",
    "best man",
    "best before",
    "do our best",
    "try our best",
    "at its best",
    "at their best",
    "looking its best",
    "look your best",
    "save the date",
    "save for later",
    "save it for later",
    "saved for later",
    "save your favourites",
    "save your favorites",
    "save your basket",
    "save your place",
    "save your progress",
    "for sale",
    "not for sale",
    "point of sale",
]


class ClaimPolicy(_Strict):
    """What counts as a claim (must be registered) and what is innocent wording."""

    triggers: list[str] = Field(default_factory=lambda: list(DEFAULT_CLAIM_TRIGGERS))
    extra_triggers: list[str] = Field(default_factory=list)
    innocent_phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_CLAIM_INNOCENT))
    extra_innocent_phrases: list[str] = Field(default_factory=list)
    check_prices: bool = True
    check_percentages: bool = True
    registry: list[Claim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ClaimPolicy:
        seen: set[str] = set()
        for c in self.registry:
            if c.id in seen:
                raise ValueError(f"claim id {c.id!r} appears twice; claim ids must be unique")
            seen.add(c.id)
        return self


class LengthLimit(_Strict):
    max_chars: int | None = Field(default=None, gt=0)
    max_words: int | None = Field(default=None, gt=0)
    min_chars: int = Field(default=0, ge=0)
    min_words: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _order(self) -> LengthLimit:
        if self.max_chars is not None and self.min_chars > self.max_chars:
            raise ValueError("min_chars is larger than max_chars")
        if self.max_words is not None and self.min_words > self.max_words:
            raise ValueError("min_words is larger than max_words")
        return self


class StyleLimits(_Strict):
    """Shouting limits: ALL-CAPS words, exclamation marks, emoji (per text field)."""

    max_caps_words: int = Field(default=0, ge=0)
    allowed_caps: list[str] = Field(
        default_factory=lambda: ["UK", "US", "USA", "EU", "FAQ", "VAT", "OK", "PS", "DIY", "TV"]
    )
    max_exclamations: int = Field(default=1, ge=0)
    max_emoji: int = Field(default=0, ge=0)


class SpellingPolicy(_Strict):
    severity: Severity = "block"
    exceptions: list[str] = Field(default_factory=list, description="words never flagged")


class SensitivePolicy(_Strict):
    """The creepy line: categories never mentioned, with innocent-use exceptions."""

    categories: list[SensitiveCategory] = Field(
        default_factory=lambda: cast(list[SensitiveCategory], list(ALL_SENSITIVE))
    )
    extra_terms: dict[SensitiveCategory, list[str]] = Field(default_factory=dict)
    allowed_phrases: list[str] = Field(
        default_factory=list, description="innocent uses added to the built-in ones"
    )
    severity: Severity = "block"


class LeakagePolicy(_Strict):
    """Contact details the brand itself may print (its own help line, its own address)."""

    allowed_contacts: list[str] = Field(default_factory=list)


class ChatPolicy(_Strict):
    """How the chatbot hands over and which links it may print (see docs/guides/chat-safety.md)."""

    handoff_line: str | None = Field(
        default=None,
        description="said when the brand's knowledge does not support an answer; "
        "default: the first chat_answer fallback line",
    )
    decline_line: str | None = Field(
        default=None,
        description="said to off-topic, abusive or manipulative messages; default: handoff_line",
    )
    link_hosts: list[str] = Field(
        default_factory=list,
        description="hosts customer-facing text may link to (subdomains included); the hosts "
        "of allowed contact e-mails are always allowed",
    )


class KnowledgeEntry(_Strict):
    question: str = Field(min_length=3)
    answer: str = Field(min_length=3)
    tags: list[str] = Field(default_factory=list)
    also_asked: list[str] = Field(
        default_factory=list,
        description="other ways customers ask this question (matched like the question itself; "
        "the chat retrieves an entry by its closest phrasing)",
    )

    @property
    def phrasings(self) -> list[str]:
        return [self.question, *self.also_asked]


class BrandGuide(_Strict):
    """A brand's voice and rules. ``id`` is the file stem; guides are immutable once loaded."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    name: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$", description="YYYY.MM.N")
    description: str = ""
    locale: Literal["en-GB", "en-US"]
    voice: list[str] = Field(min_length=1)
    examples: dict[ContentKind, KindExamples] = Field(default_factory=dict)
    fallbacks: dict[ContentKind, list[str]] = Field(default_factory=dict)
    fallback_cta: str | None = None
    banned_terms: list[TermRule] = Field(default_factory=list)
    preferred_terms: list[PreferredTerm] = Field(default_factory=list)
    casing: list[CasingRule] = Field(default_factory=list)
    patterns: list[PatternRule] = Field(default_factory=list)
    competitors: list[str] = Field(default_factory=list)
    disclaimers: dict[Channel, list[str]] = Field(default_factory=dict)
    claims: ClaimPolicy = Field(default_factory=ClaimPolicy)
    limits: dict[ContentKind, LengthLimit] = Field(default_factory=dict)
    field_limits: dict[FieldName, LengthLimit] = Field(default_factory=_field_limits)
    style: StyleLimits = Field(default_factory=StyleLimits)
    style_by_kind: dict[ContentKind, StyleLimits] = Field(default_factory=dict)
    spelling: SpellingPolicy = Field(default_factory=SpellingPolicy)
    sensitive: SensitivePolicy = Field(default_factory=SensitivePolicy)
    leakage: LeakagePolicy = Field(default_factory=LeakagePolicy)
    knowledge: list[KnowledgeEntry] = Field(default_factory=list)
    chat: ChatPolicy = Field(default_factory=ChatPolicy)

    # compiled matchers, built once per guide by genpersona.guard.compiled
    _compiled: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> BrandGuide:
        banned = {t.term.lower() for t in self.banned_terms if t.term}
        for p in self.preferred_terms:
            if p.use.lower() in banned:
                raise ValueError(
                    f"preferred term {p.use!r} is also a banned term; remove one of the two"
                )
        return self

    @property
    def handoff_line(self) -> str:
        """What the chatbot says when it cannot answer from the brand's knowledge."""
        lines = self.fallbacks.get("chat_answer", [])
        return self.chat.handoff_line or (lines[0] if lines else "")

    @property
    def decline_line(self) -> str:
        return self.chat.decline_line or self.handoff_line

    def limit_for(self, kind: ContentKind) -> LengthLimit | None:
        return self.limits.get(kind)

    def style_for(self, kind: ContentKind) -> StyleLimits:
        return self.style_by_kind.get(kind, self.style)

    @property
    def rule_count(self) -> int:
        return (
            len(self.banned_terms)
            + sum(len(p.instead_of) + len(p.patterns) for p in self.preferred_terms)
            + len(self.casing)
            + len(self.patterns)
            + len(self.competitors)
            + sum(len(v) for v in self.disclaimers.values())
            + len(self.claims.registry)
            + len(self.limits)
        )


def _compile_or_raise(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regex {pattern!r} does not compile: {exc}") from exc
