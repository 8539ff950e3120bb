"""Signature checks of each platform, on the exact bytes received.

Only ``cryptography`` (ECDSA) and the standard library's ``hmac`` do crypto;
every comparison of secrets is constant-time. Each function raises
``WebhookSignatureInvalid`` with what was wrong, never returns False, so a
caller cannot forget to check a result.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from genpersona.errors import WebhookNotConfigured, WebhookSignatureInvalid


def _bad(provider: str, why: str) -> WebhookSignatureInvalid:
    return WebhookSignatureInvalid(
        f"{provider} webhook rejected: {why}",
        fix=f"check that the {provider} key/secret in genpersona's settings matches the one "
        "the platform shows for this webhook",
        provider=provider,
    )


@lru_cache(maxsize=8)
def _ec_key(public_key: str) -> ec.EllipticCurvePublicKey:
    text = public_key.strip()
    try:
        key = (
            load_pem_public_key(text.encode())
            if text.startswith("-----BEGIN")
            else load_der_public_key(base64.b64decode(text, validate=True))
        )
    except (ValueError, binascii.Error) as exc:
        raise WebhookNotConfigured(
            "the SendGrid verification key is not a valid public key",
            fix="copy the Verification Key from SendGrid (Mail Settings > Signed Event Webhook) "
            "into GENPERSONA_SENDGRID_WEBHOOK_PUBLIC_KEY",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookNotConfigured(
            "the SendGrid verification key is not an elliptic-curve key",
            fix="use the ECDSA Verification Key SendGrid shows for the Signed Event Webhook",
        )
    return key


def verify_sendgrid(
    public_key: str, signature: str | None, timestamp: str | None, body: bytes
) -> None:
    """ECDSA (P-256, SHA-256) over ``timestamp + raw body``, as SendGrid signs it."""
    if not signature or not timestamp:
        raise _bad(
            "sendgrid", "the X-Twilio-Email-Event-Webhook-Signature/-Timestamp headers are missing"
        )
    try:
        der = base64.b64decode(signature, validate=True)
    except binascii.Error as exc:
        raise _bad("sendgrid", "the signature is not base64") from exc
    try:
        _ec_key(public_key).verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise _bad("sendgrid", "the signature does not match the body and timestamp") from exc


def mandrill_signature(key: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64 HMAC-SHA1 of the URL followed by each POST key and value, sorted by key."""
    signed = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def verify_mandrill(
    key: str, url: str, params: list[tuple[str, str]], signature: str | None
) -> None:
    if not signature:
        raise _bad("mandrill", "the X-Mandrill-Signature header is missing")
    if not hmac.compare_digest(mandrill_signature(key, url, params).encode(), signature.encode()):
        raise _bad(
            "mandrill",
            f"the signature does not match (signed URL {url!r}; set GENPERSONA_MANDRILL_WEBHOOK_URL "
            "to the URL registered in Mandrill if a proxy rewrites it)",
        )


def verify_bearer(provider: str, expected: str, authorization: str | None) -> None:
    if not authorization:
        raise _bad(provider, "the Authorization header is missing")
    if not hmac.compare_digest(authorization.encode(), f"Bearer {expected}".encode()):
        raise _bad(provider, "the bearer token is wrong")


def customerio_signature(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 of ``v0:<timestamp>:<body>``, as Customer.io signs reporting webhooks."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_customerio(
    secret: str, signature: str | None, timestamp: str | None, body: bytes
) -> None:
    if not signature or not timestamp:
        raise _bad("customerio", "the X-CIO-Signature/X-CIO-Timestamp headers are missing")
    if not hmac.compare_digest(
        customerio_signature(secret, timestamp, body).encode(), signature.encode()
    ):
        raise _bad("customerio", "the signature does not match the body and timestamp")
