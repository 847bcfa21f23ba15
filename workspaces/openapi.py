"""How the API key authentication and the workspace base appear in the OpenAPI schema
(imported by WorkspacesConfig.ready, so drf-spectacular knows them before it builds a
schema)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from core.openapi import register_idempotent_views
from workspaces.api import WorkspaceScopedMixin


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.auth.ApiKeyAuthentication"
    name = ["BearerAuth", "ApiKeyHeader"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict]:
        return [
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        ]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict]:
        # Either header authenticates; a list of requirements means "any one of".
        return [{"BearerAuth": []}, {"ApiKeyHeader": []}]


# Every POST of a workspace-scoped view honours Idempotency-Key (WorkspaceScopedMixin.initial).
register_idempotent_views(WorkspaceScopedMixin)
