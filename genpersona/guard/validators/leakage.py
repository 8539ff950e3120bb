"""Leakage: contact details, other customers' data, prompt text, unfilled template slots."""

from __future__ import annotations

import re

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
EMAIL_OBFUSCATED_RE = re.compile(
    r"[\w.+-]+\s*(?:\[at\]|\(at\)|\sat\s)\s*[A-Za-z0-9-]+\s*(?:\[dot\]|\(dot\)|\sdot\s)\s*[a-z]{2,}",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?<![\w£$€.,/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?|\d{2,5}[\s.-]?)\d{3,4}[\s.-]?\d{3,4}(?![\w%/-])"
)
UK_POSTCODE_RE = re.compile(
    r"(?<![\w])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s?\d[ABD-HJLNP-UW-Z]{2}(?![\w])", re.IGNORECASE
)
STREET_RE = re.compile(
    r"(?<![\w£$€])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Boulevard|Blvd|Court|Ct|Place|"
    r"Crescent|Terrace|Gardens|Grove|Mews|Square|Row|Parade)\b\.?"
)
US_ZIP_RE = re.compile(r"(?<![\w])[A-Z]{2}\s\d{5}(?:-\d{4})?(?![\w])")
PROMPT_TEXT_RE = re.compile(
    r"system prompt|my instructions|as an ai(?: language model)?\b|i am an ai\b|i'm an ai\b"
    r"|<start_of_turn>|<end_of_turn>|<\|im_start\|>|<\|im_end\|>|\[/?inst\]|<bos>|<eos>"
    r"|ignore (?:all )?previous instructions|you are a (?:helpful )?(?:assistant|copywriter)"
    r"|brand guide says|\buntrusted\b.*\bdelimit",
    re.IGNORECASE,
)
PLACEHOLDER_RE = re.compile(
    r"\{\{[^{}]*\}\}|\{%[^%]*%\}|\$\{[^{}]*\}|\{\s*[A-Za-z_][\w.]*\s*\}"
    r"|\[\s*(?:[A-Z][A-Z0-9]*(?:[ _][A-Z0-9]+)*|[a-z]+(?:_[a-z]+)+|(?i:first ?name|last ?name|name|"
    r"customer(?: ?name)?|product(?: ?name)?|insert[^\]]{0,40}|your name|brand|city|date|item))\s*\]"
    r"|<\s*(?:[A-Z][A-Z_]{2,}|(?i:placeholder|insert[^>]{0,40}))\s*>"
    r"|%\(\w+\)[sd]|(?<!\w)%[sd](?!\w)|\b(?:TBD|TKTK|XXX+|FIXME|TODO)\b|(?i:lorem ipsum)"
    r"|__[A-Z][A-Z_]+__"
)


def leakage(f: FieldText, opts: CheckOptions) -> list[Violation]:
    text = f.text
    out: list[Violation] = []

    def add(rule: str, msg: str, s: int, e: int, fix: str) -> None:
        out.append(f.violation(rule, "block", msg, s, e, suggestion=fix))

    for m in EMAIL_RE.finditer(text):
        if m.group().lower() not in f.cg.allowed_contacts:
            add("leak.email", "contains an e-mail address", m.start(), m.end(), "remove it")
    for m in EMAIL_OBFUSCATED_RE.finditer(text):
        add("leak.email", "contains a spelled-out e-mail address", m.start(), m.end(), "remove it")
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 9 <= len(digits) <= 15 and digits not in f.cg.allowed_contact_digits:
            add("leak.phone", "contains a phone number", m.start(), m.end(), "remove it")
    for regex in (UK_POSTCODE_RE, STREET_RE, US_ZIP_RE):
        for m in regex.finditer(text):
            if m.group().lower() not in f.cg.allowed_contacts and not any(
                m.group().lower() in c for c in f.cg.allowed_contacts
            ):
                add("leak.address", "contains a postal address", m.start(), m.end(), "remove it")
    low = text.lower()
    for marker in opts.other_customer_markers:
        marker = marker.strip()
        if len(marker) < 3:
            continue
        for m in re.finditer(r"(?<![^\W_])" + re.escape(marker.lower()) + r"(?![^\W_])", low):
            add(
                "leak.other_customer",
                "contains another customer's data",
                m.start(),
                m.end(),
                "remove it; only this customer's own facts may appear",
            )
    if opts.canary:
        idx = low.find(opts.canary.lower())
        if idx >= 0:
            add(
                "leak.canary",
                "repeats the system prompt (its canary token appeared)",
                idx,
                idx + len(opts.canary),
                "regenerate; never echo instructions",
            )
    for m in PROMPT_TEXT_RE.finditer(text):
        add(
            "leak.prompt_text",
            "contains prompt or model-control text",
            m.start(),
            m.end(),
            "remove it",
        )
    for m in PLACEHOLDER_RE.finditer(text):
        add(
            "leak.placeholder",
            f"unfilled template placeholder '{m.group()}'",
            m.start(),
            m.end(),
            "fill in or remove the placeholder",
        )
    return out
