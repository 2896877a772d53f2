"""End to end through a real order: saving it raises a blocking high event (rules engine), the event
is routed after commit to two departments, the order is held and cannot be submitted; when both
departments complete their tasks the order is released and can be submitted."""

from __future__ import annotations

import pytest

from erp.kernel.errors import DomainError
from exceptions_center.models import EventStatus, ExceptionEvent
from exceptions_center.services import handling
from tests.exceptions_center.factories import rule_with_route
from tests.orders.factories import order_entered

pytestmark = pytest.mark.django_db


def test_order_held_by_a_routed_event_is_released_when_every_department_is_done(
    make_user, compliance_user, quality_user, django_capture_on_commit_callbacks
):
    # given a blocking high rule routed to compliance and quality that fires on every order
    rule = rule_with_route(
        "compliance",
        "quality",
        code="TEST_FLOW_ALWAYS",
        category="compliance",
        severity="high",
        blocking=True,
        condition="order.gross_fen > 0",
        message_en="Order {order.number} needs a check",
        message_zh="订单 {order.number} 需要检查",
    )
    rep = make_user("sales")
    # when a sales rep enters an order (the routing runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_entered(user=rep)
    order.refresh_from_db()
    event = ExceptionEvent.objects.get(rule=rule, source_id=order.pk)
    # then the order is held, the event routed to both departments
    assert order.is_held and event.number in order.hold_summary
    assert set(event.tasks.values_list("department__code", flat=True)) == {"compliance", "quality"}
    from orders.services import order_submit

    with pytest.raises(DomainError) as exc:
        order_submit(order=order, user=rep)
    assert exc.value.code == "order_held"
    # when both departments complete their tasks
    handling.handling_task_complete(task=event.tasks.get(department__code="compliance"), user=compliance_user)
    handling.handling_task_complete(task=event.tasks.get(department__code="quality"), user=quality_user)
    event.refresh_from_db()
    order.refresh_from_db()
    # then the event is resolved, the order released and it can be submitted
    assert event.status == EventStatus.RESOLVED
    assert not order.is_held
    order_submit(order=order, user=rep)
    order.refresh_from_db()
    assert order.status == "submitted"
