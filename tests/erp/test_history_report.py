"""The auditor history report: field diffs old → new, acting user and reason, filters, CSV export,
pagination, access for auditors and admins only, and history rows that nothing can edit or delete."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from simple_history.utils import get_history_model_for_model

from erp import audit
from masterdata import services
from masterdata.models import Party, PartyKind, Product, Warehouse
from tests.masterdata.factories import make_gtin, make_uscc

pytestmark = pytest.mark.django_db

REPORT = "audit:history_report"
EXPORT = "audit:history_export"


def _party(user, code="H-AUD-1", **extra) -> Party:
    fields = {
        "code": code,
        "name": "瑞金医院",
        "name_en": "Ruijin Hospital",
        "kind": PartyKind.HOSPITAL,
        "uscc": make_uscc(abs(hash(code)) % 10_000),
        "region_code": "310101",
        "address": "瑞金二路197号",
        "contact_phone": "021-64370045",
        **extra,
    }
    return services.party_create(user=user, **fields)


def _product(user, sku="SKU-AUD-1") -> Product:
    return services.product_create(
        user=user,
        sku=sku,
        name_zh="心脏支架",
        name_en="Coronary stent",
        device_class=3,
        catalogue_code="13-07-02",
        list_price=Decimal("8800.0000"),
        udi_di=make_gtin(abs(hash(sku)) % 100_000),
        is_implant=True,
    )


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.fixture
def auditor_client(client, auditor_user):
    client.force_login(auditor_user)
    return client


def test_report_shows_field_diff_old_to_new_with_user_and_reason(auditor_client, make_user):
    # given
    editor = make_user("sales_manager", username="editor_li", first_name="Li", last_name="Na")
    party = _party(editor)
    services.party_update(
        instance=party, user=editor, reason="hospital moved switchboard", contact_phone="021-11112222"
    )

    # when
    response = auditor_client.get(reverse(REPORT), {"model": "masterdata.party"})

    # then
    assert response.status_code == 200
    changed = next(e for e in response.context["entries"] if e.change_type == "~")
    assert changed.user_label == "Li Na (editor_li)"
    assert changed.reason == "hospital moved switchboard"
    assert [(c.name, c.old, c.new) for c in changed.changes] == [("contact_phone", "021-64370045", "021-11112222")]
    body = response.content.decode()
    assert "021-64370045" in body
    assert "021-11112222" in body
    assert "editor_li" in body


def test_report_shows_related_objects_and_choices_readably(auditor_client, make_user):
    # given: a rep reassigned and the kind label, not raw keys
    manager = make_user("sales_manager")
    rep_a, rep_b = make_user("sales", username="rep_a"), make_user("sales", username="rep_b")
    party = _party(manager, sales_rep=rep_a)
    services.party_update(instance=party, user=manager, sales_rep=rep_b)

    # when
    entries = auditor_client.get(reverse(REPORT), {"model": "masterdata.party"}).context["entries"]

    # then
    changed = next(e for e in entries if e.change_type == "~")
    assert [(c.name, c.old, c.new) for c in changed.changes] == [("sales_rep", "rep_a", "rep_b")]
    created = next(e for e in entries if e.change_type == "+")
    kind = next(c for c in created.changes if c.name == "kind")
    assert kind.new == str(PartyKind.HOSPITAL.label)


def test_report_filters_by_model_object_user_type_and_dates(auditor_client, make_user):
    # given
    alice, bob = make_user("sales_manager", username="alice"), make_user("sales_manager", username="bob")
    party = _party(alice, code="H-FILTER-1")
    _party(bob, code="H-OTHER-9")
    product = _product(bob)
    services.product_update(instance=product, user=alice, list_price=Decimal("9000.0000"))
    services.party_update(instance=party, user=bob, code="H-FILTER-1B")

    def keys(**params):
        entries = auditor_client.get(reverse(REPORT), params).context["entries"]
        return sorted((e.model_key, e.object_label.split()[0], e.change_type, e.user_label) for e in entries)

    # then: by model
    assert {k[0] for k in keys(model="masterdata.product")} == {"masterdata.product"}
    # by object code, including the rows from before the code changed
    assert keys(object="H-FILTER-1") == [
        ("masterdata.party", "H-FILTER-1", "+", "alice"),
        ("masterdata.party", "H-FILTER-1B", "~", "bob"),
    ]
    # by SKU
    assert [k[2] for k in keys(object="SKU-AUD-1")] == ["+", "~"]
    # by user
    assert keys(user="alice") == [
        ("masterdata.party", "H-FILTER-1", "+", "alice"),
        ("masterdata.product", "SKU-AUD-1", "~", "alice"),
    ]
    # by change type
    assert {k[2] for k in keys(change_type="~")} == {"~"}
    # by date range: today has everything, yesterday nothing
    today = timezone.localdate()
    assert len(keys(date_from=today.isoformat(), date_to=today.isoformat())) == 5
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert keys(date_from=yesterday, date_to=yesterday) == []


def test_report_rejects_an_inverted_date_range_with_a_field_error(auditor_client):
    response = auditor_client.get(reverse(REPORT), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert "date_to" in response.context["form"].errors
    assert response.context["entries"] == []


def test_report_paginates_within_a_query_bound(auditor_client, make_user, django_assert_max_num_queries):
    # given: 30 changes over three models
    user = make_user("sales_manager")
    for i in range(10):
        _party(user, code=f"H-PAGE-{i:02d}")
        _product(user, sku=f"SKU-PAGE-{i:02d}")
        services.warehouse_create(
            user=user, code=f"WH-P{i:02d}", name=f"仓{i}", region_code="310115", address="张江路100号"
        )

    # when
    with django_assert_max_num_queries(20):
        first = auditor_client.get(reverse(REPORT))
    with django_assert_max_num_queries(20):
        second = auditor_client.get(reverse(REPORT), {"page": 2})

    # then
    assert first.context["page_obj"].paginator.count == 30
    assert len(first.context["entries"]) == 25
    assert len(second.context["entries"]) == 5
    newest_first = [e.when for e in first.context["entries"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_history_entries_do_not_query_per_row(make_user, django_assert_max_num_queries):
    # given: 20 updates of one model, each needing its previous version for the diff
    user = make_user("sales_manager")
    product = _product(user)
    for price in range(20):
        product = services.product_update(instance=product, user=user, list_price=Decimal(price + 1))
    keys = list(audit.history_search(model="masterdata.product")[:20])

    # when / then: rows + previous versions, whatever the number of rows
    with django_assert_max_num_queries(3):
        entries = audit.history_entries(keys)
    assert len(entries) == 20
    assert all(e.changes and e.changes[0].name == "list_price" for e in entries)


def test_csv_export_has_one_line_per_changed_field(auditor_client, make_user):
    # given
    editor = make_user("sales_manager", username="csv_editor")
    party = _party(editor, code="H-CSV-1")
    services.party_update(
        instance=party, user=editor, reason="merger", name="瑞金医院（总院）", contact_phone="021-00000000"
    )

    # when
    response = auditor_client.get(reverse(EXPORT), {"object": "H-CSV-1", "change_type": "~"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert len(header) == 10
    assert len(rows) == 2
    by_field = {row[7]: row for row in rows}
    name_row = by_field[str(Party._meta.get_field("name").verbose_name).capitalize()]
    assert name_row[1] == "csv_editor"
    assert name_row[6] == "merger"
    assert name_row[8:] == ["瑞金医院", "瑞金医院（总院）"]
    phone_row = by_field[str(Party._meta.get_field("contact_phone").verbose_name).capitalize()]
    assert phone_row[8:] == ["021-64370045", "021-00000000"]


def test_csv_export_follows_the_language(client, auditor_user, make_user):
    # given
    _party(make_user("sales_manager"), code="H-LANG-1")
    client.force_login(auditor_user)

    # when
    client.cookies["django_language"] = "en"
    english = _csv(client.get(reverse(EXPORT), {"object": "H-LANG-1"}))

    # then
    assert english[0][0] == "When"
    assert english[1][5] == "Created"


@pytest.mark.parametrize("role", ["sales", "sales_manager", "warehouse", "quality", "compliance", "finance", ""])
def test_report_and_export_are_forbidden_without_the_audit_permission(client, make_user, role):
    # given
    client.force_login(make_user(role) if role else make_user())

    # then
    assert client.get(reverse(REPORT)).status_code == 403
    assert client.get(reverse(EXPORT)).status_code == 403


def test_report_is_open_to_auditors_and_admins(client, make_user):
    for role in ("auditor", "admin"):
        client.force_login(make_user(role))
        assert client.get(reverse(REPORT)).status_code == 200


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse(REPORT))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_audit_root_redirects_to_the_history_report(auditor_client):
    # when
    response = auditor_client.get("/audit/?model=masterdata.party")

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(REPORT)}?model=masterdata.party"
    assert auditor_client.get(response["Location"]).status_code == 200


def test_report_is_read_only(auditor_client):
    assert auditor_client.post(reverse(REPORT), {}).status_code == 405


def test_every_model_with_history_is_discovered():
    keys = {audit.model_key(m) for m in audit.history_models()}
    assert {"masterdata.party", "masterdata.product", "masterdata.warehouse"} <= keys
    assert not any("historical" in key for key in keys)


# --- History rows cannot be edited or deleted ------------------------------------------------------


def test_no_historical_model_is_registered_in_the_admin():
    for model in admin.site._registry:
        assert not model.__name__.startswith("Historical"), model


def _all_url_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _all_url_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_no_url_serves_a_historical_model_for_writing():
    history_tables = {get_history_model_for_model(m)._meta.model_name for m in audit.history_models()}
    for route, pattern in _all_url_patterns():
        model_admin = getattr(pattern.callback, "model_admin", None)
        if model_admin is not None:
            assert model_admin.model._meta.model_name not in history_tables, route
        view_class = getattr(pattern.callback, "cls", None)
        queryset = getattr(view_class, "queryset", None)
        if queryset is not None:
            assert queryset.model._meta.model_name not in history_tables, route


def test_admin_history_form_view_cannot_revert_or_edit(client, make_user):
    # given: a superuser looking at an old version of a party in the admin
    superuser = make_user("admin", is_staff=True, is_superuser=True)
    party = _party(superuser, code="H-ADM-1")
    services.party_update(instance=party, user=superuser, name="改名后")
    first = party.history.earliest()
    client.force_login(superuser)
    url = reverse("admin:masterdata_party_simple_history", args=[party.pk, first.history_id])

    # when
    viewed = client.get(url)
    posted = client.post(url, {"code": "H-ADM-1", "name": "瑞金医院", "kind": "hospital", "region_code": "310101"})

    # then
    assert viewed.status_code == 200
    assert 'name="_save"' not in viewed.content.decode()
    assert 'name="_change_history"' not in viewed.content.decode()
    assert posted.status_code == 403
    party.refresh_from_db()
    assert party.name == "改名后"
    assert party.history.count() == 2
    assert get_history_model_for_model(Party).objects.filter(pk=first.pk, name="瑞金医院").exists()


def test_admin_history_list_is_readable_and_offers_no_revert(client, make_user):
    superuser = make_user("admin", is_staff=True, is_superuser=True)
    warehouse = services.warehouse_create(
        user=superuser, code="WH-ADM", name="仓", region_code="310115", address="张江路"
    )
    client.force_login(superuser)
    response = client.get(reverse("admin:masterdata_warehouse_history", args=[warehouse.pk]))
    assert response.status_code == 200
    assert "WH-ADM" in response.content.decode()
    assert "revert" not in response.content.decode().lower()


def test_admin_cannot_delete_master_data(client, make_user):
    superuser = make_user("admin", is_staff=True, is_superuser=True)
    warehouse = services.warehouse_create(user=superuser, code="WH-DEL", name="仓", region_code="310115", address="x")
    client.force_login(superuser)
    response = client.post(reverse("admin:masterdata_warehouse_delete", args=[warehouse.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Warehouse.objects.filter(pk=warehouse.pk).exists()


def test_admin_saves_through_the_service_with_user_and_reason(client, make_user):
    # given
    superuser = make_user("admin", is_staff=True, is_superuser=True, username="root_admin")
    warehouse = services.warehouse_create(user=superuser, code="WH-SVC", name="仓", region_code="310115", address="x")
    client.force_login(superuser)

    # when
    response = client.post(
        reverse("admin:masterdata_warehouse_change", args=[warehouse.pk]),
        {
            "code": "WH-SVC",
            "name": "新仓",
            "name_en": "",
            "region_code": "310115",
            "address": "x",
            "is_active": "on",
            "reason": "renamed by admin",
        },
    )

    # then
    assert response.status_code == 302
    latest = warehouse.history.latest()
    assert latest.name == "新仓"
    assert latest.history_user == superuser
    assert latest.history_change_reason == "renamed by admin"


def test_no_role_may_change_or_delete_history_rows(make_user):
    for role in ("auditor", "admin", "compliance", "sales_manager", "integrator"):
        user = make_user(role)
        for model in audit.history_models():
            opts = get_history_model_for_model(model)._meta
            for action in ("add", "change", "delete"):
                assert not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"), (role, opts.model_name)
