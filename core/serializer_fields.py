"""Small serializer fields the API's inputs share."""

from typing import Any

from rest_framework import serializers

MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id is refused with 400, never a DataError


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id in a request: a positive integer the database's key can hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
