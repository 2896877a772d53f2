"""The master-data API as integrators use it: validation through services with one error shape, row-level
scoping, lookup by id and by code, pagination and filters at a fixed query count, history of API writes,
and ``Idempotency-Key`` (including real concurrent requests)."""

import threading

import pytest
from django.db import connection
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from masterdata import services
from masterdata.models import Party, Product, Warehouse
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory, make_gtin, make_uscc

pytestmark = pytest.mark.django_db

PARTIES = "/api/v1/masterdata/parties/"
PRODUCTS = "/api/v1/masterdata/products/"
WAREHOUSES = "/api/v1/masterdata/warehouses/"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields", "details"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict) and isinstance(body["details"], dict)
    if code is not None:
        assert body["code"] == code
    return body


def party_payload(**overrides):
    payload = {
        "code": "H-API-1",
        "name": "上海接口测试医院",
        "name_en": "Shanghai API Test Hospital",
        "kind": "hospital",
        "uscc": make_uscc(800),
        "region_code": "310104",
        "bed_count": 200,
        "is_public": True,
    }
    payload.update(overrides)
    return payload


def product_payload(**overrides):
    payload = {
        "sku": "API-1",
        "name_zh": "一次性使用无菌注射器",
        "name_en": "Sterile syringe",
        "device_class": 3,
        "catalogue_code": "14-01-01",
        "list_price": "0.4500",
        "udi_di": "6901234567892",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def integrator(make_user):
    return make_user("integrator")


@pytest.fixture
def api(api_client_for, integrator):
    return api_client_for(integrator)


# --- validation through the API --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "91110000600037341M"}, "uscc"),  # bad check character
        ({"uscc": "B1110000600037341L"}, "uscc"),  # bad registration authority
        ({"region_code": "3101"}, "region_code"),
        ({"region_code": "990101"}, "region_code"),
        ({"kind": "distributor"}, "bed_count"),  # beds only for hospitals
        ({"kind": "embassy"}, "kind"),
    ],
)
def test_party_create_with_bad_input_gives_400_field_errors_and_saves_nothing(api, overrides, field):
    # when
    response = api.post(PARTIES, party_payload(**overrides), format="json")

    # then
    body = assert_error_shape(response, 400, "validation_error")
    assert field in body["fields"] and body["fields"][field][0]
    assert not Party.objects.exists()


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_party_create_accepts_military_and_other_uscc(api, first):
    # when
    response = api.post(
        PARTIES, party_payload(uscc=make_uscc(801, first=first), is_military=first == "A"), format="json"
    )

    # then
    assert response.status_code == 201, response.content
    assert response.json()["uscc"].startswith(first)
    assert response.json()["province_code"] == "310000"


@pytest.mark.parametrize(("typed", "stored"), [("96385074", "00000096385074"), ("036000291452", "00036000291452")])
def test_product_create_normalises_short_gtins(api, typed, stored):
    # when
    response = api.post(PRODUCTS, product_payload(udi_di=typed), format="json")

    # then
    assert response.status_code == 201, response.content
    assert response.json()["udi_di"] == stored
    assert Product.objects.get().udi_di == stored


@pytest.mark.parametrize("udi_di", ["6901234567891", "06901234567893", "1234"])
def test_product_create_with_a_bad_gtin_gives_400_and_saves_nothing(api, udi_di):
    # when
    response = api.post(PRODUCTS, product_payload(udi_di=udi_di), format="json")

    # then
    body = assert_error_shape(response, 400, "validation_error")
    assert list(body["fields"]) == ["udi_di"]
    assert not Product.objects.exists()


def test_party_update_with_bad_input_changes_nothing(api):
    # given
    party = PartyFactory()
    versions = party.history.count()

    # when
    response = api.patch(f"{PARTIES}{party.pk}/", {"uscc": "91110000600037341M", "name": "新名字"}, format="json")

    # then
    assert_error_shape(response, 400, "validation_error")
    party.refresh_from_db()
    assert party.name != "新名字"
    assert party.history.count() == versions


# --- the one error shape for every 4xx ---------------------------------------------------------------


