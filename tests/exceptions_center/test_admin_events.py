"""The compliance officers' review queue in the admin: overdue first, read-only facts card, actions
through the services (same permission checks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions_center.models import Department, EventStatus, ExceptionEvent
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.exceptions_center.test_views import FACTS

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/exceptions_center/exceptionevent/"


@pytest.fixture
def officer(make_user):
    return make_user("compliance", is_staff=True)


def test_review_queue_lists_overdue_first(client, officer, route, django_assert_max_num_queries):
    rule = rule_with_route("compliance", category="compliance", severity="low", blocking=False)
    events = [route(event_for(rule)) for _ in range(3)]
    ExceptionEvent.objects.filter(pk=events[1].pk).update(
        is_overdue=True, sla_due_at=timezone.now() - timedelta(hours=1)
    )
    client.force_login(officer)
    with django_assert_max_num_queries(15):
        response = client.get(CHANGELIST, {"severity__exact": "low"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(events[1].number) < html.index(events[0].number)


def test_event_admin_shows_a_readonly_facts_card(client, officer, route):
    event = route(event_for(rule_with_route("compliance", category="compliance"), facts_snapshot=FACTS))
    client.force_login(officer)
    response = client.get(f"{CHANGELIST}{event.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="facts-card"' in html and "SO-2026-000123" in html
    assert 'name="_save"' not in html


def test_admin_action_resolves_through_the_service(client, officer, make_user, route):
    # a logistics event whose rule compliance owns: resolvable without a signature
    compliance = Department.objects.get(code="compliance")
    mine = route(event_for(rule_with_route("compliance", category="logistics", owner_department=compliance)))
    not_mine = route(event_for(rule_with_route("finance", category="business")))
    client.force_login(officer)
    response = client.post(
        CHANGELIST, {"action": "resolve_as_reviewed", "_selected_action": [mine.pk, not_mine.pk]}, follow=True
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    not_mine.refresh_from_db()
    assert mine.status == EventStatus.RESOLVED
    assert mine.log.filter(action="resolved", actor=officer).exists()
    # the finance event is refused by the same permission check as everywhere
    assert not_mine.status == EventStatus.OPEN
    assert not_mine.number in response.content.decode()


def test_r30_admin_action_cannot_resolve_a_compliance_event_without_a_signature(client, officer, route):
    # given a compliance event its officer may decide, but only with their electronic signature
    event = route(event_for(rule_with_route("compliance", category="compliance")))
    client.force_login(officer)
    # when they use the review queue's "resolve as reviewed" (no signature form there)
    response = client.post(CHANGELIST, {"action": "resolve_as_reviewed", "_selected_action": [event.pk]}, follow=True)
    # then it is refused with the reason, and nothing changed
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN
    assert event.number in response.content.decode()
