"""A key of workspace B can never list, read, change or delete workspace A's resources."""

import pytest

from tests.factories import AgentFactory, MessageFlowFactory

RESOURCES = [
    ("/v1/api/agents", AgentFactory, {"name": "Hijacked"}),
    ("/v1/api/message-flows", MessageFlowFactory, {"name": "Hijacked"}),
]


@pytest.mark.parametrize(("url", "factory", "change"), RESOURCES)
def test_outsider_gets_404_for_another_workspaces_resource(owner, outsider, url, factory, change):
    resource = factory(workspace=owner.workspace)
    detail = f"{url}/{resource.pk}"

    assert outsider.client.get(detail).status_code == 404
    assert outsider.client.patch(detail, change, format="json").status_code == 404
    assert outsider.client.delete(detail).status_code == 404
    assert outsider.client.get(url).json()["results"] == []

    resource.refresh_from_db()
    assert resource.name != "Hijacked"
    assert owner.client.get(detail).status_code == 200


def test_every_api_route_requires_a_key_and_is_workspace_scoped(owner, client):
    """Walks the URL map: every /v1/api/ route answers 401 without a key and 400 without
    the x-workspace-id header."""
    from django.urls import get_resolver

    routes = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "v1/":
            for sub in pattern.url_patterns:
                routes.add(str(sub.pattern))
    api_routes = sorted(r for r in routes if r.startswith("^api/"))
    assert api_routes, routes

    for route in api_routes:
        path = "/v1/" + route.strip("^$").replace(
            "(?P<pk>[^/.]+)", "00000000-0000-0000-0000-000000000000"
        )
        assert client.get(path).status_code == 401, path
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {owner.key}").status_code == 400, path
