"""core.serializers.FieldsCopiedOnce: fields copied once per class validate as DRF's own."""

import pytest
from rest_framework import serializers

from conversations.serializers import EventQuerySerializer, SendMessageSerializer
from core.serializers import FieldsCopiedOnce


def test_each_instance_binds_fields_of_its_own():
    first, second = EventQuerySerializer(data={}), EventQuerySerializer(data={})

    assert first.fields["after"] is not second.fields["after"]
    assert first.fields["after"].parent is first
    assert second.fields["after"].parent is second


def test_two_instances_validate_independently():
    good = SendMessageSerializer(data={"sender_id": "c-1", "sender_type": "user", "text": "Hi"})
    bad = SendMessageSerializer(data={"sender_id": "c-1", "sender_type": "wizard", "text": "Hi"})

    assert good.is_valid()
    assert not bad.is_valid()
    assert good.validated_data["auto_reply"] is True
    assert set(bad.errors) == {"sender_type"}
    assert SendMessageSerializer(data={"sender_id": "c-1", "text": 5}).is_valid() is False


def test_the_same_answers_as_a_plain_serializer():
    class Plain(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)

    class Once(FieldsCopiedOnce, Plain):
        pass

    for data in ({}, {"after": "7"}, {"after": "-1"}, {"limit": "501", "after": "x"}):
        plain, once = Plain(data=data), Once(data=data)
        assert plain.is_valid() == once.is_valid()
        assert plain.errors == once.errors
        assert (plain.validated_data if not plain.errors else None) == (
            once.validated_data if not once.errors else None
        )


def test_a_nested_serializer_is_refused():
    class Inner(serializers.Serializer):
        name = serializers.CharField()

    class Outer(FieldsCopiedOnce):
        inner = Inner()

    with pytest.raises(TypeError):
        Outer(data={}).is_valid()
