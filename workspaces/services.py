import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.models import update_fields
from core.tenancy import ensure_same_workspace
from workspaces.models import ApiKey, Workspace

# last_used_at is a hint for operators, not an audit log: writing it at most once a
# minute keeps every authenticated request from being a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_issue(*, api_key: ApiKey) -> str:
    """Give an unsaved key its prefix and secret hash, save it, and return the only
    clear-text copy of the key, to be shown once."""
    prefix = secrets.token_hex(6)
    raw_key = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    api_key.prefix = prefix
    api_key.secret_hash = ApiKey.hash_secret(raw_key)
    api_key.save()
    return raw_key


def api_key_create(
    *, workspace: Workspace, scopes: str = ApiKey.Scopes.READ_WRITE, name: str = ""
) -> tuple[ApiKey, str]:
    api_key = ApiKey(workspace=workspace, name=name, scopes=scopes)
    return api_key, api_key_issue(api_key=api_key)


@transaction.atomic
def workspace_create(*, name: str) -> tuple[Workspace, str]:
    """A new workspace with a read and write key; returns the key's clear text once."""
    workspace = Workspace.objects.create(name=name)
    _, raw_key = api_key_create(workspace=workspace, name="Initial key")
    return workspace, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, or None. The hash is compared in constant time."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sk" or not parts[1]:
        return None
    api_key = (
        ApiKey.objects.select_related("workspace")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, ApiKey.hash_secret(raw_key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def workspace_update(*, workspace: Workspace, data: dict) -> Workspace:
    """Changes the given fields (name, help_text, default_flow); the default flow must
    be one of the workspace's own."""
    update_fields(workspace, data)
    ensure_same_workspace(workspace)
    workspace.save(update_fields=[*data, "updated_at"])
    return workspace
