import pytest
from django.core.exceptions import ValidationError

from masterdata.validators import (
    normalise_gtin,
    validate_catalogue_code,
    validate_gtin,
    validate_region_code,
    validate_registration_number,
    validate_uscc,
)
from tests.masterdata.factories import make_uscc


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # an ordinary company
        make_uscc(1, first="A"),  # a military institution, rejected by stdnum's own validate
        make_uscc(2, first="N"),
        make_uscc(3, first="Y"),
    ],
)
def test_validate_uscc_accepts_valid_codes(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91110000600037341M", "uscc_check"),
        ("9111000060003734", "uscc_length"),
        ("B1110000600037341L", "uscc_format"),
        ("91110000600037341I", "uscc_format"),
    ],
)
def test_validate_uscc_rejects_bad_codes(code, error_code):
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.code == error_code


@pytest.mark.parametrize("gtin", ["06901234567892", "6901234567892", "96385074", "036000291452"])
def test_validate_gtin_accepts_valid_check_digits(gtin):
    validate_gtin(gtin)


@pytest.mark.parametrize("gtin", ["06901234567893", "690123456789", "abc", "0690123456789212"])
def test_validate_gtin_rejects_bad_input(gtin):
    with pytest.raises(ValidationError):
        validate_gtin(gtin)


def test_normalise_gtin_pads_to_fourteen_digits():
    assert normalise_gtin("6901234567892") == "06901234567892"
    assert normalise_gtin("96385074") == "00000096385074"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "ok"), [("310101", True), ("110000", True), ("990000", False), ("31010", False), ("x10101", False)]
)
def test_validate_region_code(code, ok):
    if ok:
        validate_region_code(code)
    else:
        with pytest.raises(ValidationError):
            validate_region_code(code)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("14-01-02", True),
        ("22", True),
        ("6840", True),
        ("6840-01-00001", True),
        ("23-01", False),
        ("14-1-02", False),
        ("6841", False),
    ],
)
def test_validate_catalogue_code(code, ok):
    if ok:
        validate_catalogue_code(code)
    else:
        with pytest.raises(ValidationError):
            validate_catalogue_code(code)


# --- Registration / filing numbers (DOMAIN.md §1) -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "device_class"),
    [
        ("国械注准20213130001", 3),  # domestic class III: national
        ("沪械注准20202140123", 2),  # domestic class II: the province
        ("粤械注准20192070456", 2),
        ("国械注进20173460789", 3),  # import, class III
        ("国械注进20162220012", 2),  # import, class II: national too
        ("国械注许20183400034", 3),  # Hong Kong / Macau / Taiwan
        ("浙温械备20140027号", 1),  # class I filing with a city
        ("沪械备20150012号", 1),
        ("国械备20160005号", 1),  # imported class I, filed nationally
        ("国食药监械(准)字2013第3460001号", 3),  # legacy: kept as text
        ("国食药监械（进）字2012第2220123号", 2),
        ("京药管械(准)字2000第2640045号", 2),
        (" 国械注准 20213130001 ", 3),  # spaces are ignored
    ],
)
def test_validate_registration_number_accepts_valid_numbers(number, device_class):
    validate_registration_number(number, device_class=device_class)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "device_class", "error_code"),
    [
        ("国械注准20212130001", 3, "registration_class_mismatch"),  # class digit 2 on a class III product
        ("沪械注准20203140001", 2, "registration_class_mismatch"),
        ("沪械注准20203140001", 3, "registration_prefix_class_three"),  # class III must be national
        ("国械注准20202140001", 2, "registration_prefix_class_two"),  # domestic class II is provincial
        ("沪械注进20203140001", 3, "registration_prefix_import"),
        ("粤械注许20192140001", 2, "registration_prefix_import"),
        ("火械注准20202140001", 2, "registration_prefix_unknown"),  # not a province
        ("火械备20140027号", 1, "registration_prefix_unknown"),
        ("国械注准20211140001", 2, "registration_class_digit"),
        ("国械注准20213130001", 1, "registration_class_one"),  # class I is filed, not registered
        ("浙温械备20140027号", 2, "registration_filing_not_class_one"),
        ("浙温械备20140027号", 3, "registration_filing_not_class_one"),
        ("国械注准29993130001", 3, "registration_year"),
        ("国械注准2021313001", 3, "registration_format"),  # one digit short
        ("GXZZ20213130001", 3, "registration_format"),
        ("注册证待补", 2, "registration_format"),
    ],
)
def test_validate_registration_number_rejects_bad_numbers(number, device_class, error_code):
    with pytest.raises(ValidationError) as exc:
        validate_registration_number(number, device_class=device_class)
    assert exc.value.code == error_code
    assert str(exc.value.messages[0])


@pytest.mark.django_db
def test_validate_registration_number_error_is_bilingual():
    from django.utils import translation

    # given a number whose class digit does not match
    with pytest.raises(ValidationError) as exc:
        validate_registration_number("国械注准20212130001", device_class=3)

    # when the message is rendered in each language, then it reads in that language
    with translation.override("en"):
        assert "class digit" in exc.value.messages[0]
    with translation.override("zh-hans"):
        assert "管理类别" in exc.value.messages[0]


@pytest.mark.django_db
def test_every_demo_product_gets_a_registration_number_valid_for_its_class():
    from masterdata.demo import PARTIES, PRODUCTS, make_registration_number
    from masterdata.models import Region

    # given the registrants' provinces
    abbreviations = dict(Region.objects.values_list("code", "abbreviation"))
    province_of = {row[0]: abbreviations[f"{row[5][:2]}0000"] for row in PARTIES}

    # when / then every hand-written demo product has a number its class accepts
    for index, row in enumerate(PRODUCTS):
        device_class, catalogue = row[5], row[6]
        number = make_registration_number(device_class, catalogue, province_of[row[4]], index + 1)
        validate_registration_number(number, device_class=device_class)
