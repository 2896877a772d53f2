"""Traceability reads follow the orders: a sales rep sees the shipments, returns and allocations of their
own customers' orders; a lot's trace (page, API, CSV) names only their own customers and counts the rest;
recall scopes, which list every customer of a lot with contacts, are for the roles that run recalls."""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from tests.orders.factories import customer_for
from traceability.models import Lot, RecallScopeJob
from traceability.selectors import shipment_list_visible_to, trace_forward

from .factories import approved_order, dispatched, gs1, in_days, product, received_and_released, warehouse

pytestmark = pytest.mark.django_db
BASE = "/api/v1/traceability"


@pytest.fixture
def two_customers(make_user, warehouse_user, quality_user):
    """Lot LOT-R shipped to rep A's customer (2 units) and to rep B's (3 units)."""
    rep_a, rep_b = make_user("sales"), make_user("sales")
    wh, prod = warehouse(), product()
    scans = [gs1(prod.udi_di, lot="LOT-R", expiry=in_days(400), count=10)]
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=wh, scans=scans)
    shipments = {}
    for rep, quantity, name in ((rep_a, 2, "甲医院"), (rep_b, 3, "ZZOTHERCUSTOMER")):
        order = approved_order(customer=customer_for(rep, name=name), warehouse=wh, lines=[(prod, quantity)])
        assign_perm("orders.view_salesorder", rep, order)
        shipments[rep.pk] = dispatched(order, warehouse_user)
    return {"a": rep_a, "b": rep_b, "lot": Lot.objects.get(lot_number="LOT-R"), "shipments": shipments}


def test_a_rep_sees_only_shipments_of_their_orders(two_customers):
    # when
    visible = set(shipment_list_visible_to(user=two_customers["a"]).values_list("pk", flat=True))

    # then
    assert visible == {two_customers["shipments"][two_customers["a"].pk].pk}


def test_trace_names_the_reps_own_customers_and_counts_the_others(two_customers, warehouse_user):
    # when
    mine = trace_forward(lot=two_customers["lot"], user=two_customers["a"])
    everyone = trace_forward(lot=two_customers["lot"], user=warehouse_user)

    # then the rep sees their customer by name, the other as a number; totals cover everyone
    assert [c["party__name"] for c in mine["customers"]] == ["甲医院"]
    assert mine["other_customers"] == {"count": 1, "quantity": 3, "returned": 0}
    assert all(s["party__name"] == "甲医院" for s in mine["shipments"])
    assert mine["shipped_quantity"] == everyone["shipped_quantity"] == 5
    assert {c["party__name"] for c in everyone["customers"]} == {"甲医院", "ZZOTHERCUSTOMER"}
    assert everyone["other_customers"]["count"] == 0


def test_trace_api_and_csv_follow_the_same_scope(client, api_client_for, two_customers):
    # given rep A
    lot = two_customers["lot"]
    client.force_login(two_customers["a"])

    # when
    api = api_client_for(two_customers["a"]).get(f"{BASE}/lots/{lot.pk}/trace/")
    csv = b"".join(client.get(reverse("traceability:lot_trace_csv", args=[lot.pk])).streaming_content).decode()
    page = client.get(reverse("traceability:lot_detail", args=[lot.pk])).content.decode()

    # then
    assert api.status_code == 200 and "ZZOTHERCUSTOMER" not in str(api.json())
    assert "甲医院" in csv and "ZZOTHERCUSTOMER" not in csv
    assert "ZZOTHERCUSTOMER" not in page and 'data-testid="trace-other-customers"' in page


@pytest.mark.parametrize("role", ["sales", "warehouse", "integrator"])
def test_recall_scopes_are_refused_to_roles_that_do_not_run_recalls(api_client_for, make_user, two_customers, role):
    # when
    response = api_client_for(make_user(role)).post(
        f"{BASE}/recall-scopes/", {"lot_ids": [two_customers["lot"].pk]}, format="json"
    )

    # then refused, nothing queued
    assert response.status_code == 403
    assert not RecallScopeJob.objects.exists()


@pytest.mark.parametrize("role", ["quality", "admin"])
def test_roles_that_run_recalls_get_every_customer(api_client_for, make_user, two_customers, role):
    # when
    response = api_client_for(make_user(role)).post(
        f"{BASE}/recall-scopes/", {"lot_ids": [two_customers["lot"].pk]}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["customer_count"] == 2


@pytest.mark.parametrize(
    ("role", "sees"), [("compliance", True), ("auditor", True), ("warehouse", False), ("sales", False)]
)
def test_recall_scope_jobs_are_read_by_compliance_and_auditors_only(api_client_for, make_user, role, sees):
    # given a finished job
    job = RecallScopeJob.objects.create(criteria={"lot_ids": [1]}, status="done", result={"customers": []})

    # when
    listed = api_client_for(make_user(role)).get(f"{BASE}/recall-scopes/").json()
    detail = api_client_for(make_user(role)).get(f"{BASE}/recall-scopes/{job.pk}/")

    # then
    assert (listed["count"], detail.status_code) == ((1, 200) if sees else (0, 404))


def test_a_reps_shipment_list_costs_the_same_queries_however_many_others_ship(
    api_client_for, two_customers, warehouse_user, django_assert_max_num_queries
):
    # given rep A's API client, warmed
    client = api_client_for(two_customers["a"])
    client.get(f"{BASE}/shipments/")

    # when
    with django_assert_max_num_queries(10) as first:
        response = client.get(f"{BASE}/shipments/")
    lot = two_customers["lot"]
    order = approved_order(
        customer=customer_for(two_customers["b"]), warehouse=lot.balances.first().warehouse, lines=[(lot.product, 1)]
    )
    dispatched(order, warehouse_user)
    with django_assert_max_num_queries(len(first.captured_queries)):
        again = client.get(f"{BASE}/shipments/")

    # then only A's shipment, before and after B's new one
    assert response.json()["count"] == again.json()["count"] == 1
