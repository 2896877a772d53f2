"""Master-data services: every validation gives a clear error and saves nothing; history records the
acting user and the reason; the sales rep's object permissions follow the assignment."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from guardian.shortcuts import get_perms

from masterdata import services
from masterdata.models import Party, PartyKind, Product, Warehouse
from masterdata.validators import gtin_check_digit
from tests.masterdata.factories import PartyFactory, ProductFactory, make_gtin, make_uscc

pytestmark = pytest.mark.django_db


def codes(error: ValidationError, field: str) -> list[str]:
    """The stable error codes of one field (messages are translated)."""
    return [e.code for e in error.error_dict[field]]


def party_fields(**overrides):
    fields = {
        "code": "C-TEST-1",
        "name": "上海测试医院",
        "name_en": "Shanghai Test Hospital",
        "kind": PartyKind.HOSPITAL,
        "uscc": make_uscc(900),
        "region_code": "310104",
        "bed_count": 120,
    }
    fields.update(overrides)
    return fields


def product_fields(**overrides):
    fields = {
        "sku": "SKU-T-1",
        "name_zh": "一次性使用输液器",
        "name_en": "Infusion set",
        "device_class": 3,
        "catalogue_code": "14-02-01",
        "list_price": Decimal("2.8500"),
    }
    fields.update(overrides)
    return fields


# --- USCC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["9", "1", "5", "A", "N", "Y"])
def test_party_create_accepts_valid_uscc_including_military_and_other_authorities(admin_user, first):
    # given a valid code whose registration authority is ``first`` (A = military, N = other, Y = rural)
    uscc = make_uscc(901, first=first)

    # when
    party = services.party_create(user=admin_user, **party_fields(uscc=uscc, is_military=first == "A"))

    # then
    assert Party.objects.get(pk=party.pk).uscc == uscc


def test_party_create_normalises_uscc_case_and_spaces(admin_user):
    # given a valid code typed in lower case with spaces
    uscc = make_uscc(902, first="A")
    typed = f" {uscc[:9].lower()} {uscc[9:].lower()} "

    # when
    party = services.party_create(user=admin_user, **party_fields(uscc=typed))

    # then
    party.refresh_from_db()
    assert party.uscc == uscc


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91110000600037341M", "uscc_check"),  # wrong mod-31 check character
        ("9111000060003734", "uscc_length"),
        ("B1110000600037341L", "uscc_format"),  # B is no registration authority
        ("91110000600037341I", "uscc_format"),  # I is outside the USCC alphabet
        ("A1" + "110108" + "23807170" + "2X", "uscc_check"),  # military prefix, wrong check
    ],
)
def test_party_create_rejects_bad_uscc_and_saves_nothing(admin_user, uscc, code):
    # given
    before = Party.objects.count()

    # when
    with pytest.raises(ValidationError) as exc:
        services.party_create(user=admin_user, **party_fields(uscc=uscc))

    # then
    assert codes(exc.value, "uscc") == [code]
    assert exc.value.message_dict["uscc"][0]
    assert Party.objects.count() == before
    assert Party.history.count() == 0


def test_party_update_rejects_bad_uscc_and_keeps_the_row(admin_user):
    # given
    party = PartyFactory()
    original, versions = party.uscc, party.history.count()

    # when
    with pytest.raises(ValidationError):
        services.party_update(instance=party, user=admin_user, uscc="91110000600037341M")

    # then
    party.refresh_from_db()
    assert party.uscc == original
    assert party.history.count() == versions


def test_party_create_rejects_duplicate_uscc(admin_user):
    # given
    existing = PartyFactory()

    # when the same code is typed in lower case
    with pytest.raises(ValidationError) as exc:
        services.party_create(user=admin_user, **party_fields(uscc=existing.uscc.lower()))

    # then the error names the party that holds it, on the field
    assert codes(exc.value, "uscc") == ["uscc_taken"]
    assert existing.code in exc.value.message_dict["uscc"][0]
    assert "__all__" not in exc.value.message_dict
    assert Party.objects.count() == 1


# --- region codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region_code", "code"),
    [("3101", "region_format"), ("0310104", "max_length"), ("31010A", "region_format"), ("990101", "region_unknown")],
)
def test_party_create_rejects_bad_region_codes(admin_user, region_code, code):
    # when
    with pytest.raises(ValidationError) as exc:
        services.party_create(user=admin_user, **party_fields(region_code=region_code))

    # then
    assert code in codes(exc.value, "region_code")
    assert not Party.objects.exists()


def test_party_create_derives_the_province_from_the_region_code(admin_user):
    # when
    party = services.party_create(user=admin_user, **party_fields(region_code="440305"))

    # then
    assert party.province.code == "440000"
    assert party.province.name_en == "Guangdong"


def test_warehouse_create_rejects_unknown_region_and_saves_nothing(admin_user):
    # when
    with pytest.raises(ValidationError) as exc:
        services.warehouse_create(user=admin_user, code="WH-X", name="测试仓", region_code="000000", address="x")

    # then
    assert "region_code" in exc.value.message_dict
    assert not Warehouse.objects.exists()


# --- other party rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": PartyKind.DISTRIBUTOR, "bed_count": 50}, "bed_count"),
        ({"kind": PartyKind.DISTRIBUTOR, "bed_count": None, "is_military": True}, "is_military"),
        ({"min_shelf_life_pct": 120}, "min_shelf_life_pct"),
        ({"contact_email": "not-an-email"}, "contact_email"),
    ],
)
def test_party_create_rejects_inconsistent_fields(admin_user, overrides, field):
    # when
    with pytest.raises(ValidationError) as exc:
        services.party_create(user=admin_user, **party_fields(**overrides))

    # then
    assert field in exc.value.message_dict
    assert not Party.objects.exists()


# --- GTIN -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("6901234567892", "06901234567892"),  # GTIN-13 (EAN-13)
        ("06901234567892", "06901234567892"),  # GTIN-14
        (" 6901234567892 ", "06901234567892"),
    ],
)
def test_product_create_normalises_gtin_to_14_digits(admin_user, typed, stored):
    # when
    product = services.product_create(user=admin_user, **product_fields(udi_di=typed))

    # then
    product.refresh_from_db()
    assert product.udi_di == stored


@pytest.mark.parametrize(
    ("udi_di", "code"),
    [
        ("06901234567893", "gtin_check"),
        ("6901234567891", "gtin_check"),
        ("690123456789", "gtin_check"),
        ("0690123456789212", "gtin_format"),  # 16 digits: the GTIN message, not "too long"
        ("69012345678", "gtin_format"),
        ("ABCDEFGHIJKLM", "gtin_format"),
    ],
)
def test_product_create_rejects_bad_gtin_and_saves_nothing(admin_user, udi_di, code):
    # when
    with pytest.raises(ValidationError) as exc:
        services.product_create(user=admin_user, **product_fields(udi_di=udi_di))

    # then
    assert code in codes(exc.value, "udi_di")
    assert not Product.objects.exists()
    assert Product.history.count() == 0


def test_product_create_rejects_a_gtin_already_used_in_another_form(admin_user):
    # given a product stored under its GTIN-14
    body = "690123456789"
    gtin13 = body + gtin_check_digit(body)
    ProductFactory(udi_di="0" + gtin13)

    # when the same GTIN arrives as GTIN-13
    with pytest.raises(ValidationError) as exc:
        services.product_create(user=admin_user, **product_fields(udi_di=gtin13))

    # then
    assert "udi_di" in exc.value.message_dict
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"catalogue_code": "23-01"}, "catalogue_code"),
        ({"catalogue_code": "6841-01"}, "catalogue_code"),
        ({"storage_min_c": Decimal("8"), "storage_max_c": Decimal("2")}, "storage_max_c"),
        ({"tax_rate": Decimal("13")}, "tax_rate"),
        ({"device_class": 3, "class2_filing_exempt": True}, "class2_filing_exempt"),
        ({"list_price": Decimal("-1")}, "list_price"),
    ],
)
def test_product_create_rejects_inconsistent_fields(admin_user, overrides, field):
    # when
    with pytest.raises(ValidationError) as exc:
        services.product_create(user=admin_user, **product_fields(**overrides))

    # then
    assert field in exc.value.message_dict
    assert not Product.objects.exists()


def test_product_cold_chain_is_derived_from_the_storage_range(admin_user):
    # when
    reagent = services.product_create(
        user=admin_user,
        **product_fields(
            sku="IVD-T", catalogue_code="6840-01-00001", storage_min_c=Decimal("2"), storage_max_c=Decimal("8")
        ),
    )
    syringe = services.product_create(user=admin_user, **product_fields(sku="INJ-T", storage_max_c=Decimal("30")))

    # then
    assert reagent.is_cold_chain
    assert not syringe.is_cold_chain


# --- history ----------------------------------------------------------------------------------------


def test_party_create_and_update_record_the_acting_user_and_reason(admin_user, manager_user):
    # given
    party = services.party_create(user=admin_user, reason="new customer", **party_fields())

    # when
    services.party_update(instance=party, user=manager_user, reason="moved", address="上海市徐汇区新地址1号")

    # then
    first, second = party.history.order_by("history_id")
    assert (first.history_type, first.history_user, first.history_change_reason) == ("+", admin_user, "new customer")
    assert (second.history_type, second.history_user, second.history_change_reason) == ("~", manager_user, "moved")
    diff = second.diff_against(first)
    assert [change.field for change in diff.changes] == ["address"]


def test_product_update_records_the_acting_user(admin_user, manager_user):
    # given
    product = services.product_create(user=admin_user, **product_fields(udi_di=make_gtin(77)))

    # when
    services.product_update(instance=product, user=manager_user, reason="price list 2026", list_price=Decimal("3"))

    # then
    latest = product.history.latest()
    assert latest.history_user == manager_user
    assert latest.history_change_reason == "price list 2026"
    assert latest.list_price == Decimal("3.0000")


# --- sales rep object permissions -------------------------------------------------------------------


def test_party_create_grants_the_sales_rep_object_permissions(admin_user, sales_user):
    # when
    party = services.party_create(user=admin_user, **party_fields(sales_rep=sales_user))

    # then
    assert set(get_perms(sales_user, party)) == {"view_party", "change_party"}


def test_party_create_by_a_sales_rep_makes_them_the_rep(sales_user):
    # when
    party = services.party_create(user=sales_user, **party_fields())

    # then
    assert party.sales_rep == sales_user
    assert sales_user.has_perm("masterdata.view_party", party)


def test_party_update_reassigning_the_rep_moves_the_permissions(admin_user, make_user):
    # given
    old_rep, new_rep = make_user("sales"), make_user("sales")
    party = services.party_create(user=admin_user, **party_fields(sales_rep=old_rep))

    # when
    services.party_update(instance=party, user=admin_user, reason="territory change", sales_rep=new_rep)

    # then
    assert get_perms(old_rep, party) == []
    assert set(get_perms(new_rep, party)) == {"view_party", "change_party"}


def test_party_update_removing_the_rep_revokes_the_permissions(admin_user, sales_user):
    # given
    party = services.party_create(user=admin_user, **party_fields(sales_rep=sales_user))

    # when
    services.party_update(instance=party, user=admin_user, sales_rep=None)

    # then
    assert get_perms(sales_user, party) == []


# --- Registration numbers -------------------------------------------------------------------------


def test_product_create_stores_a_registration_number_without_spaces(admin_user):
    # when
    product = services.product_create(user=admin_user, **product_fields(registration_number=" 国械注准 20213130001"))

    # then
    product.refresh_from_db()
    assert product.registration_number == "国械注准20213130001"
    assert product.history.get().registration_number == "国械注准20213130001"


def test_product_create_keeps_a_legacy_registration_number_as_written(admin_user):
    # when
    product = services.product_create(
        user=admin_user, **product_fields(registration_number="国食药监械(准)字2013第3460001号")
    )

    # then
    assert Product.objects.get(pk=product.pk).registration_number == "国食药监械(准)字2013第3460001号"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"device_class": 3, "registration_number": "沪械注准20202140001"}, "registration_class_mismatch"),
        ({"device_class": 1, "registration_number": "国械注准20213130001"}, "registration_class_one"),
        ({"device_class": 2, "registration_number": "浙温械备20140027号"}, "registration_filing_not_class_one"),
        ({"device_class": 2, "registration_number": "not a number"}, "registration_format"),
    ],
)
def test_product_create_rejects_a_registration_number_that_does_not_fit_and_saves_nothing(admin_user, overrides, code):
    # when
    with pytest.raises(ValidationError) as exc:
        services.product_create(user=admin_user, **product_fields(**overrides))

    # then
    assert codes(exc.value, "registration_number") == [code]
    assert not Product.objects.exists()
    assert Product.history.count() == 0


def test_product_update_checks_the_registration_number_against_a_changed_class(admin_user):
    # given a class III product with a national number
    product = services.product_create(user=admin_user, **product_fields(registration_number="国械注准20213130001"))

    # when its class is changed to II without a new number
    with pytest.raises(ValidationError) as exc:
        services.product_update(instance=product, user=admin_user, device_class=2)

    # then
    assert codes(exc.value, "registration_number") == ["registration_class_mismatch"]
    product.refresh_from_db()
    assert product.device_class == 3 and product.history.count() == 1


@pytest.mark.parametrize("device_class", [1, 2, 3])
def test_product_factory_default_registration_number_is_valid_for_its_class(device_class):
    # given / when
    product = ProductFactory(device_class=device_class)

    # then
    product.full_clean()
    assert product.registration_number
