"""Export file formats: CSV / JSONL merge rows, SendGrid mail-send bodies, Klaviyo import jobs.

Pure functions from delivered rows to records; writing files is ``export.py``'s job.
Vendor limits, as the vendors document them:

- SendGrid v3 Mail Send: at most 1,000 ``personalizations`` per request and
  1,000 recipients in total; each address at most once per request; the
  ``to`` array needs an ``email``; dynamic templates read ``dynamic_template_data``;
  ``custom_args`` values are strings and come back on every Event Webhook event
  (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors,
  https://www.twilio.com/docs/sendgrid/for-developers/sending-email/personalizations,
  https://www.twilio.com/docs/sendgrid/api-reference/mail-send).
  Only ids go in ``custom_args`` (they are echoed to webhooks and logs): no copy,
  no address, no customer id.
- Klaviyo Bulk Import Profiles (``POST /api/profile-bulk-import-jobs``): body
  ``{"data": {"type": "profile-bulk-import-job", "attributes": {"profiles":
  {"data": [{"type": "profile", "attributes": {...}}]}}}}``, at most 10,000
  profiles and 5 MB per job; null values do not clear a field, so absent copy is
  sent as "" rather than null (a previous campaign's value would otherwise stay)
  (https://developers.klaviyo.com/en/reference/bulk_import_profiles,
  https://developers.klaviyo.com/en/docs/use_klaviyos_bulk_profile_import_api).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from genpersona.delivery.models import COPY_FIELDS, DeliveredContent

ExportFormat = Literal["csv", "jsonl", "sendgrid", "klaviyo"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "sendgrid", "klaviyo")

SENDGRID_MAX_PERSONALIZATIONS = 1000
KLAVIYO_MAX_PROFILES = 10_000
KLAVIYO_MAX_BYTES = 5 * 1024 * 1024
#: featured items flattened into CSV columns (merge tags cannot index lists)
CSV_FEATURED = 3

CSV_COLUMNS = (
    "customer_id",
    "brand",
    "campaign",
    *COPY_FIELDS,
    *[f"featured_{i}_{f}" for i in range(1, CSV_FEATURED + 1) for f in ("code", "name", "price")],
    "draft_id",
    "variant",
    "tag",
    "holdout",
    "fallback",
    "reason",
    "send_at",
)


def csv_row(row: DeliveredContent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customer_id": row.customer_id,
        "brand": row.brand,
        "campaign": row.campaign,
        **{name: getattr(row, name) or "" for name in COPY_FIELDS},
        "draft_id": row.draft_id if row.draft_id is not None else "",
        "variant": row.variant if row.variant is not None else "",
        "tag": row.tag or "",
        "holdout": str(row.holdout).lower(),
        "fallback": str(row.fallback).lower(),
        "reason": row.reason or "",
        "send_at": row.send_at or "",
    }
    for i in range(CSV_FEATURED):
        item = row.featured_items[i] if i < len(row.featured_items) else None
        out[f"featured_{i + 1}_code"] = item.stock_code if item else ""
        out[f"featured_{i + 1}_name"] = item.description if item else ""
        out[f"featured_{i + 1}_price"] = "" if item is None or item.price is None else item.price
    return out


def jsonl_row(row: DeliveredContent) -> dict[str, Any]:
    return {"customer_id": row.customer_id, **row.body()}


def custom_args(row: DeliveredContent) -> dict[str, str]:
    """Ids only: SendGrid echoes these on every event, which is how outcomes find the exposure."""
    return {
        "gp_tag": row.tag or "",
        "gp_draft_id": "" if row.draft_id is None else str(row.draft_id),
        "gp_variant": "" if row.variant is None else str(row.variant),
        "gp_campaign": row.campaign,
    }


def template_data(row: DeliveredContent) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(row, name) for name in COPY_FIELDS}
    data["featured_items"] = [item.model_dump(mode="json") for item in row.featured_items]
    data["fallback"] = row.fallback
    return data


def sendgrid_bodies(
    rows: Sequence[tuple[DeliveredContent, str]],
    *,
    from_email: str,
    template_id: str,
    batch_size: int = SENDGRID_MAX_PERSONALIZATIONS,
) -> Iterator[dict[str, Any]]:
    """One v3 mail-send body per batch of at most 1,000 (row, address) pairs."""
    batch_size = max(1, min(batch_size, SENDGRID_MAX_PERSONALIZATIONS))
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        yield {
            "from": {"email": from_email},
            "template_id": template_id,
            "personalizations": [
                {
                    "to": [{"email": email}],
                    "dynamic_template_data": template_data(row),
                    "custom_args": custom_args(row),
                }
                for row, email in chunk
            ],
        }


def klaviyo_profile(row: DeliveredContent, email: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {f"gp_{name}": getattr(row, name) or "" for name in COPY_FIELDS}
    properties |= {
        "gp_featured_items": [item.model_dump(mode="json") for item in row.featured_items],
        "gp_campaign": row.campaign,
        "gp_tag": row.tag or "",
        "gp_draft_id": "" if row.draft_id is None else str(row.draft_id),
        "gp_variant": "" if row.variant is None else str(row.variant),
        "gp_fallback": row.fallback,
    }
    attributes: dict[str, Any] = {"external_id": row.customer_id}
    if email:
        attributes["email"] = email
    attributes["properties"] = properties
    return {"type": "profile", "attributes": attributes}


def klaviyo_jobs(
    rows: Sequence[tuple[DeliveredContent, str | None]],
    *,
    list_id: str | None = None,
    max_profiles: int = KLAVIYO_MAX_PROFILES,
) -> Iterator[dict[str, Any]]:
    """Bulk-import job bodies of at most 10,000 profiles and 5 MB each."""
    max_profiles = max(1, min(max_profiles, KLAVIYO_MAX_PROFILES))

    def job(profiles: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {"profiles": {"data": profiles}},
            }
        }
        if list_id:
            body["data"]["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
        return body

    profiles: list[dict[str, Any]] = []
    size = len(json.dumps(job([]))) + 1024  # envelope plus headroom
    for row, email in rows:
        profile = klaviyo_profile(row, email)
        profile_size = len(json.dumps(profile, ensure_ascii=False).encode()) + 1
        if profiles and (len(profiles) >= max_profiles or size + profile_size > KLAVIYO_MAX_BYTES):
            yield job(profiles)
            profiles, size = [], len(json.dumps(job([]))) + 1024
        profiles.append(profile)
        size += profile_size
    if profiles:
        yield job(profiles)
