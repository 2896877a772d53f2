"""The order lifecycle (orders/lifecycle.py): the one transition table, walked whole."""

from __future__ import annotations

import pytest
from django.db import transaction

from erp.kernel.errors import DomainError, PermissionDenied
from orders import lifecycle, services
from orders.lifecycle import SYSTEM, TRANSITIONS, order_transition, transition_for
from orders.models import OrderStatus, SalesOrder
from tests.orders.factories import customer_for, order_entered

ALL_MOVES = [(source, target) for source in OrderStatus.values for target in OrderStatus.values if source != target]


def _order_in(status: str, *, user, customer, warehouse, held: bool = False) -> SalesOrder:
    """An order put in ``status`` directly (test set-up; the code under test never writes it so)."""
    order = order_entered(user=user, customer=customer, warehouse=warehouse)
    SalesOrder.objects.filter(pk=order.pk).update(status=status, is_held=held)
    order.refresh_from_db()
    return order


def _snapshot(order: SalesOrder) -> tuple:
    order.refresh_from_db()
    return order.status, order.history.count(), order.updated_at


def test_the_table_declares_each_move_once_and_who_takes_it():
    # given the table
    moves = [(t.source, t.target) for t in TRANSITIONS]
    # then no move is declared twice, every status is known, every step names who takes it
    assert len(moves) == len(set(moves))
    assert {s for move in moves for s in move} <= set(OrderStatus.values)
    assert all(t.who and (t.who == (SYSTEM,) or all("." in p for p in t.who)) for t in TRANSITIONS)
    # and every status but the terminal ones can be left; every status but draft can be reached
    assert {t.source for t in TRANSITIONS} == set(OrderStatus.values) - {OrderStatus.CLOSED, OrderStatus.CANCELLED}
    assert {t.target for t in TRANSITIONS} == set(OrderStatus.values) - {OrderStatus.DRAFT}


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), ALL_MOVES)
def test_order_transition_walks_the_whole_table(source, target, rep, customer, warehouse, admin_user):
    # given an order in ``source``
    order = _order_in(source, user=rep, customer=customer, warehouse=warehouse)
    before = _snapshot(order)
    declared = transition_for(source, target)
    system = declared is not None and SYSTEM in declared.who
    # when it is moved to ``target`` (a person for a person's step, the system for the others)
    if declared is None:
        with pytest.raises(DomainError) as exc:
            order_transition(order=order, to=target, user=admin_user, reason="walk", system=system)
        # then an undeclared move is refused and nothing changed
        assert exc.value.code == "invalid_transition"
        assert exc.value.status_code == 400
        assert _snapshot(order) == before
        return
    moved = order_transition(order=order, to=target, user=admin_user, reason="walk", system=system)
    # then a declared move works and leaves a history row (the order timeline) with the reason
    order.refresh_from_db()
    if declared.trigger == "approve":
        # traceability's listener reserves stock at once (none here: the order stays approved)
        assert moved.status == OrderStatus.APPROVED
    assert order.status == target == moved.status
    record = order.history.filter(status=target).order_by("-history_id").first()
    assert record.history_change_reason == "walk" and record.history_user == admin_user
    assert order.history.count() == before[1] + 1


@pytest.mark.django_db
@pytest.mark.parametrize("declared", TRANSITIONS, ids=lambda t: f"{t.source}-{t.target}")
def test_order_transition_refuses_the_wrong_actor(declared, rep, customer, warehouse, admin_user):
    # given an order where the step may start
    order = _order_in(declared.source, user=rep, customer=customer, warehouse=warehouse)
    before = _snapshot(order)
    # when a person takes a system step, or the system a person's step
    if SYSTEM in declared.who:
        with pytest.raises(PermissionDenied):
            order_transition(order=order, to=declared.target, user=admin_user)
    else:
        with pytest.raises(DomainError) as exc:
            order_transition(order=order, to=declared.target, user=admin_user, system=True)
        assert exc.value.code == "invalid_transition"
    # then nothing changed
    assert _snapshot(order) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["warehouse", "finance", "auditor"])
