"""An exception event is seen with its source: a sales rep sees the events on their own customers'
orders (and shipments, and the customers themselves), never another rep's, in the queue, its tab counts,
the event page, the API, the bell and the home page numbers; back-office roles see every event. The
filter is one semi-join per source model, so the queue's query count does not grow with the rows."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from guardian.shortcuts import assign_perm

from erp.selectors import home_counts
from exceptions_center.models import Channel, Notification
from exceptions_center.selectors import exception_event_list_visible_to, notifications_unread_count
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.orders.factories import SalesOrderFactory, customer_for
from tests.traceability.factories import released_stock

pytestmark = pytest.mark.django_db

QUEUE = reverse("exceptions_center:queue")


def _order_of(rep):
    order = SalesOrderFactory(customer=customer_for(rep), sales_rep=rep)
    assign_perm("orders.view_salesorder", rep, order)
    return order


@pytest.fixture
def two_reps(make_user):
    """Rep A with 2 events on their order, rep B with 3 on theirs, one on B's customer and one on a lot."""
    rep_a, rep_b = make_user("sales"), make_user("sales")
    rule = rule_with_route("sales_management", category="business", severity="high")
    order_a, order_b = _order_of(rep_a), _order_of(rep_b)
    mine = [event_for(rule, source=order_a, source_label=order_a.number, detail_key=f"L{i}") for i in range(2)]
    theirs = [event_for(rule, source=order_b, source_label=order_b.number, detail_key=f"L{i}") for i in range(3)]
    theirs.append(event_for(rule, source=order_b.customer))
    from tests.masterdata.factories import ProductFactory, WarehouseFactory
    from tests.traceability.factories import in_days

    lot = released_stock(product=ProductFactory(), warehouse=WarehouseFactory(), quantity=1, expiry=in_days(300))
    on_lot = event_for(rule_with_route("quality", category="quality"), source=lot)
    return {"a": rep_a, "b": rep_b, "mine": mine, "theirs": theirs, "on_lot": on_lot, "order_b": order_b}


def test_a_rep_sees_only_events_on_their_own_documents(two_reps):
    # when
    visible = set(exception_event_list_visible_to(user=two_reps["a"]).values_list("number", flat=True))

    # then
    assert visible == {e.number for e in two_reps["mine"]}


def test_back_office_sees_every_event(make_user, two_reps):
    # given
    for role in ("sales_manager", "quality", "auditor", "warehouse"):
        user = make_user(role)
        # when / then
        assert exception_event_list_visible_to(user=user).count() == 7, role


def test_queue_tabs_count_only_visible_events_within_a_constant_query_bound(
    client, two_reps, django_assert_max_num_queries
):
    # given rep A in the queue
    client.force_login(two_reps["a"])
    client.get(QUEUE)  # warm the content-type cache

    # when (twice the other rep's events must not cost a query more)
    with django_assert_max_num_queries(14) as few:
        response = client.get(f"{QUEUE}?tab=all")
    rule = two_reps["theirs"][0].rule
    for i in range(10):
        event_for(rule, source=two_reps["order_b"], detail_key=f"M{i}")
    event_for(rule, source=two_reps["mine"][0].source, detail_key="M0")
    with django_assert_max_num_queries(len(few.captured_queries)):
        again = client.get(f"{QUEUE}?tab=all")

    # then
    html = response.content.decode()
    assert set(re.findall(r'data-number="([^"]+)"', html)) == {e.number for e in two_reps["mine"]}
    assert 'data-tab="all">' in html
    assert len(re.findall(r'data-number="([^"]+)"', again.content.decode())) == 3


def test_event_page_of_another_reps_event_is_a_404_page(client, two_reps):
    # given
    client.force_login(two_reps["a"])
    hidden = two_reps["theirs"][0]

    # when
    response = client.get(reverse("exceptions_center:event_detail", args=[hidden.number]))
    missing = client.get(reverse("exceptions_center:event_detail", args=["EX-2026-999999"]))

    # then the same 404 as an event that does not exist, with no trace of the order
    assert (response.status_code, missing.status_code) == (404, 404)
    assert two_reps["order_b"].number not in response.content.decode()


def test_home_numbers_count_only_the_reps_own_events(two_reps):
    # when
    with translation.override("en"):
        values = {str(item["label"]): item["value"] for item in home_counts(user=two_reps["a"])}

    # then
    assert values["open high-severity exceptions"] == 2


def test_bell_counts_no_notification_about_an_event_the_rep_may_not_see(two_reps):
    # given a department-wide message to rep A about rep B's event, and one about A's own
    for event in (two_reps["theirs"][0], two_reps["mine"][0]):
        Notification.objects.create(
            channel=Channel.IN_APP, recipient=two_reps["a"], event=event, kind="event.raised", title=event.number
        )

    # when / then only A's own counts
    assert notifications_unread_count(user=two_reps["a"]) == 1


def test_lot_events_are_back_office_work(make_user, two_reps):
    # when / then a rep does not see the lot's quality event; quality does
    assert not exception_event_list_visible_to(user=two_reps["a"]).filter(pk=two_reps["on_lot"].pk).exists()
    assert exception_event_list_visible_to(user=make_user("quality")).filter(pk=two_reps["on_lot"].pk).exists()