def test_unauthenticated_requests_get_401_in_the_error_shape():
    # when
    response = APIClient().get(PARTIES)

    # then
    assert_error_shape(response, 401, "not_authenticated")


def test_a_bad_token_gets_401_in_the_error_shape():
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    # when
    response = client.get(PARTIES)

    # then
    assert_error_shape(response, 401, "authentication_failed")


def test_missing_model_permission_gets_403_and_saves_nothing(api_client_for, make_user):
    # given a warehouse user, who may read master data but not create products
    client = api_client_for(make_user("warehouse"))

    # when
    response = client.post(PRODUCTS, product_payload(), format="json")

    # then
    assert_error_shape(response, 403, "permission_denied")
    assert not Product.objects.exists()


def test_user_without_role_gets_403_on_every_list(api_client_for, make_user):
    # given
    client = api_client_for(make_user())

    # when / then
    for url in (PARTIES, PRODUCTS, WAREHOUSES):
        assert_error_shape(client.get(url), 403, "permission_denied")


def test_missing_object_gets_404_in_the_error_shape(api):
    # when / then
    assert_error_shape(api.get(f"{PARTIES}999999999/"), 404, "not_found")
    assert_error_shape(api.get(f"{PARTIES}code/NO-SUCH-CODE/"), 404, "not_found")


def test_delete_gets_405_and_keeps_the_row(api):
    # given
    party = PartyFactory()

    # when
    response = api.delete(f"{PARTIES}{party.pk}/")

    # then
    assert_error_shape(response, 405, "method_not_allowed")
    assert Party.objects.filter(pk=party.pk).exists()


def test_malformed_json_gets_400_in_the_error_shape(api):
    # when
    response = api.generic("POST", PARTIES, "{not json", content_type="application/json")

    # then
    assert_error_shape(response, 400, "parse_error")


# --- lookup by id and by code -------------------------------------------------------------------------


def test_party_lookup_by_id_and_by_code(api):
    # given
    party = PartyFactory(code="H-SH-009")

    # when
    by_id = api.get(f"{PARTIES}{party.pk}/")
    by_code = api.get(f"{PARTIES}code/H-SH-009/")

    # then
    assert by_id.status_code == by_code.status_code == 200
    assert by_id.json() == by_code.json()
    assert by_code.json()["code"] == "H-SH-009"


def test_product_lookup_by_sku_and_warehouse_by_code(api):
    # given
    product, warehouse = ProductFactory(sku="CV-001"), WarehouseFactory(code="WH-SH02")

    # when / then
    assert api.get(f"{PRODUCTS}code/CV-001/").json()["id"] == product.pk
    assert api.get(f"{WAREHOUSES}code/WH-SH02/").json()["id"] == warehouse.pk


# --- row-level scoping ----------------------------------------------------------------------------------


@pytest.fixture
def two_reps(make_user, admin_user):
    rep_a, rep_b = make_user("sales"), make_user("sales")
    mine = services.party_create(user=admin_user, **party_payload(code="MINE", uscc=make_uscc(811), sales_rep=rep_a))
    theirs = services.party_create(
        user=admin_user, **party_payload(code="THEIRS", uscc=make_uscc(812), sales_rep=rep_b)
    )
    return rep_a, mine, theirs


def test_a_sales_rep_lists_and_reads_only_their_parties(api_client_for, two_reps):
    # given
    rep_a, mine, theirs = two_reps
    client = api_client_for(rep_a)

    # when
    listed = client.get(PARTIES).json()

    # then
    assert [row["code"] for row in listed["results"]] == ["MINE"]
    assert client.get(f"{PARTIES}{mine.pk}/").status_code == 200
    assert_error_shape(client.get(f"{PARTIES}{theirs.pk}/"), 404, "not_found")
    assert_error_shape(client.get(f"{PARTIES}code/THEIRS/"), 404, "not_found")


