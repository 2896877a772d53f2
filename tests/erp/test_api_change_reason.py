"""``X-Change-Reason`` on the shared viewsets: the header reaches the service as ``reason`` and lands on
the history row; a ``reason`` in the body wins; text beyond the column is cut, not refused; Chinese text
arrives percent-encoded or as raw UTF-8 bytes."""

import pytest

from masterdata.models import Warehouse
from tests.exceptions_center.factories import RuleFactory
from tests.masterdata.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

WAREHOUSES = "/api/v1/masterdata/warehouses/"
RULES = "/api/v1/exceptions/rules/"


@pytest.fixture
def integrator_api(api_client_for, make_user):
    return api_client_for(make_user("integrator"))


def test_the_header_fills_in_for_an_endpoint_that_takes_a_reason_in_its_body(api_client_for, make_user):
    # given a rule (its API has a "reason" body field) and a compliance officer
    rule = RuleFactory(sla_hours=24)
    client = api_client_for(make_user("compliance"))

    # when
    from_header = client.patch(
        f"{RULES}{rule.pk}/", {"sla_hours": 12}, format="json", headers={"X-Change-Reason": "faster handling"}
    )
    from_body = client.patch(
        f"{RULES}{rule.pk}/",
        {"sla_hours": 8, "reason": "the body says why"},
        format="json",
        headers={"X-Change-Reason": "the header says otherwise"},
    )

    # then
    assert from_header.status_code == from_body.status_code == 200, (from_header.content, from_body.content)
    reasons = list(rule.history.order_by("history_id").values_list("sla_hours", "history_change_reason"))
    assert reasons[-2:] == [(12, "faster handling"), (8, "the body says why")]


def test_a_reason_longer_than_the_history_column_is_cut_not_refused(integrator_api):
    # given
    warehouse = WarehouseFactory()

    # when
    response = integrator_api.patch(
        f"{WAREHOUSES}{warehouse.pk}/", {"is_cold_storage": True}, format="json", headers={"X-Change-Reason": "x" * 300}
    )

    # then
    assert response.status_code == 200, response.content
    reason = warehouse.history.latest().history_change_reason
    assert len(reason) == 100 and reason.endswith("…")


def test_raw_utf8_bytes_in_the_header_are_read_as_the_text_the_client_meant(integrator_api):
    # given what a WSGI server hands Django for the bytes of "仓库搬迁" (header values are Latin-1)
    warehouse = WarehouseFactory()
    as_received = "仓库搬迁".encode().decode("latin-1")

    # when
    integrator_api.patch(
        f"{WAREHOUSES}{warehouse.pk}/", {"address": "新地址"}, format="json", headers={"X-Change-Reason": as_received}
    )

    # then
    assert Warehouse.history.filter(id=warehouse.pk).latest().history_change_reason == "仓库搬迁"


def test_a_refused_write_with_a_reason_leaves_no_history(integrator_api):
    # given
    warehouse = WarehouseFactory()

    # when
    response = integrator_api.patch(
        f"{WAREHOUSES}{warehouse.pk}/", {"region_code": "990000"}, format="json", headers={"X-Change-Reason": "why"}
    )

    # then
    assert response.status_code == 400
    assert warehouse.history.count() == 1
