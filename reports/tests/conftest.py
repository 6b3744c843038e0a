import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, so the browser fixture can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
