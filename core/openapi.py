"""OpenAPI: the schema class every API view uses, with the x-workspace-id header on
/v1/api/ routes. Each app keeps its own examples beside its views."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

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


def crud_schema(noun: str, plural: str, tags: list[str], **actions: dict) -> object:
    """The schema of a workspace resource's CRUD viewset: a summary per action in one
    wording ("Create a sender"), the tags, and per action whatever `actions` adds
    (description, examples, responses, or another summary)."""
    article = "an" if noun[0].lower() in "aeiou" else "a"
    described = {
        "list": {"summary": f"List {plural}"},
        "create": {"summary": f"Create {article} {noun}"},
        "retrieve": {"summary": f"Retrieve {article} {noun}"},
        "partial_update": {"summary": f"Update {article} {noun}"},
        "destroy": {"summary": f"Delete {article} {noun}"},
    }
    for action, extra in actions.items():
        described.setdefault(action, {}).update(extra)
    return extend_schema_view(
        **{action: extend_schema(tags=tags, **kwargs) for action, kwargs in described.items()}
    )
