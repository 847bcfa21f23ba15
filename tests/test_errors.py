"""Everything the API answers as an error has the one shape."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes

from config.urls import urlpatterns as real_urlpatterns


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [*real_urlpatterns, path("v1/boom", boom)]


def assert_error_shape(body: dict, code: str) -> None:
    assert body["status"] == "error"
    assert body["data"] is None
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/v1/nothing-here")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_unknown_id_is_a_json_404(api_client):
    response = api_client.get("/v1/api/agents/not-a-uuid")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_wrong_method_is_a_json_405(api_client):
    response = api_client.delete("/v1/api/agents")

    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_malformed_json_is_a_400_parse_error(api_client):
    response = api_client.post("/v1/api/agents", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


def test_a_json_array_body_is_a_400(api_client):
    response = api_client.post("/v1/api/agents", [1, 2], format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Expected a JSON object."


@pytest.mark.urls("tests.test_errors")
def test_an_unhandled_exception_is_a_json_500(client):
    client.raise_request_exception = False

    response = client.get("/v1/boom")

    assert response.status_code == 500
    assert_error_shape(response.json(), "server_error")


@override_settings(ALLOWED_HOSTS=["good.example"])
def test_a_bad_host_is_a_json_400(client):
    response = client.get("/v1/api/agents", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert_error_shape(response.json(), "bad_request")
