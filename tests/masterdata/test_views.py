"""Browser pages for master data: lists (search, filters, sort, pagination, query bounds), forms that write
through the services (errors next to fields, nothing saved on bad input), row-level scoping and 403s."""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from masterdata import services
from masterdata.models import Party, PartyKind, Product, Warehouse
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory, make_gtin, make_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def _assign(party: Party, user) -> None:
    """What party_create / party_update do for a rep: the row-level permissions."""
    party.sales_rep = user
    party.save()
    for perm in services.PARTY_REP_PERMISSIONS:
        assign_perm(perm, user, party)


def _party_post(**overrides) -> dict:
    data = {
        "code": "H-NEW-1",
        "name": "上海新华医院",
        "name_en": "Shanghai Xinhua Hospital",
        "kind": PartyKind.HOSPITAL,
        "uscc": make_uscc(777),
        "region_code": "310110",
        "address": "上海市杨浦区控江路1665号",
        "contact_name": "张伟",
        "contact_phone": "021-25078999",
        "contact_email": "buyer@xinhua.example.com",
        "bed_count": "2000",
        "is_public": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _product_post(**overrides) -> dict:
    data = {
        "sku": "SKU-NEW-1",
        "name_zh": "一次性使用无菌注射器",
        "name_en": "Sterile syringe",
        "model_spec": "5 ml",
        "udi_di": make_gtin(4242),
        "device_class": "2",
        "catalogue_code": "14-01-02",
        "tracking": "lot",
        "storage_min_c": "",
        "storage_max_c": "",
        "shelf_life_days": "1095",
        "unit": "EA",
        "list_price": "1.2500",
        "tax_rate": "0.13",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- Lists -----------------------------------------------------------------------------------------


def test_party_list_shows_search_results_within_a_query_bound(client_for, manager_user, django_assert_max_num_queries):
    # given
    PartyFactory.create_batch(30)
    PartyFactory(code="FIND-ME", name="仁济医院", name_en="Renji Hospital")
    client = client_for(manager_user)

    # when
    with django_assert_max_num_queries(14):
        response = client.get(reverse("masterdata:party_list"), {"q": "renji"})

    # then
    assert response.status_code == 200
    assert [p.code for p in response.context["rows"]] == ["FIND-ME"]
    assert "FIND-ME" in response.content.decode()


def test_party_list_query_count_does_not_grow_with_rows(client_for, manager_user, django_assert_max_num_queries):
    # given: a full page of parties, each with a sales rep and a province to show
    rep = manager_user
    for party in PartyFactory.create_batch(25):
        party.sales_rep = rep
        party.save()
    client = client_for(manager_user)

    # when / then: the same bound as a page with a single row
    with django_assert_max_num_queries(14):
        response = client.get(reverse("masterdata:party_list"))
    assert len(response.context["rows"]) == 25


def test_party_list_filters_by_kind_and_paginates(client_for, manager_user):
    # given
    PartyFactory.create_batch(30, kind=PartyKind.HOSPITAL)
    PartyFactory.create_batch(3, kind=PartyKind.DISTRIBUTOR, bed_count=None)
    client = client_for(manager_user)

    # when
    distributors = client.get(reverse("masterdata:party_list"), {"kind": "distributor"})
    page_two = client.get(reverse("masterdata:party_list"), {"kind": "hospital", "page": 2})

    # then
    assert distributors.context["page_obj"].paginator.count == 3
    assert page_two.context["page_obj"].number == 2
    assert len(page_two.context["rows"]) == 5
    assert 'rel="prev"' in page_two.content.decode()


def test_party_list_sorts_by_a_whitelisted_column_only(client_for, manager_user):
    # given
    PartyFactory(code="A-1", name="乙")
    PartyFactory(code="B-1", name="甲")
    client = client_for(manager_user)

    # when
    by_code_desc = client.get(reverse("masterdata:party_list"), {"sort": "-code"})
    unknown_sort = client.get(reverse("masterdata:party_list"), {"sort": "uscc"})

    # then
    assert [p.code for p in by_code_desc.context["rows"]] == ["B-1", "A-1"]
    assert [p.code for p in unknown_sort.context["rows"]] == ["A-1", "B-1"]


def test_party_list_empty_state_says_what_to_do(client_for, sales_user):
    # given: a sales rep with no assigned party
    client = client_for(sales_user)

    # when
    response = client.get(reverse("masterdata:party_list"))

    # then
    assert response.status_code == 200
    assert "sales manager" in response.content.decode().lower() or "销售经理" in response.content.decode()


def test_party_list_htmx_request_gets_only_the_results(client_for, manager_user):
    # given
    PartyFactory(code="HX-1")
    client = client_for(manager_user)

    # when
    response = client.get(reverse("masterdata:party_list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")

    # then
    body = response.content.decode()
    assert "HX-1" in body
    assert "<html" not in body


def test_product_list_filters_by_class_within_a_query_bound(client_for, manager_user, django_assert_max_num_queries):
    # given
    ProductFactory.create_batch(20, device_class=2)
    ProductFactory(sku="CLASS3", device_class=3)
    client = client_for(manager_user)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(reverse("masterdata:product_list"), {"device_class": "3"})

    # then
    assert [p.sku for p in response.context["rows"]] == ["CLASS3"]


def test_product_list_finds_a_product_by_gtin13(client_for, manager_user):
    # given: stored as GTIN-14, searched with the 13-digit form printed on many labels
    product = ProductFactory()
    client = client_for(manager_user)

    # when
    response = client.get(reverse("masterdata:product_list"), {"q": product.udi_di[1:]})

    # then
    assert [p.pk for p in response.context["rows"]] == [product.pk]


def test_warehouse_list_filters_cold_storage_within_a_query_bound(
    client_for, manager_user, django_assert_max_num_queries
):
    # given
    WarehouseFactory.create_batch(5)
    cold = WarehouseFactory(code="COLD", is_cold_storage=True)
    client = client_for(manager_user)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(reverse("masterdata:warehouse_list"), {"is_cold_storage": "true"})

    # then
    assert [w.pk for w in response.context["rows"]] == [cold.pk]


# --- Create and edit --------------------------------------------------------------------------------


def test_party_create_saves_through_the_service_with_reason_and_user(client_for, manager_user):
    # given
    client = client_for(manager_user)

    # when
    response = client.post(reverse("masterdata:party_create"), _party_post(reason="new customer contract"))

    # then
    party = Party.objects.get(code="H-NEW-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("masterdata:party_detail", args=[party.pk])
    record = party.history.get()
    assert record.history_user == manager_user
    assert record.history_change_reason == "new customer contract"
    assert party.province.code == "310000"


def test_party_create_with_bad_uscc_shows_the_error_next_to_the_field_and_saves_nothing(client_for, manager_user):
    # given
    client = client_for(manager_user)
    bad = make_uscc(777)[:-1] + ("0" if make_uscc(777)[-1] != "0" else "1")

    # when
    response = client.post(reverse("masterdata:party_create"), _party_post(uscc=bad))

    # then
    assert response.status_code == 400
    assert "uscc" in response.context["form"].errors
    assert 'id="id_uscc_errors"' in response.content.decode()
    assert not Party.objects.filter(code="H-NEW-1").exists()


def test_party_create_with_service_level_error_saves_nothing(client_for, manager_user):
    # given: a bed count on a distributor is refused by the model's clean(), reached through the service
    client = client_for(manager_user)

    # when
    response = client.post(reverse("masterdata:party_create"), _party_post(kind=PartyKind.DISTRIBUTOR, bed_count="50"))

    # then
    assert response.status_code == 400
    assert "bed_count" in response.context["form"].errors
    assert Party.objects.count() == 0


def test_sales_rep_who_creates_a_party_becomes_its_rep(client_for, sales_user):
    # given
    client = client_for(sales_user)

    # when
    response = client.post(reverse("masterdata:party_create"), _party_post())

    # then
    party = Party.objects.get(code="H-NEW-1")
    assert response.status_code == 302
    assert party.sales_rep == sales_user
    assert client.get(reverse("masterdata:party_detail", args=[party.pk])).status_code == 200


def test_party_form_records_the_licence_number_and_the_detail_page_shows_it(client_for, manager_user):
    # given
    client = client_for(manager_user)
    number = "42502258231011011A1001"

    # when
    form_page = client.get(reverse("masterdata:party_create"))
    response = client.post(reverse("masterdata:party_create"), _party_post(licence_number=number))

    # then
    assert 'name="licence_number"' in form_page.content.decode()
    party = Party.objects.get(code="H-NEW-1")
    assert response.status_code == 302
    assert party.licence_number == number
    assert party.history.get().licence_number == number
    detail = client.get(reverse("masterdata:party_detail", args=[party.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert number in detail.content.decode()


def test_party_licence_number_is_optional_and_too_long_is_refused(client_for, manager_user):
    # given
    client = client_for(manager_user)

    # when
    blank = client.post(reverse("masterdata:party_create"), _party_post())
    too_long = client.post(
        reverse("masterdata:party_create"), _party_post(code="H-NEW-2", uscc=make_uscc(778), licence_number="9" * 61)
    )

    # then
    assert blank.status_code == 302
    assert Party.objects.get(code="H-NEW-1").licence_number == ""
    assert too_long.status_code == 400
    assert "licence_number" in too_long.context["form"].errors
    assert not Party.objects.filter(code="H-NEW-2").exists()


def test_party_update_changes_the_row_and_records_the_reason(client_for, manager_user):
    # given
    party = services.party_create(user=manager_user, **_party_attrs())
    client = client_for(manager_user)
    form_data = _party_post(code=party.code, uscc=party.uscc, contact_phone="021-99999999", reason="phone changed")

    # when
    response = client.post(reverse("masterdata:party_update", args=[party.pk]), form_data)

    # then
    assert response.status_code == 302
    party.refresh_from_db()
    assert party.contact_phone == "021-99999999"
    latest = party.history.latest()
    assert latest.history_type == "~"
    assert latest.history_change_reason == "phone changed"


def test_product_create_with_bad_gtin_shows_error_and_saves_nothing(client_for, manager_user):
    # given
    client = client_for(manager_user)
    good = make_gtin(4242)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)

    # when
    response = client.post(reverse("masterdata:product_create"), _product_post(udi_di=bad))

    # then
    assert response.status_code == 400
    assert "udi_di" in response.context["form"].errors
    assert 'id="id_udi_di_errors"' in response.content.decode()
    assert not Product.objects.exists()


def test_product_create_normalises_a_gtin13(client_for, manager_user):
    # given
    client = client_for(manager_user)
    gtin14 = make_gtin(4243)

    # when
    response = client.post(reverse("masterdata:product_create"), _product_post(udi_di=gtin14[1:]))

    # then
    assert response.status_code == 302
    assert Product.objects.get(sku="SKU-NEW-1").udi_di == gtin14


def test_product_update_records_the_diff(client_for, manager_user):
    # given
    product = ProductFactory()
    client = client_for(manager_user)
    data = _product_post(sku=product.sku, udi_di=product.udi_di, list_price="9.9900", reason="price list 2026")

    # when
    response = client.post(reverse("masterdata:product_update", args=[product.pk]), data)

    # then
    assert response.status_code == 302
    product.refresh_from_db()
    assert str(product.list_price) == "9.9900"
    detail = client.get(reverse("masterdata:product_detail", args=[product.pk])).content.decode()
    assert "price list 2026" in detail
    assert "9.9900" in detail


def test_warehouse_create_and_edit(client_for, manager_user):
    # given
    client = client_for(manager_user)
    data = {"code": "WH-BJ", "name": "北京仓", "name_en": "Beijing DC", "region_code": "110105", "address": "朝阳区1号"}

    # when
    created = client.post(reverse("masterdata:warehouse_create"), {**data, "is_active": "on"})
    warehouse = Warehouse.objects.get(code="WH-BJ")
    edited = client.post(
        reverse("masterdata:warehouse_update", args=[warehouse.pk]),
        {**data, "is_active": "on", "is_cold_storage": "on"},
    )

    # then
    assert created.status_code == 302
    assert edited.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.is_cold_storage is True
    assert warehouse.history.count() == 2


def test_warehouse_create_with_unknown_region_saves_nothing(client_for, manager_user):
    # given
    client = client_for(manager_user)

    # when
    response = client.post(
        reverse("masterdata:warehouse_create"),
        {"code": "WH-X", "name": "X", "region_code": "990000", "address": "somewhere", "is_active": "on"},
    )

    # then
    assert response.status_code == 400
    assert "region_code" in response.context["form"].errors
    assert not Warehouse.objects.exists()


# --- Scoping and permissions ------------------------------------------------------------------------


def test_sales_rep_sees_only_assigned_parties(client_for, make_user):
    # given
    rep, other_rep = make_user("sales"), make_user("sales")
    mine, theirs = PartyFactory(code="MINE"), PartyFactory(code="THEIRS")
    _assign(mine, rep)
    _assign(theirs, other_rep)
    client = client_for(rep)

    # when
    listing = client.get(reverse("masterdata:party_list"))

    # then
    assert [p.code for p in listing.context["rows"]] == ["MINE"]
    assert client.get(reverse("masterdata:party_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("masterdata:party_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("masterdata:party_update", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("masterdata:party_detail", args=[999999])).status_code == 404


def test_sales_rep_cannot_edit_another_reps_party_by_post(client_for, make_user):
    # given
    rep, other_rep = make_user("sales"), make_user("sales")
    theirs = PartyFactory(code="THEIRS")
    _assign(theirs, other_rep)
    client = client_for(rep)

    # when
    response = client.post(reverse("masterdata:party_update", args=[theirs.pk]), _party_post(code="HACKED"))

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.code == "THEIRS"


def test_sales_rep_form_does_not_offer_reassigning_the_rep(client_for, sales_user):
    client = client_for(sales_user)
    response = client.get(reverse("masterdata:party_create"))
    assert "sales_rep" not in response.context["form"].fields


@pytest.mark.parametrize(
    ("url_name", "needs_pk"),
    [
        ("masterdata:warehouse_create", False),
        ("masterdata:warehouse_update", True),
    ],
)
def test_sales_rep_gets_403_on_warehouse_writes(client_for, sales_user, url_name, needs_pk):
    # given (sales keep products but not warehouses)
    obj = WarehouseFactory()
    client = client_for(sales_user)
    url = reverse(url_name, args=[obj.pk]) if needs_pk else reverse(url_name)

    # when / then
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


def test_user_without_role_gets_403_on_every_list(client_for, make_user):
    client = client_for(make_user())
    for name in ("party_list", "product_list", "warehouse_list", "party_create"):
        assert client.get(reverse(f"masterdata:{name}")).status_code == 403


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("masterdata:party_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_auditor_can_read_but_not_write(client_for, auditor_user):
    # given
    party, product = PartyFactory(), ProductFactory()
    client = client_for(auditor_user)

    # then
    assert client.get(reverse("masterdata:party_detail", args=[party.pk])).status_code == 200
    assert client.get(reverse("masterdata:product_detail", args=[product.pk])).status_code == 200
    assert client.get(reverse("masterdata:party_update", args=[party.pk])).status_code == 403
    assert client.post(reverse("masterdata:product_create"), _product_post()).status_code == 403
    assert not Product.objects.filter(sku="SKU-NEW-1").exists()


def test_detail_page_shows_change_history_within_a_query_bound(client_for, manager_user, django_assert_max_num_queries):
    # given: a product changed ten times
    product = services.product_create(user=manager_user, **_product_attrs())
    for price in range(10):
        product = services.product_update(instance=product, user=manager_user, list_price=f"{price + 1}.0000")
    client = client_for(manager_user)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(reverse("masterdata:product_detail", args=[product.pk]))

    # then
    assert response.status_code == 200
    assert len(response.context["history_entries"]) == 10
    assert response.context["history_more"] is True


def _party_attrs() -> dict:
    return {
        "code": "H-EDIT-1",
        "name": "华山医院",
        "kind": PartyKind.HOSPITAL,
        "uscc": make_uscc(778),
        "region_code": "310106",
        "address": "乌鲁木齐中路12号",
    }


def _product_attrs() -> dict:
    from decimal import Decimal

    return {
        "sku": "SKU-HIST",
        "name_zh": "医用外科口罩",
        "device_class": 2,
        "catalogue_code": "14-14-02",
        "list_price": Decimal("0.5000"),
        "udi_di": make_gtin(5151),
    }