def test_order_transition_asks_the_declared_permission(make_user, rep, customer, warehouse, role):
    # given a draft and a submitted order, and a user of a role without order rights
    draft = _order_in(OrderStatus.DRAFT, user=rep, customer=customer, warehouse=warehouse)
    submitted = _order_in(OrderStatus.SUBMITTED, user=rep, customer=customer, warehouse=warehouse)
    user = make_user(role)
    # when they submit or approve directly through the lifecycle / then refused, nothing changed
    for order, target in ((draft, OrderStatus.SUBMITTED), (submitted, OrderStatus.APPROVED)):
        before = _snapshot(order)
        with pytest.raises(PermissionDenied):
            order_transition(order=order, to=target, user=user)
        assert _snapshot(order) == before
    # and a sales rep may submit but not approve
    assert order_transition(order=draft, to=OrderStatus.SUBMITTED, user=rep).status == OrderStatus.SUBMITTED
    with pytest.raises(PermissionDenied):
        order_transition(order=submitted, to=OrderStatus.APPROVED, user=rep)


@pytest.mark.django_db
@pytest.mark.parametrize("declared", TRANSITIONS, ids=lambda t: f"{t.source}-{t.target}")
def test_order_transition_of_a_held_order(declared, rep, warehouse, admin_user):
    # given a held order (an inactive customer raises a blocking event) in the step's source status
    customer = customer_for(rep, is_active=False)
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    assert order.is_held
    SalesOrder.objects.filter(pk=order.pk).update(status=declared.source)
    before = _snapshot(order)
    system = SYSTEM in declared.who
    # when the step is taken
    if declared.hold_blocks:
        with pytest.raises(DomainError) as exc:
            order_transition(order=order, to=declared.target, user=admin_user, system=system)
        # then a forward step is refused naming the events, nothing changed
        assert exc.value.code == "order_held"
        assert "ORD-CUSTOMER-INACTIVE" in [e["rule"] for e in exc.value.details["events"]]
        assert _snapshot(order) == before
    else:
        # then cancelling (one way to deal with a held order) and a partial dispatch still go
        assert order_transition(order=order, to=declared.target, user=admin_user, system=system).is_held


@pytest.mark.django_db
def test_order_transition_system_steps_move_an_approved_order_on(rep, customer, warehouse, manager_user):
    # (was test_order_status_set_moves_an_approved_order_on: downstream apps move orders through the table)
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    with pytest.raises(DomainError):
        order_transition(order=order, to=OrderStatus.SHIPPED, user=manager_user, system=True)
    services.order_submit(order=order, user=rep)
    services.order_approve(order=order, user=manager_user)
    order = order_transition(order=order, to=OrderStatus.ALLOCATED, user=manager_user, system=True)
    assert order.status == OrderStatus.ALLOCATED
    with pytest.raises(DomainError):
        order_transition(order=order, to=OrderStatus.CANCELLED, user=manager_user, system=True)


@pytest.mark.django_db
def test_lifecycle_listeners_run_in_order_inside_the_transition(rep, customer, warehouse, admin_user):
    # given two listeners, the second one failing
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    seen = []

    def first(*, order, transition, user, reason):
        seen.append(("first", order.status, transition.trigger, user, reason))

    def failing(*, order, transition, user, reason):
        seen.append(("failing", order.status))
        raise DomainError("refused by a listener", code="listener_refused")

    # when the order is submitted
    with lifecycle.lifecycle_listeners.temporarily(first, order=1):
        assert services.order_submit(order=order, user=rep).status == OrderStatus.SUBMITTED
        with (
            lifecycle.lifecycle_listeners.temporarily(failing, order=2),
            pytest.raises(DomainError) as exc,
            transaction.atomic(),
        ):
            order_transition(order=order, to=OrderStatus.CANCELLED, user=rep, reason="no")
    # then each listener saw the new status, in order, and a failing listener undid the transition
    assert seen == [
        ("first", OrderStatus.SUBMITTED, "submit", rep, "submitted"),
        ("first", OrderStatus.CANCELLED, "cancel", rep, "no"),
        ("failing", OrderStatus.CANCELLED),
    ]
    assert exc.value.code == "listener_refused"
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED


@pytest.mark.django_db
def test_order_transition_to_an_unknown_status_is_a_clear_400(rep, customer, warehouse, admin_user):
    # given
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    before = _snapshot(order)
    # when / then
    with pytest.raises(DomainError) as exc:
        order_transition(order=order, to="teleported", user=admin_user)
    assert exc.value.code == "invalid_transition" and exc.value.details["target"] == "teleported"
    assert _snapshot(order) == before
