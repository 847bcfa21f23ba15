"""Standard Webhooks signatures (https://www.standardwebhooks.com): the secret, the
signed headers and the exact body that is signed."""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from conversations.models import Event
from conversations.payloads import iso
from webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
ROTATION_OVERLAP = timedelta(hours=24)
USER_AGENT = "MessagingService-Webhooks/1.0"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's
    base64-decoded part, as the specification writes it."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and during a rotation's overlap the previous one."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        keys.append(endpoint.previous_secret)
    return keys


def signed_headers(
    *, endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    signatures = " ".join(
        signature(secret=key, msg_id=msg_id, timestamp=timestamp, body=body)
        for key in signing_secrets(endpoint, now)
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def payload_body(event: Event) -> bytes:
    """The exact bytes that are signed and sent. Event data is already free of message
    text for HIPAA conversations (conversations.payloads)."""
    payload = {
        "type": event.type,
        "timestamp": iso(event.created_at),
        "data": {**event.data, "sequence": event.sequence},
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
