"""The home dashboard: live counts of what the user may see, in a fixed number of queries."""

import pytest
from django.urls import reverse

from erp.selectors import home_counts
from tests.orders.factories import customer_for, order_entered

pytestmark = pytest.mark.django_db


def _values(counts) -> dict[str, int]:
    return {str(item["label"]): item["value"] for item in counts}


def test_home_counts_show_held_orders_and_open_exceptions_by_severity(make_user):
    # given a manager and an order held by a high-severity event (a customer without a credit code)
    from django.utils import translation

    manager = make_user("sales_manager")
    order = order_entered(user=manager, customer=customer_for(uscc=""))
    assert order.is_held

    # when
    with translation.override("en"):
        values = _values(home_counts(user=manager))

    # then
    assert values["held orders"] == 1
    assert values["open high-severity exceptions"] >= 1
    assert values["parties"] >= 1


def test_home_counts_show_nothing_to_a_user_without_a_role(make_user):
    assert home_counts(user=make_user()) == []


def test_home_page_renders_the_counts_within_a_query_bound(client, make_user, django_assert_max_num_queries):
    # given
    manager = make_user("sales_manager")
    order_entered(user=manager)
    client.force_login(manager)

    # when / then
    with django_assert_max_num_queries(16):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "?is_held=true" in response.content.decode()
