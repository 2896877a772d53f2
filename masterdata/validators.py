"""Validators for master-data codes (DOMAIN.md §1, §2, §6). Each raises ``ValidationError`` with a
translatable message; none of them changes data."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

# Position 1: 1-9, A, N or Y (stdnum wrongly rejects A/N/Y, e.g. military hospitals "A1…"), 2: digit,
# 3-8: digits (administrative division), 9-18: the USCC alphabet without I, O, S, V, Z.
_USCC_RE = re.compile(r"^[1-9ANY][0-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
_REGION_RE = re.compile(r"^[1-9][0-9]{5}$")
_CATALOGUE_RE = re.compile(r"^(?:(?:0[1-9]|1[0-9]|2[0-2])(?:-[0-9]{2}){0,2}|6840(?:-[0-9]{2}(?:-[0-9]{5})?)?)$")


def normalise_uscc(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def validate_uscc(value: str) -> None:
    """A unified social credit code: 18 characters, the right alphabet per position, mod-31 check."""
    code = normalise_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="uscc_length",
            params={"n": len(code)},
        )
    if not _USCC_RE.match(code):
        raise ValidationError(
            _("This unified social credit code contains characters that are not allowed at their position."),
            code="uscc_format",
        )
    try:
        expected = stdnum_uscc.calc_check_digit(code[:-1])
    except (StdnumError, KeyError, ValueError) as exc:
        raise ValidationError(_("This unified social credit code is malformed."), code="uscc_format") from exc
    if expected != code[-1]:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong (expected %(expected)s)."),
            code="uscc_check",
            params={"expected": expected},
        )


def normalise_gtin(value: str) -> str:
    """GTIN-8/12/13/14 to GTIN-14 (left-padded with zeros); other input is returned stripped."""
    digits = (value or "").strip().replace(" ", "")
    if digits.isdigit() and len(digits) in (8, 12, 13, 14):
        return digits.zfill(14)
    return digits


def gtin_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for the digits before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def validate_gtin(value: str) -> None:
    """A GTIN (UDI-DI of GS1): 8, 12, 13 or 14 digits with a correct mod-10 check digit."""
    digits = (value or "").strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValidationError(_("A GTIN has 8, 12, 13 or 14 digits."), code="gtin_format")
    expected = gtin_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise ValidationError(
            _("The GTIN check digit is wrong (expected %(expected)s)."),
            code="gtin_check",
            params={"expected": expected},
        )


def validate_region_code(value: str) -> None:
    """A six-digit GB/T 2260 administrative division code whose province exists."""
    from masterdata.models import Region

    code = (value or "").strip()
    if not _REGION_RE.match(code):
        raise ValidationError(_("A region code has six digits (GB/T 2260), e.g. 310000."), code="region_format")
    if not Region.objects.filter(code=f"{code[:2]}0000").exists():
        raise ValidationError(
            _("No province-level region starts with %(prefix)s."), code="region_unknown", params={"prefix": code[:2]}
        )


def validate_catalogue_code(value: str) -> None:
    """A 2018 classification catalogue code (``01``…``22`` with up to two sub-levels) or an IVD ``6840`` code."""
    if not _CATALOGUE_RE.match((value or "").strip()):
        raise ValidationError(
            _("Use a catalogue code such as 14-01-02 (sub-catalogues 01–22) or 6840-01-00001 for IVD reagents."),
            code="catalogue_format",
        )


# Registration certificate (注册证, class II/III): <prefix>械注<kind><YYYY><class><NN><SSSS>.
_REGISTRATION_RE = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fff])械注(?P<kind>[准进许])(?P<year>[0-9]{4})(?P<cls>[0-9])(?P<nn>[0-9]{2})(?P<serial>[0-9]{4})$"
)
# Filing certificate (备案凭证, class I): <province>[<city>]械备<YYYY><NNNN…>号, e.g. 浙温械备20140027号.
_FILING_RE = re.compile(r"^(?P<prefix>[\u4e00-\u9fff])(?P<city>[\u4e00-\u9fff]{0,3})械备(?P<year>[0-9]{4})[0-9]{4,}号$")
# Numbers issued before the 2014 format, e.g. 国食药监械(准)字2013第3460001号: kept as text, never rejected.
_LEGACY_RE = re.compile(r"^[\u4e00-\u9fff]{1,8}械[（(][\u4e00-\u9fff]?[)）]字.+$")
NATIONAL_PREFIX = "国"


def normalise_registration_number(value: str) -> str:
    return "".join((value or "").split())


def registration_number_kind(value: str) -> str:
    """``registration``, ``filing``, ``legacy`` or ``""`` (not recognised) for a normalised number."""
    if _REGISTRATION_RE.match(value):
        return "registration"
    if _FILING_RE.match(value):
        return "filing"
    if _LEGACY_RE.match(value):
        return "legacy"
    return ""


def _province_abbreviations() -> set[str]:
    from masterdata.models import Region

    return set(Region.objects.exclude(abbreviation="").values_list("abbreviation", flat=True))


def validate_registration_number(value: str, *, device_class: int | None) -> None:
    """A registration number (class II/III, ``国械注准20213130001``) or filing number (class I,
    ``浙温械备20140027号``) that fits the product's class; legacy numbers (``国食药监械(准)字…``) pass as text.

    Registration numbers: the class digit equals the product's class; ``国`` for class III domestic and for
    every import (``进``) or HK/Macau/Taiwan (``许``) device, a province abbreviation for domestic class II.
    """
    number = normalise_registration_number(value)
    if not number:
        return
    kind = registration_number_kind(number)
    if kind == "legacy":
        return
    if not kind:
        raise ValidationError(
            _(
                "Not a registration or filing number. Use e.g. 国械注准20213130001 (class II/III) or "
                "浙温械备20140027号 (class I); numbers issued before 2014 such as 国食药监械(准)字… are kept as "
                "written."
            ),
            code="registration_format",
        )
    match = (_FILING_RE if kind == "filing" else _REGISTRATION_RE).match(number)
    assert match is not None  # the format was checked above
    if int(match["year"]) > timezone.localdate().year:
        raise ValidationError(
            _("The year in this number (%(year)s) is in the future."),
            code="registration_year",
            params={"year": match["year"]},
        )
    if kind == "filing":
        prefix = match["prefix"]
        if device_class is not None and device_class != 1:
            raise ValidationError(
                _(
                    "This is a class I filing number (械备); a class %(cls)s product needs a registration "
                    "certificate number (械注)."
                ),
                code="registration_filing_not_class_one",
                params={"cls": "II" if device_class == 2 else "III"},
            )
        if prefix != NATIONAL_PREFIX and prefix not in _province_abbreviations():
            raise ValidationError(
                _("%(prefix)s is not a province abbreviation (e.g. 浙, 沪, 粤)."),
                code="registration_prefix_unknown",
                params={"prefix": prefix},
            )
        return
    prefix, registration_kind, digit = match["prefix"], match["kind"], int(match["cls"])
    if device_class == 1:
        raise ValidationError(
            _("Class I products are filed, not registered: enter the filing number, e.g. 浙温械备20140027号."),
            code="registration_class_one",
        )
    if digit not in (2, 3):
        raise ValidationError(
            _("The class digit after the year must be 2 or 3 (this number has %(digit)d)."),
            code="registration_class_digit",
            params={"digit": digit},
        )
    if device_class is not None and digit != device_class:
        raise ValidationError(
            _("The class digit of this number (%(digit)d) does not match the product's class (%(cls)d)."),
            code="registration_class_mismatch",
            params={"digit": digit, "cls": device_class},
        )
    if registration_kind in ("进", "许") and prefix != NATIONAL_PREFIX:
        raise ValidationError(
            _(
                "Imported devices (进) and devices from Hong Kong, Macau or Taiwan (许) are registered "
                "nationally: 国械注%(kind)s…"
            ),
            code="registration_prefix_import",
            params={"kind": registration_kind},
        )
    if registration_kind == "准" and digit == 3 and prefix != NATIONAL_PREFIX:
        raise ValidationError(
            _("Domestic class III devices are registered nationally: the number starts with 国械注准."),
            code="registration_prefix_class_three",
        )
    if registration_kind == "准" and digit == 2 and prefix == NATIONAL_PREFIX:
        raise ValidationError(
            _(
                "Domestic class II devices are registered by the province: the number starts with its "
                "abbreviation, e.g. 沪械注准."
            ),
            code="registration_prefix_class_two",
        )
    if prefix != NATIONAL_PREFIX and prefix not in _province_abbreviations():
        raise ValidationError(
            _("%(prefix)s is not a province abbreviation (e.g. 浙, 沪, 粤)."),
            code="registration_prefix_unknown",
            params={"prefix": prefix},
        )
