"""What a recipient did with a piece of content: the outcome types every layer speaks of.

One definition, read by the outcome API's schema, the webhook parsers and the
campaign report, so adding a type cannot leave one of them behind.
"""

from __future__ import annotations

from typing import Literal, get_args

OutcomeType = Literal[
    "sent", "delivered", "opened", "clicked", "converted", "unsubscribed", "bounced"
]
OUTCOME_TYPES: tuple[str, ...] = get_args(OutcomeType)
