"""API authentication, scopes and rate limits, all keyed on the API key."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.errors import INVALID_TOKEN
from workspaces.models import ApiKey
from workspaces.services import api_key_authenticate


@dataclass(frozen=True)
class ApiClient:
    """The `request.user` of an API request: the holder of an API key."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def pk(self) -> str:
        return str(self.api_key.pk)


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` or `X-API-Key: <key>`."""

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        raw_key = ""
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise exceptions.AuthenticationFailed(INVALID_TOKEN)
            raw_key = value.strip()
        else:
            raw_key = request.META.get("HTTP_X_API_KEY", "").strip()
        if not raw_key:
            return None
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return ApiClient(api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no key was given.
        return 'Bearer realm="api"'


class HasApiKeyScope(BasePermission):
    """Reads need the `read` scope, everything else `write`."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request: Request, view: object) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        needed = "read" if request.method in SAFE_METHODS else "write"
        if not api_key.has_scope(needed):
            self.message = f"This API key lacks the '{needed}' scope."
            return False
        return True


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: object) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def get_rate(self) -> str | None:
        # Read at request time (DRF reads it once at import) so overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
