"""Small serializer fields and helpers the API's inputs and bodies share (any app's)."""

from typing import Any

from rest_framework import serializers

from core.errors import ValidationFailed

MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id is refused with 400, never a DataError


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id in a request: a positive integer the database's key can hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class PersonSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


def clean(serializer_class: type[serializers.Serializer[Any]], data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("Send a JSON object.")
    checked = serializer_class(data=data)
    if not checked.is_valid():
        field, messages = next(iter(checked.errors.items()))
        if isinstance(messages, list):  # a list's errors: one per item, {} for the items that passed
            failed = [(n, m) for n, m in enumerate(messages) if m]
            position, first = failed[0] if failed else (0, messages[0] if messages else messages)
            if isinstance(first, dict):
                field = f"{field}[{position}]"
        else:
            first = messages
        if isinstance(first, dict):
            key, inner_messages = next(iter(first.items()))
            field = f"{field}.{key}"
            first = inner_messages[0] if isinstance(inner_messages, list) else inner_messages
        raise ValidationFailed(f"{field}: {first}", details=dict(checked.errors))
    return dict(checked.validated_data)
