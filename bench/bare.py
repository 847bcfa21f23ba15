"""The baseline of bench/api.py: a bare DRF view that validates seed 001's body with a
serializer and inserts one row (into a table bench/api.py creates), answered by the same
server process as the API, through the same middleware. No authentication, rate limit,
events or webhooks: what the framework and one INSERT cost on this machine.

Also the URL configuration of bench.bare_settings: the project's routes plus this one."""

import json

from django.db import connection
from django.urls import path
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns

TABLE = "bench_bare_message"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    conversation_id uuid,
    sender_id varchar(200) NOT NULL,
    sender_type varchar(16) NOT NULL,
    text text NOT NULL,
    metadata jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


class BareMessageSerializer(serializers.Serializer):
    """Seed 001's request body, with DRF's own fields."""

    conversation_id = serializers.UUIDField(required=False)
    sender_id = serializers.CharField(max_length=200)
    sender_type = serializers.ChoiceField(choices=["user", "agent", "system"])
    text = serializers.CharField()
    metadata = serializers.DictField(required=False)
    auto_reply = serializers.BooleanField(required=False, default=True)


class BareInsertView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def post(self, request: Request) -> Response:
        body = BareMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (conversation_id, sender_id, sender_type, text, metadata) "  # noqa: S608 - a constant
                "VALUES (%s, %s, %s, %s, %s) RETURNING id, created_at",
                [
                    data.get("conversation_id"),
                    data["sender_id"],
                    data["sender_type"],
                    data["text"],
                    json.dumps(data.get("metadata") or {}),
                ],
            )
            row_id, created_at = cursor.fetchone()
        return Response(
            {"status": "success", "data": {"id": row_id, "created_at": created_at}},
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [path("bench/bare", BareInsertView.as_view()), *project_urlpatterns]
