"""The OpenAPI schema is complete: this walks every operation the generator finds, so an
endpoint added tomorrow without examples or without its error responses fails here."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from core import errors
from core.openapi import ERROR_CODES

ROOT = Path(settings.BASE_DIR)
APPS = ("core", "workspaces", "agents", "channels", "flows", "conversations", "webhooks")
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/Error"
# Always answers 200: the process is up or nothing answers at all.
NO_ERRORS = {("get", "/healthz")}
# Not errors: readiness answers 503 with its checks.
OWN_SHAPE = {("get", "/readyz", "503")}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def keyed(operation: dict) -> bool:
    """Authenticated with an API key (not a provider's credentials)."""
    return {"BearerAuth": []} in operation.get("security", [])


def _params(operation: dict, where: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == where}


def test_the_walk_finds_every_kind_of_operation(schema):
    found = {(m, p) for m, p, _ in operations(schema)}
    assert {
        ("get", "/v1/api/workspace"),
        ("patch", "/v1/api/workspace"),
        ("get", "/v1/messages"),
        ("post", "/v1/messages"),
        ("post", "/v1/webhooks/twilio/sms"),
        ("post", "/v1/webhooks/email/inbound/postmark"),
        ("get", "/unsubscribe/{token}"),
        ("post", "/unsubscribe/{token}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    } <= found
    assert len(found) >= 45


def test_every_route_of_the_urlconf_is_in_the_schema(schema):
    """Plain Django views too: a new one needs a documentation view (config.openapi)."""

    def walk(patterns: list, prefix: str = "") -> list[str]:
        found = []
        for entry in patterns:
            if isinstance(entry, URLResolver):
                found += walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))
        return found

    undocumented = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith("admin/") or route in ("v1/schema", "v1/docs"):
            continue
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", "{}", route)
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        documented = {re.sub(r"\{\w+\}", "{}", p) for p in schema["paths"]}
        if path not in documented:
            undocumented.append(route)
    assert not undocumented


def test_every_operation_has_a_summary_and_a_tag(schema):
    missing = [(m, p) for m, p, op in operations(schema) if not (op.get("summary") and op["tags"])]
    assert not missing


def test_every_request_body_has_an_example(schema):
    missing = [
        (m, p, media)
        for m, p, op in operations(schema)
        for media, content in op.get("requestBody", {}).get("content", {}).items()
        if not content.get("examples")
    ]
    assert not missing


def test_every_response_with_a_body_has_an_example(schema):
    missing = [
        (m, p, status, media)
        for m, p, op in operations(schema)
        for status, response in op["responses"].items()
        for media, content in response.get("content", {}).items()
        if not content.get("examples")
    ]
    assert not missing


def test_every_json_error_is_the_error_component(schema):
    wrong = [
        (m, p, status)
        for m, p, op in operations(schema)
        for status, response in op["responses"].items()
        if int(status) >= 400
        for media, content in response.get("content", {}).items()
        if media == "application/json"
        and content["schema"] != {"$ref": ERROR_REF}
        and (m, p, status) not in OWN_SHAPE
    ]
    assert not wrong


def test_every_operation_lists_the_errors_it_can_give(schema):
    missing = []
    for method, path, op in operations(schema):
        statuses = {int(s) for s in op["responses"]}
        expected = set()
        if (method, path) not in NO_ERRORS:
            expected.add("some error")
        if keyed(op):
            expected |= {401, 403, 429}
        if _params(op, "path") or "cursor" in _params(op, "query"):
            expected.add(404)
        if _params(op, "query") or "application/json" in op.get("requestBody", {}).get(
            "content", {}
        ):
            expected.add(400)
        if "requestBody" in op and path.startswith("/v1/"):
            expected.add(413)
        if path.startswith("/v1/api/"):
            expected.add(400)  # x-workspace-id
        if method == "post" and keyed(op):
            expected |= {400, 409, 422}  # Idempotency-Key
        if "some error" in expected and any(s >= 400 for s in statuses):
            expected.discard("some error")
        if not expected <= statuses:
            missing.append((method, path, sorted(map(str, expected - statuses))))
    assert not missing


def test_every_keyed_post_declares_idempotency_key_and_replay(schema):
    missing = []
    for method, path, op in operations(schema):
        if method == "post" and keyed(op):
            success = next(r for s, r in op["responses"].items() if s.startswith("2"))
            if "Idempotency-Key" not in _params(op, "header") or "Idempotent-Replayed" not in (
                success.get("headers", {})
            ):
                missing.append(path)
    assert not missing


def test_api_routes_declare_the_workspace_header(schema):
    missing = [
        (m, p)
        for m, p, op in operations(schema)
        if p.startswith("/v1/api/") and "x-workspace-id" not in _params(op, "header")
    ]
    assert not missing


def test_429_says_when_to_retry(schema):
    missing = [
        (m, p)
        for m, p, op in operations(schema)
        if "429" in op["responses"] and "Retry-After" not in op["responses"]["429"]["headers"]
    ]
    assert not missing


def _codes_in_the_code_base() -> set[str]:
    codes = set()
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            text = source.read_text()
            codes |= set(re.findall(r'\bcode="([a-z_]+)"', text))
            codes |= set(re.findall(r'error_body\((?:[^()]|\([^()]*\))*?,\s*"([a-z_]+)"', text))
    codes |= set(errors._CODES.values())
    codes |= {code for code, _ in errors._STATUS_CODES.values()}
    return codes - {"invalid", "required", "null", "blank", "unknown_field", "does_not_exist"}


def test_the_error_component_lists_every_stable_code(schema):
    component = schema["components"]["schemas"]["Error"]
    listed = set(re.findall(r"\| `([a-z_]+)` \|", component["description"]))

    assert _codes_in_the_code_base() - listed == set()
    assert listed == set(ERROR_CODES)
    assert component["required"] == ["code", "data", "message", "status"]


def test_nullable_fields_are_marked_nullable(schema):
    components = schema["components"]["schemas"]
    assert components["Conversation"]["properties"]["agentId"]["nullable"] is True
    assert components["Conversation"]["properties"]["flowId"]["nullable"] is True
    assert components["WorkspaceSettings"]["properties"]["defaultFlow"]["nullable"] is True
    assert components["Message"]["properties"]["replyToId"]["nullable"] is True
    assert components["WebhookEndpoint"]["properties"]["failingSince"]["nullable"] is True


def test_paginated_lists_are_described_as_pages(schema):
    listed = schema["paths"]["/v1/messages"]["get"]["responses"]["200"]["content"]
    ref = listed["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    page = schema["components"]["schemas"][ref]

    assert set(page["properties"]) == {"next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/Message"}
    assert {"cursor", "limit"} <= _params(schema["paths"]["/v1/messages"]["get"], "query")


def test_the_schema_is_served(owner):
    response = owner.client.get("/v1/schema", {"format": "json"})

    assert response.status_code == 200
    assert "/v1/api/workspace" in response.json()["paths"]


def test_swagger_ui_is_served_from_the_package_without_a_cdn(client):
    page = client.get("/v1/docs")

    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html
    assets = re.findall(r'(/static/drf_spectacular_sidecar/[^"\']+\.js)', html)
    assert assets, html
    asset = client.get(assets[0])
    assert asset.status_code == 200
    assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
