"""Opens that no person made: privacy proxies that prefetch images, and security scanners.

Apple Mail Privacy Protection downloads every image of a message when it is
delivered, through Apple's proxy, with the bare user agent ``Mozilla/5.0``;
corporate scanners (Barracuda, Mimecast, Proofpoint...) fetch them to inspect
the mail. Both inflate open rates without a reader, so they are stored but
flagged and never counted as human opens. Gmail's and Yahoo's image proxies
fetch when the message is displayed, so they stay human opens. A platform's
own flag (SendGrid ``sg_machine_open``, Braze ``machine_open``) always wins.
"""

from __future__ import annotations

APPLE_MPP_AGENT = "Mozilla/5.0"
SCANNER_MARKERS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "symantec",
    "messagelabs",
    "bot",
    "crawler",
    "spider",
    "headlesschrome",
    "python-requests",
    "go-http-client",
    "curl/",
)


def is_machine_open(user_agent: str | None, vendor_flag: object = None) -> bool:
    if vendor_flag is not None:
        return str(vendor_flag).strip().lower() in {"true", "1", "yes"}
    if not user_agent:
        return False
    agent = user_agent.strip()
    if agent == APPLE_MPP_AGENT:
        return True
    lowered = agent.lower()
    return any(marker in lowered for marker in SCANNER_MARKERS)
