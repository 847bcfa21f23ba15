"""OpenAPI: the schema class every API view uses, with the x-workspace-id header on
/v1/api/ routes. Each app keeps its own examples beside its views."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

WORKSPACE_HEADER_PARAMETER = OpenApiParameter(
    name="x-workspace-id",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Workspace identifier for the API; must be the API key's workspace.",
)


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self.path.startswith("/v1/api/"):
            params.append(WORKSPACE_HEADER_PARAMETER)
        return params
