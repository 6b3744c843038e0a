"""Fixtures shared by every app's tests: offices, one user per role, authenticated clients."""

import asyncio
import functools
import json

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import (
    ConsultantFactory,
    ManagerFactory,
    ReceptionistFactory,
    StudentFactory,
    SuperAdminFactory,
)
from core import async_db
from core.realtime import CONVERSATION_EVENT_TYPE, EVENT_TYPE, members_group, user_group
from core.tests import tiers
from core.tests.clock import CLOCK, travelling_to
from messaging.models import Participant
from offices.tests.factories import OfficeFactory


def pytest_report_header(config):
    """Which clock the run reads: CRM_TEST_CLOCK travels every process of the run (core/tests/clock.py)."""
    moment = travelling_to()
    if moment is None:
        return f"clock: the real one (set {CLOCK}=<ISO date-time with offset> to run at another moment)"
    return f"clock: {CLOCK}={moment.isoformat()}, ticking from the start of the run"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttles live in the Redis cache and socket state (who is connected, rate counts) in Redis;
    every test starts clean, also from a previous run whose user ids were the same. Only this
    run's namespace is cleared: other runs, servers and pytest-xdist workers (a namespace each:
    crm_project/settings/test.py) may share the Redis database."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(f"{settings.REDIS_NAMESPACE}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


# What migrate's post_migrate handlers write (content types, permissions, the site): a flush that empties
# them makes every transactional test's teardown write them again, ~250 queries; kept, they are only read.
KEPT_BY_THE_FLUSH = frozenset({"django_content_type", "auth_permission", "django_site"})


def _flush_by_delete(original):
    """DELETE FROM each table instead of one TRUNCATE of all of them: a transactional test ends with a
    flush of every table (about 60), and TRUNCATE gives each table, index and sequence new files, ~230 ms
    on an idle machine and seconds on a busy one; the few rows a test leaves are deleted in ~10 ms. Same
    result: the foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's, on PostgreSQL), the flush is one
    transaction, no table has a DELETE trigger, and sequences are not reset either way. The tables of
    KEPT_BY_THE_FLUSH keep their rows (no test writes them), so post_migrate, run after each flush, finds
    them there (ids stable too, as ContentType's cache expects)."""

    @functools.wraps(original)  # (core/tests/test_tripwires.py pins the original's source, through __wrapped__)
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
            if table not in KEPT_BY_THE_FLUSH
        ]

    return sql_flush


@pytest.fixture(scope="session", autouse=True)
def _fast_flush():
    """Transactional tests (`django_db(transaction=True)`) flush the test database after each one."""
    from django.db.backends.postgresql.operations import DatabaseOperations  # noqa: PLC0415 - with Django set up

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", _flush_by_delete(DatabaseOperations.sql_flush))
        yield


@pytest.fixture(scope="session", autouse=True)
def _event_loop_pools_closed(django_db_setup):
    """Each async test runs its own event loop, and the loop's PostgreSQL pool (core.async_db)
    outlives it; the next test's pool closes the last one's connections, and this the very last
    (before the test database is dropped, which waits for no connection)."""
    yield
    async_db.discard_closed()


@pytest.fixture
def office(db):
    return OfficeFactory(name="London")


@pytest.fixture
def other_office(db):
    return OfficeFactory(name="Manchester")


@pytest.fixture
def super_admin(db):
    return SuperAdminFactory(email="root@example.com")


@pytest.fixture
def manager(office):
    return ManagerFactory(office=office, email="manager@example.com")


@pytest.fixture
def consultant(office):
    return ConsultantFactory(office=office, email="consultant@example.com")


@pytest.fixture
def receptionist(office):
    return ReceptionistFactory(office=office, email="reception@example.com")


@pytest.fixture
def student(office):
    return StudentFactory(office=office, email="student@example.com")


@pytest.fixture
def other_manager(other_office):
    return ManagerFactory(office=other_office, email="manager2@example.com")


@pytest.fixture
def other_consultant(other_office):
    return ConsultantFactory(office=other_office, email="consultant2@example.com")


ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


@pytest.fixture
def actors(super_admin, manager, consultant, receptionist, student):
    """One user per role, all in `office` (but the super admin): for table-driven permission tests."""
    return {
        "super_admin": super_admin,
        "manager": manager,
        "consultant": consultant,
        "receptionist": receptionist,
        "student": student,
    }


def access_token_for(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """`client_for(user)` → an APIClient sending that user's access token."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return client

    return make


@pytest.fixture
def inbox(settings):
    """`inbox(user)` → a function returning every realtime event (and close request) that would reach
    a socket of `user`: their own group, and the members groups of the conversations they are in
    when `inbox(user)` is called (filtered to the events meant for them, as the consumer does).

    Sync tests run each `async_to_sync` call in a fresh event loop, which the pub/sub layer does
    not support; these tests listen through the list-based Redis layer (same Redis, same groups).
    """
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "capacity": 1000},
        }
    }
    layer = get_channel_layer()

    def listen(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user.id), channel)
        for conversation_id in Participant.objects.filter(user=user).values_list("conversation_id", flat=True):
            async_to_sync(layer.group_add)(members_group(conversation_id), channel)

        def drain():
            received = []

            async def pull():
                while True:
                    try:
                        received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
                    except TimeoutError:
                        return

            async_to_sync(pull)()
            events = []
            for message in received:
                if message["type"] == EVENT_TYPE:
                    events.append((message["event"], message["data"]))
                elif message["type"] == CONVERSATION_EVENT_TYPE:
                    if user.id in message["user_ids"]:
                        pushed = json.loads(message["frame"])
                        events.append((pushed["event"], pushed["data"]))
                else:
                    events.append((message["type"], None))
            return events

        return drain

    return listen


def pytest_collection_modifyitems(config, items):
    """The test tiers (`live`, `drill`, `browser`), marked by what each test's code reaches (core/tests/tiers.py)."""
    tiers.mark(items)
