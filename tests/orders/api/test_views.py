from decimal import Decimal

import pytest

from orders.models import OrderStatus, SalesOrder
from tests.masterdata.factories import ProductFactory
from tests.orders.factories import SalesOrderFactory, customer_for, in_days, order_entered

URL = "/api/v1/orders/"


def _payload(customer, warehouse, products, **extra):
    return {
        "customer": customer.pk,
        "warehouse": warehouse.pk,
        "requested_delivery_date": in_days(10).isoformat(),
        "customer_po": "PO-77",
        "lines": [{"product": p.pk, "quantity": 2} for p in products],
        **extra,
    }


@pytest.mark.django_db
def test_create_order_with_nested_lines(api_client_for, rep, customer, warehouse):
    # given
    products = [ProductFactory(list_price=Decimal("10")), ProductFactory(list_price=Decimal("5"))]
    # when
    response = api_client_for(rep).post(URL, _payload(customer, warehouse, products), format="json")
    # then
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["number"].startswith("SO-") and body["status"] == "draft"
    assert [line["line_no"] for line in body["lines"]] == [1, 2]
    assert body["gross_amount"] == "33.90" and body["is_held"] is False
    assert [e for e in body["open_events"] if e["rule"].startswith("ORD-")] == []
    assert body["customer"]["code"] == customer.code


