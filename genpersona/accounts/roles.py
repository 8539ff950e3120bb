"""Console roles and what each may do.

Why three roles: the person who drafts feedback should not be the one who
publishes it unchecked, and changing the brand guide (which steers every later
draft) or managing accounts is rarer and riskier still. Roles are cumulative:
an approver can do everything a reviewer can, an admin everything an approver can.

| action            | reviewer | approver | admin |
|-------------------|----------|----------|-------|
| view queue/drafts | yes      | yes      | yes   |
| reject            | yes      | yes      | yes   |
| regenerate        | yes      | yes      | yes   |
| approve, bulk     | no       | yes      | yes   |
| edit and approve  | no       | yes      | yes   |
| accept/dismiss suggested guide rules | no | no | yes |
| manage accounts (CLI)                | no | no | yes |
"""

from __future__ import annotations

from typing import Literal, get_args

from genpersona.errors import Forbidden

Role = Literal["reviewer", "approver", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal["view", "reject", "regenerate", "approve", "edit", "rules", "accounts"]

_MIN_ROLE: dict[Action, Role] = {
    "view": "reviewer",
    "reject": "reviewer",
    "regenerate": "reviewer",
    "approve": "approver",
    "edit": "approver",
    "rules": "admin",
    "accounts": "admin",
}


def allowed(role: str, action: Action) -> bool:
    """True when ``role`` may do ``action``; an unknown role may do nothing."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(_MIN_ROLE[action])


def require(role: str, action: Action, *, account: str = "") -> None:
    if not allowed(role, action):
        needed = _MIN_ROLE[action]
        raise Forbidden(
            f"the {role} role may not {action}" + (f" ({account})" if account else ""),
            fix=f"ask an admin for the {needed} role: genpersona accounts create/set-role",
            role=role,
            action=action,
            needed_role=needed,
        )
