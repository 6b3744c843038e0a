"""Input contracts: a prebuilt serializer (messaging.api.serializers.Prebuilt) answers exactly as DRF's
own validation of the same serializer, on good and bad input alike; the socket's frames take its
fast path. No database needed."""

import itertools
import random

import pytest
from rest_framework import serializers

from messaging.api.serializers import MessageEditSerializer, MessagePageQuerySerializer, MessageSendSerializer, Prebuilt
from messaging.socket.incoming import CLIENT_EVENTS

VALUES = [
    None,
    "",
    " ",
    "  x  ",
    "abc",
    "12",
    "1.0",
    0,
    1,
    -1,
    12,
    1.5,
    10**30,
    True,
    False,
    [],
    [1],
    {},
    {"a": 1},
    "text",
    "image",
    "system",
    "online",
    "c" * 64,
    "c" * 65,
    "a\x00b",
    "bad \ud800 text",
]


def outcome(validate, data):
    try:
        return "ok", dict(validate(data))
    except serializers.ValidationError as error:
        return "refused", {name: [(str(e), e.code) for e in problems] for name, problems in error.detail.items()}


def inputs(serializer):
    """Every field alone with every value, none, and 400 random mixes (the same ones every run)."""
    names = list(serializer.fields)
    yield {}
    yield {"unknown": 1}
    for name, value in itertools.product(names, VALUES):
        yield {name: value}
    mixes = random.Random(15)
    for _ in range(400):
        yield {name: mixes.choice(VALUES) for name in names if mixes.random() < 0.8}


@pytest.mark.parametrize(
    "validate",
    [v for v in CLIENT_EVENTS.values() if v is not None]
    + [Prebuilt(MessageSendSerializer), Prebuilt(MessageEditSerializer)],
    ids=lambda v: type(v.serializer).__name__,
)
def test_prebuilt_validation_is_drfs(validate):
    assert validate.flat  # the socket's frames and the REST send take the fast path
    for data in inputs(validate.serializer):
        assert outcome(validate, data) == outcome(validate.serializer.run_validation, data), data


def test_a_serializer_with_hooks_goes_through_drf():
    page_query = Prebuilt(MessagePageQuerySerializer)  # validate(): before and after exclude each other
    assert not page_query.flat
    with pytest.raises(serializers.ValidationError):
        page_query({"before": 5, "after": 2})
