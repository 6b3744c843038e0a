"""Settings of the server the SDK's live tests run against (clients/tests/test_sdk.py): the test
settings, with the per-user request limit counted per second instead of per minute, so the 429 storm
test waits out `Retry-After` in a second, not a minute (the SDK's behaviour is the same either way)."""

from typing import Any

from crm_project.settings.test import *  # noqa: F403 - the test settings, one limit changed
from crm_project.settings.test import REST_FRAMEWORK

STORM_LIMIT_PER_SECOND = 40
_RATES: dict[str, Any] = dict(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])  # type: ignore[call-overload]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**_RATES, "user": f"{STORM_LIMIT_PER_SECOND}/s"}}
