"""Validators for master-data codes (DOMAIN.md §1, §2, §6). Each raises ``ValidationError`` with a
translatable message; none of them changes data."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
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
