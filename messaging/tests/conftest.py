"""Fixtures of the socket tests (test_consumer, test_socket_rest): three consultants of one office and their group."""

import pytest

from accounts.tests.factories import ConsultantFactory
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory


@pytest.fixture
def people(db):
    office = OfficeFactory(name="WS office")
    return [ConsultantFactory(office=office) for _ in range(3)]


@pytest.fixture
def chat(people):
    return make_conversation(*people, office=people[0].office)


from devices.tests.fixtures import *  # noqa: E402, F403 - the real parts' fixtures (push and email tests)
