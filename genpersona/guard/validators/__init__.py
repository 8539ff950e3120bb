"""One module per rule family; ``FIELD_VALIDATORS`` runs on every text field of a draft."""

from __future__ import annotations

from collections.abc import Callable

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.guard.validators.claims import claims
from genpersona.guard.validators.creepy import creepy
from genpersona.guard.validators.harmful import harmful
from genpersona.guard.validators.injection import injection
from genpersona.guard.validators.internals import internals
from genpersona.guard.validators.leakage import leakage
from genpersona.guard.validators.length import length
from genpersona.guard.validators.links import links
from genpersona.guard.validators.safety import safety
from genpersona.guard.validators.style import caps, emoji, exclamations, spelling
from genpersona.guard.validators.support import support
from genpersona.guard.validators.terms import banned, casing, competitors, patterns, preferred
from genpersona.types.violations import Violation

Validator = Callable[[FieldText, CheckOptions], list[Violation]]

# (rule family, validator); families are what reports list as "rules checked"
FIELD_VALIDATORS: list[tuple[str, Validator]] = [
    ("banned_term", banned),
    ("preferred_term", preferred),
    ("casing", casing),
    ("pattern", patterns),
    ("competitor", competitors),
    ("claim", claims),
    ("length", length),
    ("style.caps", caps),
    ("style.exclamation", exclamations),
    ("style.emoji", emoji),
    ("spelling.locale", spelling),
    ("creepy", creepy),
    ("leak", leakage),
    ("output", safety),
    ("harmful", harmful),
    ("injection", injection),
    ("internal", internals),
    ("link", links),
    ("support", support),
]

__all__ = ["FIELD_VALIDATORS", "CheckOptions", "FieldText", "Validator"]
