"""An order's ship-to party is a reference like the customer: a rep may name only a party they may see,
and an id that exists but is another rep's gets exactly the error of an id that does not exist (no
enumeration of other reps' customers), in the API and on the entry page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import SalesOrder
from tests.masterdata.factories import ProductFactory
from tests.orders.factories import customer_for, in_days

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"
MISSING_ID = 987654321


def _payload(customer, warehouse, product, **extra):
    return {
        "customer": customer.pk,
        "warehouse": warehouse.pk,
        "requested_delivery_date": in_days(10).isoformat(),
        "lines": [{"product": product.pk, "quantity": 2}],
        **extra,
    }


def test_api_ship_to_of_another_rep_answers_like_a_missing_id(api_client_for, rep, other_rep, customer, warehouse):
    # given another rep's hospital
    theirs = customer_for(other_rep, name="别人的医院")
    client, product = api_client_for(rep), ProductFactory()

    # when naming it, or an id that does not exist, as the ship-to party
    hidden = client.post(URL, _payload(customer, warehouse, product, ship_to=theirs.pk), format="json")
    missing = client.post(URL, _payload(customer, warehouse, product, ship_to=MISSING_ID), format="json")

    # then the same 400 field error, and no order
    assert (hidden.status_code, missing.status_code) == (400, 400)
    assert hidden.json()["fields"]["ship_to"] == missing.json()["fields"]["ship_to"]
    assert set(hidden.json()) == {"code", "message", "fields", "details"}
    assert not SalesOrder.objects.exists()


def test_api_ship_to_the_rep_may_see_is_accepted(api_client_for, rep, customer, warehouse):
    # given a second customer of the rep (a distributor's hospital)
    hospital = customer_for(rep, name="杭州市第一人民医院")

    # when
    response = api_client_for(rep).post(
        URL, _payload(customer, warehouse, ProductFactory(), ship_to=hospital.pk), format="json"
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["ship_to"]["id"] == hospital.pk


def test_api_update_keeps_a_current_ship_to_the_rep_no_longer_sees(
    api_client_for, rep, other_rep, customer, warehouse, manager_user
):
    # given an order whose ship-to a manager set to a party the rep does not see
    theirs = customer_for(other_rep)
    created = api_client_for(rep).post(URL, _payload(customer, warehouse, ProductFactory()), format="json").json()
    assert (
        api_client_for(manager_user).patch(f"{URL}{created['id']}/", {"ship_to": theirs.pk}, format="json").status_code
        == 200
    )

    # when the rep sends the current value back
    response = api_client_for(rep).patch(
        f"{URL}{created['id']}/", {"ship_to": theirs.pk, "customer_po": "PO-9"}, format="json"
    )

    # then it is accepted (the reference did not change)
    assert response.status_code == 200, response.json()
    assert SalesOrder.objects.get().customer_po == "PO-9"


def test_entry_page_ship_to_of_another_rep_answers_like_a_missing_id_and_shows_no_name(
    client, rep, other_rep, customer, warehouse
):
    # given another rep's hospital with a recognisable name
    theirs = customer_for(other_rep, name="ZZHIDDENHOSPITAL")
    product = ProductFactory()
    client.force_login(rep)

    def post(ship_to):
        return client.post(
            reverse("orders:order_create"),
            {
                "customer": customer.pk,
                "ship_to": ship_to,
                "warehouse": warehouse.pk,
                "payment_terms": "net90",
                "line_key": ["a1"],
                "lines-a1-product": product.pk,
                "lines-a1-quantity": "1",
            },
        )

    # when
    hidden, missing = post(theirs.pk), post(MISSING_ID)

    # then the same error next to the field, the hidden party's name nowhere, nothing saved
    assert (hidden.status_code, missing.status_code) == (400, 400)
    assert hidden.context["form"].errors["ship_to"] == missing.context["form"].errors["ship_to"]
    assert "ZZHIDDENHOSPITAL" not in hidden.content.decode()
    assert not SalesOrder.objects.exists()
