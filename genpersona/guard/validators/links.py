"""Links: no markdown images, and links only to hosts the brand allows.

An image in a chat answer is fetched by the customer's browser the moment it is
shown: with an attacker's URL that is a beacon (and, with query strings, an
exfiltration channel). So images are blocked outright, and any link or bare
domain must be on the guide's ``chat.link_hosts`` (or be the domain of one of its
allowed contact e-mails); subdomains of an allowed host are fine.
"""

from __future__ import annotations

import re

from genpersona.guard.validators.base import CheckOptions, FieldText
from genpersona.types.violations import Violation

IMAGE_RE = re.compile(r"!\[[^\]\n]*\]\s*\([^)\n]*\)|!\[[^\]\n]*\]\s*\[[^\]\n]*\]")
_TLD = r"(?:com|net|org|io|co|uk|info|biz|xyz|ru|cn|app|dev|me|ly|gg|top|site|online|shop|store)"
URL_RE = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<host>[^\s/:?#)\]>\"']+)"
    r"|(?<![@\w.-])(?P<bare>(?:www\.)?(?:[a-z0-9-]+\.)+" + _TLD + r")(?![\w-])",
    re.IGNORECASE,
)


def allowed_hosts(f: FieldText) -> set[str]:
    hosts = {h.lower().lstrip(".") for h in f.guide.chat.link_hosts}
    for contact in f.guide.leakage.allowed_contacts:
        if "@" in contact:
            hosts.add(contact.rsplit("@", 1)[1].lower())
    return hosts


def host_allowed(host: str, allowed: set[str]) -> bool:
    host = host.lower().rstrip(".").split("@")[-1]
    return any(host == a or host.endswith("." + a) for a in allowed)


def links(f: FieldText, opts: CheckOptions) -> list[Violation]:
    out: list[Violation] = []
    for m in IMAGE_RE.finditer(f.text):
        out.append(
            f.violation(
                "link.image",
                "block",
                "contains an embedded image",
                m.start(),
                m.end(),
                suggestion="plain text only, no images",
            )  # fmt: skip
        )
    allowed = allowed_hosts(f)
    for m in URL_RE.finditer(f.text):
        host = m.group("host") or m.group("bare") or ""
        if host_allowed(host, allowed):
            continue
        out.append(
            f.violation(
                "link.host",
                "block",
                f"links to a site the brand does not allow ({host})",
                m.start(),
                m.end(),
                suggestion="link only to the brand's own website",
            )  # fmt: skip
        )
    return out
