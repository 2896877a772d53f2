"""``manage.py erp_ports`` and the port registry (erp/kernel/ports.py): who plugged in what."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from erp.kernel.ports import PORTS, port
from exceptions_center.ports import TriggerSources, hold_refreshers, trigger_sources
from orders.lifecycle import lifecycle_listeners
from orders.models import OrderStatus, SalesOrder
from orders.services import order_hold_refresh
from tests.orders.factories import order_entered
from traceability.services.allocation import order_lifecycle_follow


def _run(*args) -> str:
    out = StringIO()
    call_command("erp_ports", *args, stdout=out)
    return out.getvalue()


def test_erp_ports_lists_every_port_its_doc_and_what_each_app_plugged_in():
    # when
    output = _run()
    # then every declared port is listed with its doc
    for name, declared in PORTS.items():
        assert name in output
        assert declared.doc.split(":")[0] in output
    # and what the apps plugged in, by app and key
    assert "- traceability (order 100) traceability.services.allocation.order_lifecycle_follow" in output
    assert "- orders (order 100) orders.salesorder: orders.services.holds.order_hold_refresh" in output
    assert "- orders (order 100) order.saved: TriggerSources(model='orders.salesorder'" in output
    assert "- exceptions_center (order 100) exceptions_center.demo.department_heads_assign" in output


def test_erp_ports_markdown_is_one_table_row_per_port():
    # when
    output = _run("--markdown")
    # then a header, a rule and one row per port
    rows = output.strip().splitlines()
    assert rows[0].startswith("| port |") and rows[1].startswith("| --- |")
    assert len(rows) == 2 + len(PORTS)
    assert "| `orders.lifecycle_listeners` | list |" in output


def test_the_apps_plug_into_the_ports_of_lower_layers_at_start():
    # given the apps are ready
    # then the implementations are in place, one per key where the port says so
    assert lifecycle_listeners.implementations() == [order_lifecycle_follow]
    assert hold_refreshers.get("orders.salesorder") is order_hold_refresh
    assert trigger_sources.get("order.saved").model == "orders.salesorder"
    assert isinstance(trigger_sources.get("order.saved"), TriggerSources)
    assert port("orders.lifecycle_listeners") is lifecycle_listeners


def test_docs_list_every_port():
    # given the architecture page (its ports table is `manage.py erp_ports --markdown`)
    page = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    # then it names every port, so a newcomer finds it
    assert [name for name in PORTS if f"`{name}`" not in page] == []


@pytest.mark.django_db
def test_trigger_sources_of_orders_find_visible_recent_and_open_orders(make_user, admin_user):
    # given a draft order of one rep and a cancelled one
    rep, other_rep = make_user("sales"), make_user("sales")
    draft = order_entered(user=rep)
    cancelled = order_entered(user=rep)
    SalesOrder.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    sources = trigger_sources.get("order.saved")
    # when / then: found by number or id by who may see it, never by another rep
    assert sources.find(user=rep, key=draft.number) == draft
    assert sources.find(user=rep, key=str(draft.pk)) == draft
    assert sources.find(user=rep, key=str(draft.pk), by_id=False) is None
    assert sources.find(user=other_rep, key=draft.number) is None
    assert sources.find(user=admin_user, key="  ") is None
    # and the open ones leave the cancelled order out; the recent ones are newest first
    assert list(sources.open()) == [draft]
    assert list(sources.created_since(draft.created_at)) == [cancelled, draft]
