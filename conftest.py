"""Fixtures shared by every app's tests: offices, one user per role, authenticated clients."""

import asyncio
import functools
import gc
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
from core.tests import order, template_database, tiers
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
    client = _redis_for_clean_up(settings.REDIS_URL)
    keys = list(client.scan_iter(f"{settings.REDIS_NAMESPACE}:*", count=1000))
    if keys:
        client.delete(*keys)


@functools.cache
def _redis_for_clean_up(url: str) -> redis.Redis:
    """One client (and its pooled connection) for every test's clean-up in this process, not a connection
    opened and closed per test; a Redis restarted by a test is reconnected to by redis-py on the next call."""
    return redis.Redis.from_url(url)


@pytest.fixture(autouse=True)
def _cold_model_caches():
    """Every test starts with Django's per-process caches of content types and the site empty, as the first
    request of a process finds them: the query counts the tests pin do not depend on which test ran before
    (post_migrate, which cleared them after each transactional test, is no longer sent: `_fast_flush`)."""
    from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415 - with Django set up
    from django.contrib.sites.models import Site  # noqa: PLC0415

    ContentType.objects.clear_cache()
    Site.objects.clear_cache()


# What migrate writes: post_migrate's content types, permissions and site (a flush that empties them makes
# every transactional test's teardown write them again, ~250 queries), and the default document checklists
# of applications' migration 0002 (emptied, every test after the first transactional one of a process ran
# without them). No test writes them; core/tests/test_fast_flush.py checks that the list is complete.
KEPT_BY_THE_FLUSH = frozenset(
    {
        "django_content_type",
        "auth_permission",
        "django_site",
        "applications_checklisttemplate",
        "applications_checklistrequirement",
    }
)


def _flush_by_delete(original):
    """DELETE FROM each table instead of one TRUNCATE of all of them: a transactional test ends with a
    flush of every table (about 60), and TRUNCATE gives each table, index and sequence new files, ~230 ms
    on an idle machine and seconds on a busy one; the few rows a test leaves are deleted in ~10 ms. Same
    result: the foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's, on PostgreSQL), the flush is one
    transaction, no table has a DELETE trigger, and sequences are not reset either way. The tables of
    KEPT_BY_THE_FLUSH keep their rows (no test writes them), with the ids ContentType's cache holds."""

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


# The post_migrate receivers, each writing only tables of KEPT_BY_THE_FLUSH (core/tests/test_fast_flush.py
# fails when another one appears, a receiver that would write what the flush empties).
WRITE_ONLY_WHAT_THE_FLUSH_KEEPS = frozenset(
    {
        "django.contrib.auth.management.create_permissions",
        "django.contrib.contenttypes.management.create_contenttypes",
        "django.contrib.sites.management.create_default_site",
    }
)


def _no_post_migrate_after_a_flush(verbosity, interactive, db, **kwargs):
    """What the flush command calls after flushing: post_migrate's receivers (WRITE_ONLY_WHAT_THE_FLUSH_KEEPS)
    would read 56 content types and 224 permissions back and write nothing (~8% of the fast tier's CPU)."""


@pytest.fixture(scope="session", autouse=True)
def _fast_flush():
    """Transactional tests (`django_db(transaction=True)`) flush the test database after each one."""
    from django.core.management.commands import flush  # noqa: PLC0415 - with Django set up
    from django.db.backends.postgresql.operations import DatabaseOperations  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", _flush_by_delete(DatabaseOperations.sql_flush))
        # (core/tests/test_tripwires.py pins flush's Command.handle, which calls this module global)
        patch.setattr(flush, "emit_post_migrate_signal", _no_post_migrate_after_a_flush)
        yield


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings, django_db_createdb):
    """pytest-django's: keep the test database (and migrate nothing) when `--reuse-db` says so, or when it
    was cloned from the migrated template of these migrations (core/tests/template_database.py), which
    is dropped again at the end."""
    if request.config.getvalue("reuse_db"):
        yield True
        return
    template_database.names()  # before Django renames the database
    cloned = not django_db_createdb and template_database.clone()
    yield cloned
    if cloned:
        template_database.drop()


@pytest.fixture(scope="session", autouse=True)
def _migrated_template_kept(django_db_setup, django_db_keepdb):
    """A test database migrated by this run becomes the template the next runs clone."""
    if not django_db_keepdb:
        template_database.keep()


@pytest.fixture(scope="session", autouse=True)
def _event_loop_pools_closed(django_db_setup):
    """Each async test runs its own event loop, and the loop's PostgreSQL pool (core.async_db)
    outlives it; the next test's pool closes the last one's connections, and this the very last
    (before the test database is dropped, which waits for no connection)."""
    yield
    async_db.discard_closed()


@pytest.fixture(scope="session")
def openapi_schema(django_db_blocker):
    """The OpenAPI document as drf-spectacular generates it for /api/schema, once a process (~0.25 s each
    time): the tests read it and change nothing."""
    from drf_spectacular.generators import SchemaGenerator  # noqa: PLC0415 - with Django set up

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


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
    """The test tiers (`live`, `drill`, `browser`), marked by what each test's code reaches (core/tests/tiers.py),
    and the order: modules that wait take turns with modules that compute (core/tests/order.py)."""
    tiers.mark(items)
    order.interleave(items)


def pytest_collection_finish(session):
    """What is loaded by now (Django, the apps, every test module: most of the heap) lives as long as the
    run: frozen, the collector stops walking it on each full collection (6% of the fast tier's CPU)."""
    gc.collect()
    gc.freeze()


def pytest_sessionfinish(session):
    """pytest ends each process with five full collections to catch the last unraisable exceptions
    (`_pytest.unraisableexception`): one here, with its hook still listening, then the heap is frozen and
    the five walk what is left (1.6 s a process otherwise)."""
    gc.collect()
    gc.freeze()
