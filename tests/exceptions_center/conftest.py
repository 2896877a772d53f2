import pytest

from exceptions_center.services import handling
from tests.exceptions_center.factories import event_for, rule_with_route


@pytest.fixture
def compliance_user(make_user):
    return make_user("compliance")


@pytest.fixture
def quality_user(make_user):
    return make_user("quality")


@pytest.fixture
def warehouse_user(make_user):
    return make_user("warehouse")


@pytest.fixture
def route(django_capture_on_commit_callbacks):
    """Route an event as the after-commit task does (eager Celery), and return it fresh."""

    def _route(event):
        with django_capture_on_commit_callbacks(execute=True):
            handling.exception_event_route_on_commit(event=event)
        event.refresh_from_db()
        return event

    return _route


@pytest.fixture
def high_event(route):
    """A high-severity compliance event routed to compliance and quality (two parallel tasks)."""
    rule = rule_with_route("compliance", "quality", category="compliance", severity="high")
    return route(event_for(rule))


@pytest.fixture
def medium_event(route):
    """A medium-severity business event with an approval chain: sales management, then finance."""
    rule = rule_with_route("sales_management", "finance", category="business", severity="medium")
    return route(event_for(rule))
