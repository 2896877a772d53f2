"""Admin writes keep the audit trail: the acting user and reason are recorded, and no admin page can
edit, revert or delete history (or delete the business rows it describes)."""

import pytest
from django.contrib import admin

from masterdata.models import Warehouse
from tests.masterdata.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def warehouse_form(**overrides):
    data = {
        "code": "WH-ADM",
        "name": "上海测试仓",
        "name_en": "Shanghai test warehouse",
        "region_code": "310115",
        "address": "上海市浦东新区张江路1号",
        "is_active": "on",
        "reason": "opened a new site",
    }
    data.update(overrides)
    return data


def test_admin_create_and_change_record_the_acting_user_and_reason(client, admin_user):
    # given
    client.force_login(admin_user)

    # when
    created = client.post("/admin/masterdata/warehouse/add/", warehouse_form())
    warehouse = Warehouse.objects.get(code="WH-ADM")
    changed = client.post(
        f"/admin/masterdata/warehouse/{warehouse.pk}/change/",
        warehouse_form(is_cold_storage="on", reason="cold room installed"),
    )

    # then
    assert created.status_code == changed.status_code == 302
    first, second = warehouse.history.order_by("history_id")
    assert (first.history_user, first.history_change_reason) == (admin_user, "opened a new site")
    assert (second.history_user, second.history_change_reason) == (admin_user, "cold room installed")
    assert second.is_cold_storage and not first.is_cold_storage


def test_admin_bad_input_shows_the_error_and_saves_nothing(client, admin_user):
    # given
    client.force_login(admin_user)

    # when
    response = client.post("/admin/masterdata/warehouse/add/", warehouse_form(region_code="990000"))

    # then
    assert response.status_code == 200
    assert "region_code" in response.context["adminform"].form.errors
    assert not Warehouse.objects.exists()


def test_admin_history_is_read_only(client, admin_user):
    # given
    client.force_login(admin_user)
    warehouse = WarehouseFactory()
    version = warehouse.history.get()

    # when
    page = client.get(f"/admin/masterdata/warehouse/{warehouse.pk}/history/")
    revert = client.post(
        f"/admin/masterdata/warehouse/{warehouse.pk}/history/{version.history_id}/", warehouse_form(code="HACKED")
    )
    delete = client.post(f"/admin/masterdata/warehouse/{warehouse.pk}/delete/", {"post": "yes"})

    # then
    assert page.status_code == 200
    assert revert.status_code == 403
    assert delete.status_code == 403
    warehouse.refresh_from_db()
    assert warehouse.code != "HACKED"
    assert warehouse.history.count() == 1


def test_no_historical_model_is_registered_in_the_admin():
    # then
    registered = [model.__name__ for model in admin.site._registry]
    assert not [name for name in registered if name.startswith("Historical")]


def test_rule_admin_history_is_read_only(client, admin_user):
    # given a rule changed once (two versions), and its first version's page
    from exceptions_center.services import rules as rule_services
    from tests.exceptions_center.factories import RuleFactory

    client.force_login(admin_user)
    rule = RuleFactory(severity="high")
    rule.severity = "low"
    rule_services.rule_save(rule=rule, user=admin_user, reason="downgraded", validate=False)
    first = rule.history.earliest()
    page = f"/admin/exceptions_center/rule/{rule.pk}/history/{first.history_id}/"

    # when the old version is posted back, as simple-history's revert button would
    viewed = client.get(page)
    revert = client.post(page, {"code": rule.code, "severity": "high", "reason": "revert"})

    # then it is shown but not restored
    assert viewed.status_code == 200
    assert revert.status_code == 403
    rule.refresh_from_db()
    assert rule.severity == "low"
    assert rule.history.count() == 2


def test_every_history_admin_refuses_to_revert():
    # given every admin that shows simple-history versions
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from simple_history.admin import SimpleHistoryAdmin

    history_admins = [a for a in admin.site._registry.values() if isinstance(a, SimpleHistoryAdmin)]
    request = RequestFactory().post("/", {"code": "HACKED"})

    # when a version is posted to each, then each refuses before reading anything
    assert len(history_admins) >= 4
    for model_admin in history_admins:
        with pytest.raises(PermissionDenied):
            model_admin.history_form_view(request, object_id="1", version_id="1")