def test_a_sales_rep_edits_only_their_parties(api_client_for, two_reps):
    # given
    rep_a, mine, theirs = two_reps
    client = api_client_for(rep_a)

    # when
    ok = client.patch(f"{PARTIES}{mine.pk}/", {"contact_name": "新联系人"}, format="json")
    refused = client.patch(f"{PARTIES}{theirs.pk}/", {"contact_name": "新联系人"}, format="json")

    # then
    assert ok.status_code == 200, ok.content
    assert_error_shape(refused, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.contact_name != "新联系人"


def test_a_manager_sees_every_party(api_client_for, make_user, two_reps):
    # when
    listed = api_client_for(make_user("sales_manager")).get(PARTIES).json()

    # then
    assert {row["code"] for row in listed["results"]} == {"MINE", "THEIRS"}


def test_reassigning_the_rep_through_the_api_moves_access(api, api_client_for, two_reps, make_user):
    # given
    rep_a, mine, _theirs = two_reps
    rep_c = make_user("sales")

    # when
    response = api.patch(f"{PARTIES}{mine.pk}/", {"sales_rep": rep_c.pk}, format="json")

    # then
    assert response.status_code == 200, response.content
    assert api_client_for(rep_a).get(f"{PARTIES}{mine.pk}/").status_code == 404
    assert api_client_for(rep_c).get(f"{PARTIES}{mine.pk}/").status_code == 200


def test_a_sales_rep_cannot_reassign_their_party_through_the_api(api_client_for, two_reps, make_user):
    # given
    rep_a, mine, _theirs = two_reps
    rep_c = make_user("sales")
    versions = mine.history.count()

    # when
    response = api_client_for(rep_a).patch(f"{PARTIES}{mine.pk}/", {"sales_rep": rep_c.pk}, format="json")

    # then
    body = assert_error_shape(response, 400, "validation_error")
    assert list(body["fields"]) == ["sales_rep"]
    mine.refresh_from_db()
    assert mine.sales_rep == rep_a
    assert mine.history.count() == versions
    assert api_client_for(rep_c).get(f"{PARTIES}{mine.pk}/").status_code == 404


def test_a_sales_rep_may_send_back_the_rep_they_read(api_client_for, two_reps):
    # given: a PUT-style round trip of the party as the API returned it
    rep_a, mine, _theirs = two_reps
    client = api_client_for(rep_a)
    read = client.get(f"{PARTIES}{mine.pk}/").json()

    # when
    response = client.patch(
        f"{PARTIES}{mine.pk}/", {"sales_rep": read["sales_rep"], "contact_name": "新联系人"}, format="json"
    )

    # then
    assert response.status_code == 200, response.content
    mine.refresh_from_db()
    assert (mine.sales_rep, mine.contact_name) == (rep_a, "新联系人")


def test_a_sales_rep_cannot_create_a_party_for_another_rep(api_client_for, make_user):
    # given
    rep_a, rep_b = make_user("sales"), make_user("sales")

    # when
    refused = api_client_for(rep_a).post(PARTIES, party_payload(sales_rep=rep_b.pk), format="json")
    own = api_client_for(rep_a).post(PARTIES, party_payload(code="H-API-2", uscc=make_uscc(802)), format="json")

    # then
    body = assert_error_shape(refused, 400, "validation_error")
    assert list(body["fields"]) == ["sales_rep"]
    assert own.status_code == 201, own.content
    assert list(Party.objects.values_list("code", "sales_rep")) == [("H-API-2", rep_a.pk)]


def test_a_manager_assigns_parties_only_to_active_sales_users(api_client_for, make_user):
    # given a warehouse user, an inactive rep and an id nobody has
    client = api_client_for(make_user("sales_manager"))
    party = PartyFactory()
    targets = [make_user("warehouse").pk, make_user("sales", is_active=False).pk, 987654]
    versions = party.history.count()

    # when
    responses = [client.patch(f"{PARTIES}{party.pk}/", {"sales_rep": pk}, format="json") for pk in targets]

    # then each is refused on the field, with the same message whether the user exists or not
    messages = []
    for pk, response in zip(targets, responses, strict=True):
        body = assert_error_shape(response, 400, "validation_error")
        assert list(body["fields"]) == ["sales_rep"]
        messages.append(body["fields"]["sales_rep"][0].replace(str(pk), "<id>"))
    assert len(set(messages)) == 1 and "<id>" in messages[0]
    party.refresh_from_db()
    assert party.sales_rep is None
    assert party.history.count() == versions


def test_a_manager_assigns_a_party_to_a_sales_manager(api_client_for, make_user):
    # given
    manager, other_manager = make_user("sales_manager"), make_user("sales_manager")
    party = PartyFactory()

    # when
    response = api_client_for(manager).patch(f"{PARTIES}{party.pk}/", {"sales_rep": other_manager.pk}, format="json")

    # then
    assert response.status_code == 200, response.content
    party.refresh_from_db()
    assert party.sales_rep == other_manager


@pytest.mark.parametrize("which", ["visible", "not visible", "missing"])
def test_product_registrant_must_be_a_party_the_user_may_see(api_client_for, make_user, which):
    # given a sales rep (who keeps the catalogue) and a manufacturer assigned to them, one that is not
    rep = make_user("sales")
    own = PartyFactory(kind="manufacturer", sales_rep=rep)
    for perm in services.PARTY_REP_PERMISSIONS:
        assign_perm(perm, rep, own)
    hidden = PartyFactory(kind="manufacturer")
    registrant_id = {"visible": own.pk, "not visible": hidden.pk, "missing": 987654}[which]

    # when
    response = api_client_for(rep).post(PRODUCTS, product_payload(registrant=registrant_id), format="json")

    # then
    if which == "visible":
        assert response.status_code == 201, response.content
        assert Product.objects.get().registrant == own
        return
    body = assert_error_shape(response, 400, "validation_error")
    assert list(body["fields"]) == ["registrant"]
    assert str(registrant_id) in body["fields"]["registrant"][0]
    assert not Product.objects.exists()


def test_not_visible_and_missing_registrants_get_the_same_message(api_client_for, make_user):
    # given
    rep = make_user("sales")
    hidden = PartyFactory(kind="manufacturer")
    client = api_client_for(rep)

    # when
    not_visible = client.post(PRODUCTS, product_payload(registrant=hidden.pk), format="json").json()
    missing = client.post(PRODUCTS, product_payload(registrant=hidden.pk + 1000), format="json").json()

    # then
    assert not_visible["fields"]["registrant"][0].replace(str(hidden.pk), "ID") == missing["fields"]["registrant"][
        0
    ].replace(str(hidden.pk + 1000), "ID")


def test_product_registrant_must_be_a_manufacturer_or_supplier(api):
    # given
    hospital = PartyFactory(kind="hospital")

    # when
    response = api.post(PRODUCTS, product_payload(registrant=hospital.pk), format="json")

    # then
    assert_error_shape(response, 400, "validation_error")
    assert not Product.objects.exists()


# --- licence / filing number -------------------------------------------------------------------------


def test_party_licence_number_is_written_and_read_through_the_api(api):
    # given
    payload = party_payload(kind="distributor", bed_count=None, licence_number="沪浦药监械经营许20180123号")

    # when
    created = api.post(PARTIES, payload, format="json")
    found = api.get(PARTIES, {"licence_number": "沪浦药监械经营许20180123号"}).json()

    # then
    assert created.status_code == 201, created.content
    assert created.json()["licence_number"] == "沪浦药监械经营许20180123号"
    assert [row["code"] for row in found["results"]] == ["H-API-1"]
    assert Party.history.get(code="H-API-1").licence_number == "沪浦药监械经营许20180123号"


# --- change reason -----------------------------------------------------------------------------------


def test_a_patch_with_a_change_reason_header_stores_it_on_the_history_row(api, integrator):
    # given
    party = PartyFactory()

    # when
    response = api.patch(
        f"{PARTIES}{party.pk}/",
        {"contact_phone": "021-12345678"},
        format="json",
        headers={"X-Change-Reason": "customer moved its purchasing office"},
    )

    # then
    assert response.status_code == 200, response.content
    latest = party.history.latest()
    assert (latest.history_type, latest.history_user) == ("~", integrator)
    assert latest.history_change_reason == "customer moved its purchasing office"
    assert latest.contact_phone == "021-12345678"


def test_a_change_reason_header_may_carry_chinese_text_percent_encoded(api):
    # given
    from urllib.parse import quote

    warehouse = WarehouseFactory()

    # when
    response = api.patch(
        f"{WAREHOUSES}{warehouse.pk}/",
        {"is_cold_storage": True},
        format="json",
        headers={"X-Change-Reason": quote("冷库改造完成")},
    )
    created = api.post(
        WAREHOUSES,
        {"code": "WH-R", "name": "新仓", "region_code": "310115", "address": "x"},
        format="json",
        headers={"X-Change-Reason": quote("新开仓库")},
    )

    # then
    assert response.status_code == 200, response.content
    assert created.status_code == 201, created.content
    assert warehouse.history.latest().history_change_reason == "冷库改造完成"
    assert Warehouse.history.get(code="WH-R").history_change_reason == "新开仓库"


def test_a_write_without_a_change_reason_records_none(api):
    # given
    party = PartyFactory()

    # when
    api.patch(f"{PARTIES}{party.pk}/", {"contact_phone": "021-12345678"}, format="json")

    # then
    assert party.history.latest().history_change_reason is None


# --- pagination, filters, query counts ----------------------------------------------------------------


@pytest.mark.parametrize("page_size", [10, 50, 200])
def test_party_list_query_count_does_not_grow_with_page_size(api, django_assert_max_num_queries, page_size):
    # given
    PartyFactory.create_batch(210)

    # when
    with django_assert_max_num_queries(6):  # token, user permissions, count, page
        response = api.get(PARTIES, {"page_size": page_size})

    # then
    body = response.json()
    assert body["count"] == 210
    assert len(body["results"]) == page_size


@pytest.mark.parametrize("page_size", [10, 200])
def test_product_list_query_count_does_not_grow_with_page_size(api, django_assert_max_num_queries, page_size):
    # given
    ProductFactory.create_batch(205)

    # when
    with django_assert_max_num_queries(6):
        response = api.get(PRODUCTS, {"page_size": page_size})

    # then
    assert len(response.json()["results"]) == page_size


def test_a_sales_reps_party_list_costs_a_fixed_number_of_queries(
    api_client_for, make_user, admin_user, django_assert_max_num_queries
):
    # given
    rep = make_user("sales")
    for n in range(30):
        services.party_create(user=admin_user, **party_payload(code=f"R{n}", uscc=make_uscc(850 + n), sales_rep=rep))
    client = api_client_for(rep)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(PARTIES, {"page_size": 200})

    # then
    assert response.json()["count"] == 30


def test_page_size_is_capped_at_200(api):
    # given
    PartyFactory.create_batch(205)

    # when
    body = api.get(PARTIES, {"page_size": 1000}).json()

    # then
    assert len(body["results"]) == 200
    assert body["next"]


def test_party_list_filters_and_search(api):
    # given
    PartyFactory(code="H-1", name="上海第一医院", region_code="310104")
    PartyFactory(code="D-1", kind="distributor", name="广东粤康医疗器械有限公司", region_code="440106", bed_count=None)

    # when / then
    assert [r["code"] for r in api.get(PARTIES, {"kind": "distributor"}).json()["results"]] == ["D-1"]
    assert [r["code"] for r in api.get(PARTIES, {"q": "粤康"}).json()["results"]] == ["D-1"]
    assert [r["code"] for r in api.get(PARTIES, {"region_code": "310104"}).json()["results"]] == ["H-1"]
    assert [r["code"] for r in api.get(PARTIES, {"ordering": "-code"}).json()["results"]] == ["H-1", "D-1"]


def test_product_list_filters_by_class_and_gtin_in_any_length(api):
    # given
    ProductFactory(sku="A", device_class=3, udi_di="06901234567892")
    ProductFactory(sku="B", device_class=1, udi_di=make_gtin(5))

    # when / then
    assert [r["sku"] for r in api.get(PRODUCTS, {"device_class": 3}).json()["results"]] == ["A"]
    assert [r["sku"] for r in api.get(PRODUCTS, {"q": "6901234567892"}).json()["results"]] == ["A"]


def test_a_bad_filter_value_gets_400_in_the_error_shape(api):
    # when
    response = api.get(PARTIES, {"kind": "embassy"})

    # then
    body = assert_error_shape(response, 400, "validation_error")
    assert "kind" in body["fields"]


# --- history of API writes ------------------------------------------------------------------------------


def test_api_writes_record_the_token_user_in_history(api, integrator):
    # when
    created = api.post(PARTIES, party_payload(), format="json").json()
    api.patch(f"{PARTIES}{created['id']}/", {"contact_phone": "021-12345678"}, format="json")

    # then
    history = Party.history.filter(id=created["id"]).order_by("history_id")
    assert [(h.history_type, h.history_user) for h in history] == [("+", integrator), ("~", integrator)]


def test_api_writes_record_the_session_user_in_history(make_user):
    # given
    manager = make_user("sales_manager")
    client = APIClient()
    client.force_login(manager)

    # when
    response = client.post(WAREHOUSES, {"code": "WH-T", "name": "测试仓", "region_code": "310115", "address": "x"})

    # then
    assert response.status_code == 201, response.content
    assert Warehouse.history.get(code="WH-T").history_user == manager


def test_no_api_endpoint_exposes_history_rows():
    from django.urls import get_resolver

    # given every URL of the API
    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    api_patterns = [(route, p) for route, p in walk(get_resolver().url_patterns) if route.startswith("api/v1/")]

    # then none serves a historical model
    assert api_patterns
    for route, pattern in api_patterns:
        view = getattr(pattern.callback, "cls", None)
        queryset = getattr(view, "queryset", None)
        assert "history" not in route.lower(), route
        if queryset is not None:
            assert not queryset.model.__name__.startswith("Historical"), route


# --- Idempotency-Key ------------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_response_and_creates_one_party(api):
    # when
    first = api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-feed-0001")
    second = api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-feed-0001")

    # then
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Party.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_gets_422(api):
    # given
    api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # when
    response = api.post(
        PARTIES, party_payload(code="OTHER", uscc=make_uscc(870)), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    # then
    assert_error_shape(response, 422, "idempotency_key_reused")
    assert Party.objects.count() == 1


def test_the_same_idempotency_key_on_another_endpoint_gets_422(api):
    # given
    api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    # when
    response = api.post(PRODUCTS, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    # then
    assert_error_shape(response, 422, "idempotency_key_reused")


def test_a_failed_request_does_not_use_up_its_idempotency_key(api):
    # given a first attempt refused for a bad USCC
    bad = api.post(PARTIES, party_payload(uscc="91110000600037341M"), format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    # when the client corrects the body and retries with the same key
    good = api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    # then
    assert bad.status_code == 400
    assert good.status_code == 201, good.content
    assert Party.objects.count() == 1


def test_idempotency_keys_belong_to_their_user(api, api_client_for, make_user):
    # given
    other = api_client_for(make_user("integrator"))
    api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")

    # when another integrator uses the same key for their own party
    response = other.post(
        PARTIES, party_payload(code="OTHER", uscc=make_uscc(871)), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    # then
    assert response.status_code == 201
    assert Party.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(api):
    # when
    response = api.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    # then
    assert_error_shape(response, 400, "idempotency_key_invalid")
    assert not Party.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_the_same_idempotency_key_create_one_party(make_user):
    # given eight clients sending the same request at the same moment, each on its own DB connection
    from knox.models import AuthToken

    user = make_user("integrator")
    _token, secret = AuthToken.objects.create(user=user)
    barrier = threading.Barrier(8)
    responses, errors = [], []

    def send():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
            barrier.wait(timeout=10)
            responses.append(client.post(PARTIES, party_payload(), format="json", HTTP_IDEMPOTENCY_KEY="race-1"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]

    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    # then
    assert not errors, errors
    assert [r.status_code for r in responses] == [201] * 8
    assert all(r.json() == responses[0].json() for r in responses)
    assert Party.objects.count() == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 7
