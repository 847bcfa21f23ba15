"""`Idempotency-Key` on POST: the same key with the same body replays the first answer
(status and body) without doing the work again; with another body it is a 422; while
the first request is still running, a 409. Keys belong to a workspace and live 24 hours."""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from core.crypto import decrypt_json, encrypt_json
from core.errors import ApplicationError, Conflict
from workspaces.models import IdempotencyRecord, Workspace

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
# A first request that died without answering leaves its record in flight; after this
# long it no longer blocks the key.
IN_FLIGHT_TIMEOUT = timedelta(minutes=10)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def idempotency_begin(
    *, workspace: Workspace, key: str, fingerprint: str
) -> IdempotencyRecord | Response:
    """The new in-flight record this request owns, or the first answer to replay."""
    if not key or len(key) > 255:
        raise ApplicationError(
            f"Header '{HEADER}' must be 1 to 255 characters.", code="validation_error"
        )
    now = timezone.now()
    IdempotencyRecord.objects.filter(
        workspace=workspace, key=key, created_at__lt=now - TTL
    ).delete()
    IdempotencyRecord.objects.filter(
        workspace=workspace,
        key=key,
        status_code__isnull=True,
        created_at__lt=now - IN_FLIGHT_TIMEOUT,
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                workspace=workspace, key=key, request_hash=fingerprint
            )
    except IntegrityError:
        pass
    first = IdempotencyRecord.objects.filter(workspace=workspace, key=key).first()
    if first is None:  # finished and expired in between: treat as new
        return idempotency_begin(workspace=workspace, key=key, fingerprint=fingerprint)
    if first.request_hash != fingerprint:
        raise ApplicationError(
            f"This {HEADER} was used with a different request.",
            code="idempotency_key_reused",
            status_code=422,
        )
    if first.status_code is None:
        raise Conflict(
            f"A request with this {HEADER} is still in progress.", code="idempotency_in_flight"
        )
    return Response(
        decrypt_json(first.body),
        status=first.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


def idempotency_finish(*, record: IdempotencyRecord, response: Response) -> None:
    """Keeps the answer for replay; a server error is not kept, so a retry runs again."""
    if response.status_code >= 500:
        record.delete()
        return
    # Sealed: an answer may carry message text of a HIPAA flow or a secret shown once
    # (a webhook endpoint's), neither of which may rest in the database in clear.
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code, body=encrypt_json(getattr(response, "data", None))
    )


def idempotency_purge() -> int:
    """Forgets keys older than TTL (a beat task runs this hourly)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
