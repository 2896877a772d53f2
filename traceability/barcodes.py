"""UDI barcode parsing (DOMAIN.md §6): GS1 element strings and HRI, MA codes, HIBC detection.

Pure functions: ``scan_parse(raw)`` returns a ``ParsedScan`` that either carries the parsed fields
(``ok``) or a clear ``reason``. Nothing here touches the database. The raw string and the raw AI values
are always kept so the receipt can store them.

GS1 traps handled here, not left to ``biip``:
- a wrong GTIN check digit is *not* in ``gs1_message_error``: read the AI-01 element's ``gtin_error``;
- day ``00`` in (11)/(17) means the last day of the month (biip does this; tested);
- FNC1 arrives as ``\\x1d`` or as a configured placeholder (``settings.ERP["GS1_FNC1_PLACEHOLDERS"]``);
- the parenthesised human-readable form needs ``GS1Message.parse_hri``;
- a missing separator makes the lot swallow the following AI (e.g. ``10ABC12321S1``): flagged.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SYMBOLOGY_PREFIXES = {"]C1": "GS1-128", "]d2": "GS1 DataMatrix", "]Q3": "GS1 QR", "]e0": "GS1 DataBar"}
GS = "\x1d"
DEFAULT_PLACEHOLDERS = ("<GS>", "{GS}", "[GS]", "\\x1d", "^]")
# GS1 character set 82 (lot, serial, additional id): no spaces, no Chinese.
CHARSET_82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
KNOWN_AIS = ("01", "10", "11", "17", "21", "240", "30")
# AIs that, found inside a lot or serial, suggest the FNC1 after it was lost.
_SWALLOWED_AI = re.compile(r"(?P<ai>21|17(?=\d{6})|11(?=\d{6})|240|30(?=\d{1,8}$))(?P<rest>.+)$")


@dataclass
class ParsedScan:
    """The result of parsing one scan. ``ok`` is False when ``reason`` says why it cannot be used."""

    raw: str
    issuer: str = ""
    symbology: str = ""
    gtin: str = ""
    di: str = ""
    lot: str = ""
    serial: str = ""
    production_date: date | None = None
    expiry_date: date | None = None
    additional_id: str = ""
    count: int | None = None
    raw_ai: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    reason_code: str = ""
    suggested_split: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.reason

    def fail(self, code: str, reason) -> ParsedScan:
        self.reason_code = code
        self.reason = str(reason)
        return self


def _placeholders() -> tuple[str, ...]:
    configured = getattr(settings, "ERP", {}).get("GS1_FNC1_PLACEHOLDERS")
    return tuple(configured) if configured else DEFAULT_PLACEHOLDERS


def _normalise(raw: str) -> tuple[str, str]:
    """Strip scanner noise, turn FNC1 placeholders into GS and split off a symbology prefix."""
    text = raw.strip("\r\n\t ")
    for placeholder in _placeholders():
        text = text.replace(placeholder, GS)
    symbology = ""
    if text[:3] in SYMBOLOGY_PREFIXES:
        symbology, text = text[:3], text[3:]
    # A leading FNC1 (some scanners send it) carries no data.
    return symbology, text.lstrip(GS)


def _last_day_if_zero(value: str) -> date | None:
    """YYMMDD where DD 00 means the last day of the month (GS1 General Specifications 3.4)."""
    if not re.fullmatch(r"\d{6}", value):
        return None
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    # GS1 century rule: years more than 50 ahead belong to the previous century.
    if year - timezone.localdate().year > 50:
        year -= 100
    if not 1 <= month <= 12:
        return None
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError:
        return None


def scan_parse(raw: str) -> ParsedScan:
    """Parse one scanned or typed UDI string; never raises on bad data."""
    result = ParsedScan(raw=raw or "")
    if not raw or not raw.strip():
        return result.fail("empty", _("Nothing was scanned."))
    symbology, text = _normalise(raw)
    result.symbology = symbology
    if text.startswith("+"):
        return _parse_hibc(result, text)
    if text.upper().startswith("MA."):
        return _parse_ma(result, text)
    if text.startswith("("):
        return _parse_gs1_hri(result, text)
    return _parse_gs1(result, text)


# --- GS1 ---------------------------------------------------------------------------------------


def _parse_gs1(result: ParsedScan, text: str) -> ParsedScan:
    """GS1 element string. A trailing ``<GS>21<serial>`` is split off and the rest parsed once per
    distinct head (a 10,000-serial receipt of one lot parses its head once): AI 21 last after FNC1
    is unambiguous, and the serial gets the same checks biip applies (set 82, at most 20)."""
    head, sep, tail = text.rpartition(GS + "21")
    if sep and head and tail and GS not in tail and "21" not in _head_template(head).raw_ai:
        base = _head_template(head)
        if not base.ok:
            return replace(base, raw=result.raw, symbology=result.symbology, raw_ai=dict(base.raw_ai), warnings=[])
        if len(tail) > 20 or not CHARSET_82.match(tail):
            return result.fail("charset", _("The serial must be at most 20 characters of GS1 set 82."))
        return replace(
            base,
            raw=result.raw,
            symbology=result.symbology,
            serial=tail,
            raw_ai={**base.raw_ai, "21": tail},
            warnings=[],
            suggested_split=None,
        )
    return _parse_gs1_full(result, text)


@lru_cache(maxsize=256)
def _head_template(head: str) -> ParsedScan:
    return _parse_gs1_full(ParsedScan(raw=head), head)


def _parse_gs1_full(result: ParsedScan, text: str) -> ParsedScan:
    from biip import ParseConfig, parse

    result.issuer = "gs1"
    if not text[:2].isdigit():
        return result.fail("not_gs1", _("This is not a GS1 barcode (it must start with an AI such as 01)."))
    parsed = parse(text, config=ParseConfig(separator_chars=[GS]))
    if parsed.gs1_message is None:
        return result.fail("gs1_invalid", _gs1_error_text(parsed.gs1_message_error or "", text))
    return _from_elements(result, parsed.gs1_message.element_strings)


def _parse_gs1_hri(result: ParsedScan, text: str) -> ParsedScan:
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    result.issuer = "gs1"
    try:
        message = GS1Message.parse_hri(text.replace(GS, ""))
    except ParseError as exc:
        return result.fail("gs1_invalid", _gs1_error_text(str(exc), text))
    return _from_elements(result, message.element_strings)


def _gs1_error_text(error: str, text: str):
    if "(10)" in error or "(21)" in error or ("from '" in error and _has_non_82(text)):
        return _("The lot or serial contains characters outside GS1 set 82 (no spaces or Chinese), or is too long.")
    if "(17)" in error or "(11)" in error:
        return _("A date in the barcode is not a valid YYMMDD date.")
    if "(01)" in error:
        return _("The GTIN must have 14 digits.")
    return _("The barcode could not be read as GS1 data: %(error)s") % {"error": error}


def _has_non_82(text: str) -> bool:
    return any(not CHARSET_82.match(ch) and ch != GS for ch in text)


def _from_elements(result: ParsedScan, elements) -> ParsedScan:
    for element in elements:
        ai = element.ai.ai
        result.raw_ai[ai] = element.value
        if ai == "01":
            # A wrong check digit is only reported here, never in gs1_message_error.
            if element.gtin_error:
                return result.fail(
                    "gtin_check_digit",
                    _("The GTIN %(gtin)s has a wrong check digit.") % {"gtin": element.value},
                )
            result.gtin = result.di = element.value
        elif ai == "10":
            result.lot = element.value
        elif ai == "21":
            result.serial = element.value
        elif ai == "11":
            result.production_date = element.date or _last_day_if_zero(element.value)
        elif ai == "17":
            result.expiry_date = element.date or _last_day_if_zero(element.value)
        elif ai == "240":
            result.additional_id = element.value
        elif ai == "30":
            result.count = int(element.value)
    if not result.gtin:
        return result.fail("no_gtin", _("The barcode has no GTIN (AI 01)."))
    for name, value in (("lot", result.lot), ("serial", result.serial)):
        if value and not CHARSET_82.match(value):
            return result.fail("charset", _("The %(name)s contains characters outside GS1 set 82.") % {"name": name})
    _flag_swallowed_ai(result)
    return result


def _flag_swallowed_ai(result: ParsedScan) -> None:
    """A lot that looks like it contains another AI probably lost the FNC1 after it (DOMAIN.md §6)."""
    if not result.lot or result.serial:
        return
    match = _SWALLOWED_AI.search(result.lot, 1)
    if match is None:
        return
    ai, rest = match.group("ai"), match.group("rest")
    result.suggested_split = {"lot": result.lot[: match.start()], "ai": ai, "value": rest}
    result.warnings.append(
        str(
            _("The lot %(lot)s may contain AI (%(ai)s) %(value)s: was the separator after the lot lost?")
            % {"lot": result.lot, "ai": ai, "value": rest}
        )
    )


# --- MA (IDcode) -------------------------------------------------------------------------------

_MA_DATE = re.compile(r"^\d{6}(\d{2})?$")


def _ma_date(value: str) -> date | None:
    if not _MA_DATE.match(value):
        return None
    if len(value) == 6:
        return _last_day_if_zero(value)
    try:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
        if day == 0:
            day = calendar.monthrange(year, month)[1]
        return date(year, month, day)
    except ValueError:
        return None


def _parse_ma(result: ParsedScan, text: str) -> ParsedScan:
    """MA code: ``MA.156.M0.<company>.<product>`` then PI segments ``.L`` lot, ``.S`` serial,
    ``.M`` production date, ``.V``/``.E`` expiry."""
    result.issuer = "ma"
    parts = text.split(".")
    if len(parts) < 5:
        return result.fail("ma_invalid", _("This MA code is too short to carry a device identifier."))
    result.di = ".".join(parts[:5])
    result.raw_ai["DI"] = result.di
    for segment in parts[5:]:
        if not segment:
            continue
        key, value = segment[0].upper(), segment[1:]
        result.raw_ai[key] = value
        if key == "L":
            result.lot = value
        elif key == "S":
            result.serial = value
        elif key in ("M", "V", "E"):
            parsed = _ma_date(value)
            if parsed is None:
                return result.fail("ma_date", _("The date %(value)s in the MA code is not valid.") % {"value": value})
            if key == "M":
                result.production_date = parsed
            else:
                result.expiry_date = parsed
    return result


# --- HIBC --------------------------------------------------------------------------------------

_HIBC_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"


def hibc_check_character(data: str) -> str:
    """Mod-43 check character over the data including the leading '+'."""
    return _HIBC_ALPHABET[sum(_HIBC_ALPHABET.index(ch) for ch in data) % 43]


def _parse_hibc(result: ParsedScan, text: str) -> ParsedScan:
    result.issuer = "hibc"
    body = text.strip("*")
    if len(body) < 3 or any(ch not in _HIBC_ALPHABET for ch in body.upper()):
        return result.fail("hibc_invalid", _("This looks like a HIBC code but contains invalid characters."))
    data, check = body[:-1].upper(), body[-1].upper()
    if hibc_check_character(data) != check:
        return result.fail("hibc_check", _("This HIBC code has a wrong check character."))
    result.di = data
    result.raw_ai["HIBC"] = body
    return result.fail(
        "hibc_unsupported", _("HIBC codes are recognised but cannot be received yet; use the GS1 label.")
    )