@pytest.mark.django_db
def test_create_order_shows_its_open_events(api_client_for, rep, warehouse):
    customer = customer_for(rep, is_active=False)
    response = api_client_for(rep).post(URL, _payload(customer, warehouse, [ProductFactory()]), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["is_held"] is True
    (event,) = [e for e in body["open_events"] if e["rule"].startswith("ORD-")]
    assert event["rule"] == "ORD-CUSTOMER-INACTIVE" and event["severity"] == "high" and event["blocking"] is True
    assert event["category"] == "compliance" and event["number"].startswith("EX-") and event["message"]


@pytest.mark.django_db
def test_idempotency_key_creates_one_order(api_client_for, rep, customer, warehouse):
    client = api_client_for(rep)
    payload = _payload(customer, warehouse, [ProductFactory()])
    first = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["number"] == first.json()["number"]
    assert SalesOrder.objects.count() == 1
    other = client.post(URL, {**payload, "customer_po": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_bad_lines_give_the_error_shape_and_change_nothing(api_client_for, rep, customer, warehouse):
    product = ProductFactory()
    payload = _payload(customer, warehouse, [product, product])
    payload["lines"][1]["quantity"] = 0
    payload["lines"].append({"product": 987654, "quantity": 1})
    response = api_client_for(rep).post(URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields", "details"} and body["code"] == "validation_error"
    assert body["fields"]["lines.1.quantity"] and all(isinstance(m, str) for m in body["fields"]["lines.1.quantity"])
    assert not SalesOrder.objects.exists()
    # the service's own checks (unknown product) come back in the same shape
    payload["lines"][1]["quantity"] = 1
    body = api_client_for(rep).post(URL, payload, format="json").json()
    assert [key for key in body["fields"] if key.startswith("lines.2")] == ["lines.2.product"]
    assert len(body["fields"]["lines.2.product"]) == 1
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", [10**20, -(10**20), 0])
def test_ids_out_of_any_row_range_are_field_errors_and_change_nothing(api_client_for, rep, customer, warehouse, bad_id):
    payload = _payload(customer, warehouse, [ProductFactory()])
    for name in ("customer", "warehouse"):
        response = api_client_for(rep).post(URL, {**payload, name: bad_id}, format="json")
        assert response.status_code == 400, response.content
        assert name in response.json()["fields"]
    payload["lines"][0]["product"] = bad_id
    response = api_client_for(rep).post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert "lines.0.product" in response.json()["fields"]
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_line_minimum_shelf_life_percent_through_the_api(api_client_for, rep, customer, warehouse):
    # given a line asking for 80 % of the product's shelf life
    payload = _payload(customer, warehouse, [ProductFactory()])
    payload["lines"][0]["min_shelf_life_pct"] = 80
    # when it is posted, then it is saved and returned
    response = api_client_for(rep).post(URL, payload, format="json")
    assert response.status_code == 201, response.data
    assert response.json()["lines"][0]["min_shelf_life_pct"] == 80
    # and more than 100 % is a 400 on that line's field, nothing saved
    payload["lines"][0]["min_shelf_life_pct"] = 101
    response = api_client_for(rep).post(URL, payload, format="json")
    assert response.status_code == 400
    assert "lines.0.min_shelf_life_pct" in response.json()["fields"]
    assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_update_replaces_lines(api_client_for, rep, customer, warehouse):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    line = order.lines.get()
    new_product = ProductFactory()
    response = api_client_for(rep).patch(
        f"{URL}{order.pk}/",
        {"notes": "urgent", "lines": [{"id": line.pk, "quantity": 9}, {"product": new_product.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["notes"] == "urgent" and [(x["line_no"], x["quantity"]) for x in body["lines"]] == [(1, 9), (2, 1)]


@pytest.mark.django_db
def test_actions_and_held_refusal(api_client_for, rep, customer, warehouse, manager_user):
    # given
    client = api_client_for(rep)
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    held = order_entered(user=rep, customer=customer_for(rep, uscc=""), warehouse=warehouse)
    # when / then
    refused = client.post(f"{URL}{held.pk}/submit/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "order_held"
    assert refused.json()["details"]["events"][0]["rule"] == "ORD-CUSTOMER-INCOMPLETE"
    assert client.post(f"{URL}{order.pk}/submit/", {}, format="json").json()["status"] == "submitted"
    assert client.post(f"{URL}{order.pk}/approve/", {}, format="json").status_code == 403
    assert (
        api_client_for(manager_user).post(f"{URL}{order.pk}/approve/", {}, format="json").json()["status"] == "approved"
    )
    no_reason = client.post(f"{URL}{order.pk}/cancel/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    cancelled = client.post(f"{URL}{order.pk}/cancel/", {"reason": "customer withdrew"}, format="json")
    assert cancelled.json()["status"] == OrderStatus.CANCELLED


@pytest.mark.django_db
def test_lookup_by_number_and_row_scoping(api_client_for, rep, other_rep, customer, warehouse):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    assert api_client_for(rep).get(f"{URL}code/{order.number}/").json()["id"] == order.pk
    outsider = api_client_for(other_rep)
    assert outsider.get(f"{URL}code/{order.number}/").status_code == 404
    assert outsider.get(f"{URL}{order.pk}/").status_code == 404
    assert outsider.post(f"{URL}{order.pk}/submit/", {}, format="json").status_code == 404
    assert outsider.get(URL).json()["count"] == 0


@pytest.mark.django_db
def test_list_filters_and_query_count_bound(
    api_client_for, rep, customer, warehouse, manager_user, django_assert_max_num_queries
):
    # given
    held = order_entered(user=rep, customer=customer_for(rep, is_active=False), warehouse=warehouse)
    order_entered(user=rep, customer=customer, warehouse=warehouse)
    for _ in range(30):
        SalesOrderFactory()
    client = api_client_for(manager_user)
    # when
    with django_assert_max_num_queries(10):
        body = client.get(URL, {"page_size": 50}).json()
    # then
    assert body["count"] == 32
    held_only = client.get(URL, {"is_held": "true"}).json()
    assert [o["number"] for o in held_only["results"]] == [held.number]
    assert held_only["results"][0]["open_events"][0]["rule"] == "ORD-CUSTOMER-INACTIVE"
    assert client.get(URL, {"q": held.number}).json()["count"] == 1
    assert client.get(URL, {"status": "draft", "customer": customer.pk}).json()["count"] == 1
    assert client.get(URL, {"status": "", "is_held": "true"}).json()["count"] == 1  # empty status: any
    refused = client.get(URL, {"status": "shipped-yesterday"})
    assert refused.status_code == 400 and "status" in refused.json()["fields"]


@pytest.mark.django_db
def test_unauthenticated_and_roles_without_orders(api_client_for, make_user, customer, warehouse):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)
    warehouse_user = make_user("warehouse")
    payload = _payload(customer, warehouse, [ProductFactory()])
    assert api_client_for(warehouse_user).post(URL, payload, format="json").status_code == 403
