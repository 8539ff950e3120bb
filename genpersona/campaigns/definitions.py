"""Campaign definitions as files: ``campaigns/*.yaml`` in the brand's repository.

Why files: a campaign that runs unattended must be reviewable like code (a diff
in a pull request says what changes next Monday), and the running system must
be able to say exactly which version of it ran. Each file holds one
definition; ``load_path`` validates a file or a folder *whole* before anything
is stored, and every error names the file, the field and the fix.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genpersona.campaigns.segments import Segment
from genpersona.errors import CampaignDefinitionError

Lifecycle = Literal["new", "active", "lapsed"]
RfmTier = Literal["champions", "loyal", "promising", "at_risk", "hibernating"]
FlowKind = Literal["welcome", "cross_sell", "browse_abandonment", "win_back"]
CapClass = Literal["marketing", "transactional"]

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignSegment(Segment):
    """Today's segment filters plus lifecycle stage and RFM tier (see ``audience.py``)."""

    model_config = ConfigDict(extra="forbid")

    lifecycle: Lifecycle | None = None
    rfm_tier: RfmTier | None = None
    #: a customer is "new" within this many days of their first order, "lapsed" after this many
    new_days: int = Field(default=30, ge=1, le=3650)
    lapsed_days: int = Field(default=90, ge=1, le=3650)

    def base(self) -> Segment:
        return Segment.model_validate(
            self.model_dump(exclude={"lifecycle", "rfm_tier", "new_days", "lapsed_days"})
        )


class ReviewPolicy(_Strict):
    """``all``: people review every draft (today's behaviour). ``auto``: see ``review_policy.py``."""

    mode: Literal["all", "auto"] = "all"
    min_score: float = Field(default=0.6, ge=0, le=1)
    min_similarity: float = Field(default=0.5, ge=-1, le=1)
    audit_share: float = Field(default=0.05, ge=0, le=1)
    pause_rejection_rate: float = Field(default=0.2, ge=0, le=1)
    #: the pause needs this many judged audits, so one early rejection does not stop a campaign
    min_audits: int = Field(default=10, ge=1)


class SendWindow(_Strict):
    """Local hours a message may go out in (the recipient's zone); send_at is kept inside it."""

    start: time = time(8, 0)
    end: time = time(21, 0)

    @model_validator(mode="after")
    def _order(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start (a window within one day, e.g. 08:00-21:00)")
        return self


class Schedule(_Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a 5-field cron expression (minute hour day month weekday), "
                "e.g. '0 9 * * MON'"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/London"
            ) from exc
        return value


class Trigger(_Strict):
    """An event flow. ``delay_hours`` after the event; one fire per customer per ``debounce_hours``."""

    flow: FlowKind
    delay_hours: float = Field(default=0.0, ge=0, le=24 * 90)
    debounce_hours: float = Field(default=24.0, ge=0, le=24 * 365)
    #: browse abandonment: a view not followed by a purchase within this many hours
    wait_hours: float = Field(default=4.0, gt=0, le=24 * 30)
    #: win-back: no order for this many days (checked daily)
    days_without_order: int = Field(default=90, ge=1, le=3650)


class CampaignDefinition(_Strict):
    name: Annotated[str, Field(pattern=_SLUG)]
    brand: Annotated[str, Field(pattern=_SLUG)]
    kind: Literal["subject_line", "hero"] = "subject_line"
    segment: CampaignSegment = Field(default_factory=CampaignSegment)
    brief: Annotated[str, Field(min_length=3, max_length=2000)]
    recipes: list[str] = Field(default_factory=list)
    n: int = Field(default=3, ge=1, le=10)
    holdout_share: float = Field(default=0.1, ge=0, le=1)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    cap_class: CapClass = "marketing"
    send_window: SendWindow = Field(default_factory=SendWindow)
    schedule: Schedule | None = None
    trigger: Trigger | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _one_way_to_start(self) -> CampaignDefinition:
        if (self.schedule is None) == (self.trigger is None):
            raise ValueError(
                "give exactly one of schedule (cron + timezone) or trigger (an event flow)"
            )
        return self


_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove it or check its spelling",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "use lower-case letters, digits, '-' or '_' (e.g. weekly-picks)",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(file)"


def parse_definition(data: Any, source: str) -> CampaignDefinition:
    """Validate one parsed document; CampaignDefinitionError names file, field and fix."""
    if not isinstance(data, dict):
        raise CampaignDefinitionError(
            f"{source}: a campaign file must be a YAML mapping (name: ..., brand: ...)",
            fix="write one campaign per file as key: value pairs",
            file=source,
            field="(file)",
        )
    try:
        return CampaignDefinition.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(tuple(p for p in first["loc"] if not str(p).startswith("function-")))
        problems = [f"{_field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CampaignDefinitionError(
            f"{source}: field {field}: {first['msg']}",
            fix=_FIXES.get(first["type"], "correct the value as the message says")
            + (f" (also: {'; '.join(problems[1:])})" if len(problems) > 1 else ""),
            file=source,
            field=field,
            problems=problems,
        ) from None


def load_file(path: Path) -> CampaignDefinition:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignDefinitionError(
            f"{path}: cannot read the file: {exc.strerror}",
            fix="pass the path of a readable .yaml file",
            file=str(path),
            field="(file)",
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CampaignDefinitionError(
            f"{path}: not valid YAML{where}",
            fix="fix the YAML syntax (indentation, a missing ':' or quote)",
            file=str(path),
            field="(file)",
        ) from exc
    return parse_definition(data, str(path))


def load_path(path: Path) -> list[CampaignDefinition]:
    """One file, or every ``*.yaml``/``*.yml`` under a folder; all valid or an error."""
    if path.is_dir():
        files = sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
        if not files:
            raise CampaignDefinitionError(
                f"{path}: no .yaml campaign files in this folder",
                fix="point at a campaigns/ folder holding one .yaml file per campaign",
                file=str(path),
                field="(file)",
            )
    elif path.exists():
        files = [path]
    else:
        raise CampaignDefinitionError(
            f"{path}: no such file or folder",
            fix="pass a campaign .yaml file or a folder of them",
            file=str(path),
            field="(file)",
        )
    definitions = [load_file(f) for f in files]
    seen: dict[tuple[str, str], Path] = {}
    for f, d in zip(files, definitions, strict=True):
        key = (d.brand, d.name)
        if key in seen:
            raise CampaignDefinitionError(
                f"{f}: campaign {d.name!r} of brand {d.brand!r} is also defined in {seen[key]}",
                fix="give each campaign a unique name",
                file=str(f),
                field="name",
            )
        seen[key] = f
    return definitions


def check_recipe_names(
    definitions: Sequence[CampaignDefinition], sources: Sequence[str], known: Collection[str]
) -> None:
    """Every ``recipes:`` name must be a recipe of the prompts (``prompts/recipes.yaml``);
    checked at apply time so a typo is caught when the file is stored, not on Monday."""
    for d, source in zip(definitions, sources, strict=True):
        unknown = [r for r in d.recipes if r not in known]
        if unknown:
            raise CampaignDefinitionError(
                f"{source}: field recipes: unknown recipe(s) {', '.join(map(repr, unknown))}",
                fix="use names from prompts/recipes.yaml: " + ", ".join(sorted(known)),
                file=source,
                field="recipes",
            )
