"""Stored campaign definitions, versioned: a changed file is a new version, an unchanged one is not.

The digest is over the validated definition (canonical JSON), not the file's
bytes, so re-indenting a file or reordering its keys is not a new version, but
changing any value is. Old versions stay, so a run can say which version made it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import time

from pydantic import BaseModel
from sqlalchemy import func, select

from genpersona.campaigns.automation_tables import CampaignDefinitionRow
from genpersona.campaigns.definitions import CampaignDefinition
from genpersona.db.engine import session_scope
from genpersona.errors import CampaignDefinitionError
from genpersona.settings import Settings


class AppliedDefinition(BaseModel):
    brand: str
    name: str
    version: int
    changed: bool
    source: str = ""


class StoredDefinition(BaseModel):
    version: int
    source: str
    definition: CampaignDefinition


def digest_of(definition: CampaignDefinition) -> str:
    canonical = json.dumps(definition.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def apply_definitions(
    definitions: Sequence[CampaignDefinition],
    sources: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> list[AppliedDefinition]:
    """Store every definition that changed, in one transaction (all or nothing)."""
    sources = list(sources) if sources is not None else [""] * len(definitions)
    out: list[AppliedDefinition] = []
    with session_scope(settings) as session:
        for definition, source in zip(definitions, sources, strict=True):
            latest = session.scalars(
                select(CampaignDefinitionRow)
                .where(
                    CampaignDefinitionRow.brand == definition.brand,
                    CampaignDefinitionRow.name == definition.name,
                )
                .order_by(CampaignDefinitionRow.version.desc())
                .limit(1)
            ).first()
            digest = digest_of(definition)
            if latest is not None and latest.digest == digest:
                out.append(
                    AppliedDefinition(
                        brand=definition.brand,
                        name=definition.name,
                        version=latest.version,
                        changed=False,
                        source=source,
                    )
                )
                continue
            version = (latest.version if latest is not None else 0) + 1
            session.add(
                CampaignDefinitionRow(
                    brand=definition.brand,
                    name=definition.name,
                    version=version,
                    digest=digest,
                    body=definition.model_dump(mode="json"),
                    source=source,
                )
            )
            out.append(
                AppliedDefinition(
                    brand=definition.brand,
                    name=definition.name,
                    version=version,
                    changed=True,
                    source=source,
                )
            )
    return out


def _to_stored(row: CampaignDefinitionRow) -> StoredDefinition:
    return StoredDefinition(
        version=row.version,
        source=row.source,
        definition=CampaignDefinition.model_validate(row.body),
    )


def get_definition(
    brand: str, name: str, settings: Settings | None = None, version: int | None = None
) -> StoredDefinition:
    with session_scope(settings) as session:
        stmt = select(CampaignDefinitionRow).where(
            CampaignDefinitionRow.brand == brand, CampaignDefinitionRow.name == name
        )
        if version is not None:
            stmt = stmt.where(CampaignDefinitionRow.version == version)
        row = session.scalars(stmt.order_by(CampaignDefinitionRow.version.desc()).limit(1)).first()
        if row is None:
            raise CampaignDefinitionError(
                f"no stored campaign {name!r} for brand {brand!r}"
                + (f" at version {version}" if version is not None else ""),
                fix="store it with `genpersona campaign apply campaigns/` (and check --brand)",
                brand=brand,
                name=name,
                field="name",
            )
        return _to_stored(row)


def find_definition(
    brand: str, name: str, settings: Settings | None = None
) -> StoredDefinition | None:
    try:
        return get_definition(brand, name, settings)
    except CampaignDefinitionError:
        return None


def latest_definitions(
    brand: str | None = None, settings: Settings | None = None
) -> list[StoredDefinition]:
    """The newest version of every stored campaign (of one brand, or of all)."""
    with session_scope(settings) as session:
        newest = (
            select(
                CampaignDefinitionRow.brand,
                CampaignDefinitionRow.name,
                func.max(CampaignDefinitionRow.version).label("version"),
            )
            .group_by(CampaignDefinitionRow.brand, CampaignDefinitionRow.name)
            .subquery()
        )
        stmt = select(CampaignDefinitionRow).join(
            newest,
            (CampaignDefinitionRow.brand == newest.c.brand)
            & (CampaignDefinitionRow.name == newest.c.name)
            & (CampaignDefinitionRow.version == newest.c.version),
        )
        if brand is not None:
            stmt = stmt.where(CampaignDefinitionRow.brand == brand)
        rows = session.scalars(
            stmt.order_by(CampaignDefinitionRow.brand, CampaignDefinitionRow.name)
        )
        return [_to_stored(r) for r in rows]


def definition_for_campaign(
    brand: str, campaign: str, settings: Settings | None = None
) -> CampaignDefinition | None:
    """The definition a campaign name belongs to: the name itself or ``<name>-<period>``."""
    best: CampaignDefinition | None = None
    for stored in latest_definitions(brand, settings):
        name = stored.definition.name
        matches = campaign == name or campaign.startswith(f"{name}-")
        if matches and (best is None or len(name) > len(best.name)):
            best = stored.definition
    return best


def cap_class_of(brand: str, campaign: str, settings: Settings | None = None) -> str:
    """``marketing`` unless the campaign's definition says otherwise (ad-hoc runs are marketing)."""
    d = definition_for_campaign(brand, campaign, settings)
    return d.cap_class if d is not None else "marketing"


def holdout_share_of(brand: str, campaign: str, settings: Settings | None = None) -> float | None:
    d = definition_for_campaign(brand, campaign, settings)
    return d.holdout_share if d is not None else None


def send_window_of(
    brand: str, campaign: str, settings: Settings | None = None
) -> tuple[time, time] | None:
    """The definition's local send window (start, end), or None for ad-hoc campaigns."""
    d = definition_for_campaign(brand, campaign, settings)
    return (d.send_window.start, d.send_window.end) if d is not None else None
