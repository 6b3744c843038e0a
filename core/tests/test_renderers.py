"""The orjson renderer writes what DRF's renderer writes, only faster."""

import datetime
import decimal
import uuid
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from core.renderers import JSONRenderer
from messaging.models import MessageType


def test_same_bytes_as_drf():
    data = {
        "results": [
            {
                "id": 1,
                "content": 'héllo \u2028 \u2029 "quoted" \\ </script> \x00 \t',
                "deleted": False,
                "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
                "edited_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Europe/London")),
                "day": datetime.date(2026, 1, 2),
                "time": datetime.time(3, 4, 5),
                "type": MessageType.TEXT,
                "size": 2**40,
                "ratio": 0.1,
                "none": None,
            }
        ],
        "next": None,
        "amount": decimal.Decimal("12.50"),
        "uuid": uuid.UUID(int=5),
        "lazy": gettext_lazy("Not found."),
        1: "int key",
        "tuple": (1, 2),
        "nested": [[], {}],
    }
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_falls_back_to_drf_for_pretty_printing_and_huge_integers():
    data = {"big": 2**70, "list": [1, 2]}
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)
    pretty = "application/json; indent=2"
    assert JSONRenderer().render({"a": [1]}, pretty, {}) == DRFJSONRenderer().render({"a": [1]}, pretty, {})
    assert JSONRenderer().render(None) == b""
