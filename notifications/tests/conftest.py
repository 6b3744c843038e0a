from devices.tests.fixtures import *  # noqa: F403 - the real parts' fixtures
