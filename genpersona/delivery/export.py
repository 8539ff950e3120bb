"""Export a campaign for an email platform: one row per recipient, each logged as an exposure.

Each recipient goes through ``deliver_to_customer`` (channel ``email``), the
same lookup the pull endpoint uses, so a customer who is both pulled and
exported gets one choice and one exposure row. Decisions, documented in
docs/guides/delivery.md:

- holdout customers *are* exported, with the brand's generic copy and
  ``holdout=true``: the lift over the holdout is measured on what the holdout
  really received, so they must be sent (and tracked) like everyone else;
- customers who opted out of personalization are exported with generic copy only;
- customers without email consent are not exported at all (counted in the report);
- genpersona keeps no email addresses: ``sendgrid`` needs an address book
  (CSV ``customer_id,email``); ``klaviyo`` uses it when given and otherwise
  identifies profiles by ``external_id``.

The file is written to a temporary sibling and renamed into place, so a failed
export never leaves a half-written file where the last good one was.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from genpersona.data.tables import Brand, Customer
from genpersona.db.base import utcnow
from genpersona.db.engine import get_engine, session_factory
from genpersona.delivery.caps import CAPPED_REASON
from genpersona.delivery.eligibility import campaign_recipients
from genpersona.delivery.formats import (
    CSV_COLUMNS,
    FORMATS,
    ExportFormat,
    csv_row,
    jsonl_row,
    klaviyo_jobs,
    sendgrid_bodies,
)
from genpersona.delivery.models import DeliveredContent
from genpersona.delivery.policy import Policy
from genpersona.delivery.send_times import campaign_window, send_times
from genpersona.delivery.service import deliver_to_customer
from genpersona.errors import ContentNotFound, ExportError
from genpersona.settings import Settings, get_settings

STATUSES: dict[str, tuple[str, ...]] = {"approved": ("approved", "edited"), "edited": ("edited",)}


class ExportReport(BaseModel):
    brand: str
    campaign: str
    format: ExportFormat
    path: str
    rows: int = 0
    personalized: int = 0
    holdout: int = 0
    generic: int = 0
    #: files hold this many request bodies (SendGrid batches, Klaviyo jobs); 0 for csv/jsonl
    bodies: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)


def read_address_book(path: Path) -> dict[str, str]:
    """``customer_id,email`` CSV (header row required) -> {customer_id: email}."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"customer_id", "email"} <= set(reader.fieldnames):
                raise ExportError(
                    f"{path} has no customer_id and email columns",
                    fix="give a CSV whose header row is: customer_id,email",
                    path=str(path),
                )
            return {
                r["customer_id"].strip(): r["email"].strip()
                for r in reader
                if r.get("customer_id") and r.get("email") and "@" in r["email"]
            }
    except OSError as exc:
        raise ExportError(
            f"cannot read the address book {path}: {exc.strerror}",
            fix="pass --emails with the path of a readable customer_id,email CSV",
            path=str(path),
        ) from exc


def _email_consent(brand: str, settings: Settings) -> dict[str, bool]:
    with session_factory(settings)() as session:
        return dict(
            session.execute(
                select(Customer.external_id, Customer.consent_email)
                .join(Brand, Brand.id == Customer.brand_id)
                .where(Brand.slug == brand)
            )
            .tuples()
            .all()
        )


