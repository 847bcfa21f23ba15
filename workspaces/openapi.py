"""How the API key authentication appears in the OpenAPI schema (imported by
WorkspacesConfig.ready, so drf-spectacular knows it before it builds a schema)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


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
