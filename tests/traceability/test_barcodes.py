"""GS1 / UDI parsing: every pitfall of DOMAIN.md §6."""

from datetime import date

import pytest

from traceability.barcodes import hibc_check_character, scan_parse

GTIN = "06901234567892"  # valid mod-10 check digit


def test_scan_parse_datamatrix_with_fnc1_reads_every_ai():
    # given a DataMatrix scan with production date, expiry, lot and serial
    raw = f"]d201{GTIN}11240115172601311" + "0ABC123\x1d21SN0001"
    # when
    result = scan_parse(raw)
    # then
    assert result.ok, result.reason
    assert result.symbology == "]d2"
    assert (result.gtin, result.lot, result.serial) == (GTIN, "ABC123", "SN0001")
    assert result.production_date == date(2024, 1, 15)
    assert result.expiry_date == date(2026, 1, 31)
    assert result.raw_ai == {"01": GTIN, "11": "240115", "17": "260131", "10": "ABC123", "21": "SN0001"}
    assert result.raw == raw and result.issuer == "gs1"


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3", "]e0", ""])
def test_scan_parse_accepts_every_symbology_prefix(prefix):
    result = scan_parse(f"{prefix}01{GTIN}10L1")
    assert result.ok and result.symbology == prefix and result.lot == "L1"


def test_scan_parse_day_00_is_last_day_of_month():
    assert scan_parse(f"01{GTIN}17240200").expiry_date == date(2024, 2, 29)
    assert scan_parse(f"01{GTIN}17250200").expiry_date == date(2025, 2, 28)
    assert scan_parse(f"01{GTIN}11231100").production_date == date(2023, 11, 30)


def test_scan_parse_wrong_gtin_check_digit_is_refused_although_message_has_no_error():
    # given a GTIN whose check digit is wrong (biip leaves gs1_message_error empty)
    from biip import parse

    raw = "0106901234567890" + "10L1"
    assert parse(raw).gs1_message_error is None
    # when
    result = scan_parse(raw)
    # then
    assert not result.ok and result.reason_code == "gtin_check_digit"
    assert "06901234567890" in result.reason


def test_scan_parse_parenthesised_hri():
    result = scan_parse(f"(01){GTIN}(17)260100(10)ABC(21)S1")
    assert result.ok and result.lot == "ABC" and result.serial == "S1" and result.expiry_date == date(2026, 1, 31)


def test_scan_parse_hri_with_wrong_check_digit_is_refused():
    assert scan_parse("(01)06901234567890(10)AB").reason_code == "gtin_check_digit"


@pytest.mark.parametrize("placeholder", ["<GS>", "{GS}", "\\x1d"])
def test_scan_parse_fnc1_placeholder(placeholder):
    result = scan_parse(f"01{GTIN}10L1{placeholder}21S1")
    assert result.ok and result.lot == "L1" and result.serial == "S1"


def test_scan_parse_placeholder_comes_from_settings(settings):
    settings.ERP = {**settings.ERP, "GS1_FNC1_PLACEHOLDERS": ["@@"]}
    assert scan_parse(f"01{GTIN}10L1@@21S1").serial == "S1"


def test_scan_parse_missing_separator_is_flagged():
    # given the FNC1 between lot and serial was lost: the lot swallows "21S1"
    result = scan_parse(f"01{GTIN}17260100" + "10ABC12321S1")
    # then it parses (biip is silent) but is flagged with the likely split
    assert result.ok and result.lot == "ABC12321S1" and result.serial == ""
    assert result.warnings and result.suggested_split == {"lot": "ABC123", "ai": "21", "value": "S1"}


def test_scan_parse_lot_outside_charset_82_is_refused():
    assert scan_parse(f"01{GTIN}10批号1").reason_code == "gs1_invalid"
    assert "82" in scan_parse(f"01{GTIN}10AB CD").reason


def test_scan_parse_additional_id_and_count():
    result = scan_parse(f"01{GTIN}240REF-9\x1d3012")
    assert result.additional_id == "REF-9" and result.count == 12


def test_scan_parse_ma_code():
    result = scan_parse("MA.156.M0.100090.1001019801.S202003050001.L20200305.M20200305.V20230300")
    assert result.ok and result.issuer == "ma"
    assert result.di == "MA.156.M0.100090.1001019801"
    assert (result.lot, result.serial) == ("20200305", "202003050001")
    assert result.production_date == date(2020, 3, 5) and result.expiry_date == date(2023, 3, 31)


def test_scan_parse_ma_code_with_e_expiry():
    assert scan_parse("MA.156.M0.100090.77.L9.E20301231").expiry_date == date(2030, 12, 31)


def test_scan_parse_hibc_is_detected_with_issuer():
    data = "+A123BJC5D6E71"
    result = scan_parse(data + hibc_check_character(data))
    assert result.issuer == "hibc" and result.reason_code == "hibc_unsupported"
    assert scan_parse(data + "?").issuer == "hibc"


def test_scan_parse_garbage_gives_a_reason_and_never_raises():
    for raw in ["", "hello", "01123", "0106901234567892171313321021X"]:
        result = scan_parse(raw)
        assert not result.ok and result.reason