def _write_atomically(out: Path, write: Callable[[Any], object]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            write(fh)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_lines(records: Iterable[dict[str, Any]]) -> Callable[[Any], int]:
    def write(fh: Any) -> int:
        count = 0
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
        return count

    return write


def export_campaign(
    brand: str,
    campaign: str,
    fmt: str,
    out: Path,
    *,
    status: str = "approved",
    emails: dict[str, str] | None = None,
    sendgrid_from: str | None = None,
    sendgrid_template: str | None = None,
    klaviyo_list: str | None = None,
    send_after: datetime | None = None,
    settings: Settings | None = None,
    policy: Policy | None = None,
) -> ExportReport:
    settings = settings or get_settings()
    if fmt not in FORMATS:
        raise ExportError(
            f"unknown export format {fmt!r}",
            fix=f"use one of: {', '.join(FORMATS)}",
            format=fmt,
        )
    if status not in STATUSES:
        raise ExportError(
            f"unknown --status {status!r}",
            fix="use approved (approved or edited drafts) or edited (edited drafts only)",
        )
    if fmt == "sendgrid" and (emails is None or not sendgrid_from or not sendgrid_template):
        raise ExportError(
            "a SendGrid export needs recipient addresses, a sender and a dynamic template",
            fix="pass --emails customer_id,email CSV, --from-email and --template-id d-...",
        )
    with session_factory(settings)() as session:
        recipients = campaign_recipients(session, brand, campaign, STATUSES[status])
    if not recipients:
        raise ExportError(
            f"campaign {campaign!r} of brand {brand!r} has no {status} drafts",
            fix="approve drafts in the review queue (genpersona console) first, "
            "and check the campaign name with `genpersona campaign list`",
            brand=brand,
            campaign=campaign,
        )
    consent = _email_consent(brand, settings)
    report = ExportReport(brand=brand, campaign=campaign, format=fmt, path=str(out))
    skipped: Counter[str] = Counter()
    delivered: list[tuple[DeliveredContent, str | None]] = []
    for customer_id, _draft_id in recipients:
        if not consent.get(customer_id, False):
            skipped["no_email_consent"] += 1
            continue
        email = (emails or {}).get(customer_id)
        if fmt == "sendgrid" and not email:
            skipped["no_email_address"] += 1
            continue
        try:
            row = deliver_to_customer(
                brand, campaign, customer_id, "email", settings=settings, policy=policy
            )
        except ContentNotFound:
            skipped["not_approved"] += 1
            continue
        if row.reason == CAPPED_REASON:
            skipped[CAPPED_REASON] += 1  # the frequency cap: no message (logged as an exposure)
            continue
        delivered.append((row, email))
    if delivered:
        when = send_times(
            get_engine(settings),
            brand,
            [r.customer_id or "" for r, _ in delivered],
            send_after or utcnow(),
            window=campaign_window(brand, campaign, settings),
        )
        for row, _ in delivered:
            sent = when.get(row.customer_id or "")
            row.send_at = sent.isoformat(timespec="minutes") if sent else None
    _write(fmt, out, delivered, report, sendgrid_from, sendgrid_template, klaviyo_list)
    report.rows = len(delivered)
    report.holdout = sum(r.holdout for r, _ in delivered)
    report.generic = sum(r.fallback for r, _ in delivered)
    report.personalized = report.rows - report.generic
    report.skipped = dict(skipped)
    return report


def _write(
    fmt: str,
    out: Path,
    delivered: list[tuple[DeliveredContent, str | None]],
    report: ExportReport,
    sendgrid_from: str | None,
    sendgrid_template: str | None,
    klaviyo_list: str | None,
) -> None:
    if fmt == "csv":

        def write_csv(fh: Any) -> None:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(csv_row(r) for r, _ in delivered)

        _write_atomically(out, write_csv)
    elif fmt == "jsonl":
        _write_atomically(out, _json_lines(jsonl_row(r) for r, _ in delivered))
    elif fmt == "sendgrid":
        bodies = list(
            sendgrid_bodies(
                [(r, e) for r, e in delivered if e],
                from_email=sendgrid_from or "",
                template_id=sendgrid_template or "",
            )
        )
        report.bodies = len(bodies)
        _write_atomically(out, _json_lines(bodies))
    else:
        jobs = list(klaviyo_jobs(delivered, list_id=klaviyo_list))
        report.bodies = len(jobs)
        _write_atomically(out, _json_lines(jobs))
