import pytest
from django.core.exceptions import ValidationError

from masterdata.validators import (
    normalise_gtin,
    validate_catalogue_code,
    validate_gtin,
    validate_region_code,
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
