import hmac
import secrets
import time
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
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
    """Revokes the key: at once in this process, within API_KEY_CACHE_SECONDS in the
    others (they verify keys from memory that long; see api_key_authenticate)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    _verified.pop(api_key.prefix, None)
    return api_key


# Keys this process verified recently: prefix -> (valid until, on the monotonic clock;
# the key's column values). Only keys that verified are kept, so a wrong or unknown key
# always costs a query, and the secret is still compared with every request.
_verified: dict[str, tuple[float, tuple]] = {}
_VERIFIED_MAX = 10_000
_KEY_FIELDS = tuple(field.attname for field in ApiKey._meta.concrete_fields)


def _monotonic() -> float:
    return time.monotonic()


def api_key_authenticate(raw_key: str, *, cache_seconds: float = 0) -> ApiKey | None:
    """The active key matching `raw_key`, or None. The hash is compared in constant time.

    With `cache_seconds`, a key this process verified less than that long ago is
    verified again from memory, without a query: a key revoked by another process stops
    working here within `cache_seconds`. The key's workspace then comes with its id only;
    its other fields are read from the database if and when they are used, so they are
    never stale."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sk" or not parts[1]:
        return None
    prefix = parts[1]
    remembered = _verified.get(prefix) if cache_seconds > 0 else None
    if remembered is not None and remembered[0] <= _monotonic():
        remembered = None  # too old: verify with the database again
    if remembered is not None:
        api_key = ApiKey.from_db(DEFAULT_DB_ALIAS, _KEY_FIELDS, remembered[1])
        api_key.workspace = Workspace.from_db(DEFAULT_DB_ALIAS, ["id"], [api_key.workspace_id])
    else:
        api_key = (
            ApiKey.objects.select_related("workspace")
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, ApiKey.hash_secret(raw_key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        # Conditional, so a remembered key revoked meanwhile is found out here too.
        touched = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            last_used_at=now
        )
        if not touched:
            _verified.pop(prefix, None)
            return None
        api_key.last_used_at = now
        remembered = None  # remember the new time
    if cache_seconds > 0 and remembered is None:
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        values = tuple(getattr(api_key, name) for name in _KEY_FIELDS)
        _verified[prefix] = (_monotonic() + cache_seconds, values)
    return api_key


def workspace_update(*, workspace: Workspace, data: dict) -> Workspace:
    """Changes the given fields (name, help_text, default_flow); the default flow must
    be one of the workspace's own."""
    update_fields(workspace, data)
    ensure_same_workspace(workspace)
    workspace.save(update_fields=[*data, "updated_at"])
    return workspace
