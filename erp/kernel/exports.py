"""CSV and XLSX exports that a spreadsheet program opens safely (every export goes through here).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
WPS and LibreOffice as a formula (CSV/formula injection: a customer named ``=HYPERLINK(...)`` would run
on the auditor's machine). ``safe_cell`` puts a ``'`` in front of such text, the spreadsheet's own
"this is text" mark; numbers, dates and empty values are written as they are. CSV files start with a
byte-order mark, without which Chinese Excel shows mojibake.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
# A signed plain number ("-5", "+3.20") is data, not a formula: left as it is, so quantities read right.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """The value to write in a cell: text that a spreadsheet would run as a formula gets a leading ``'``.

    ``None`` becomes an empty cell; numbers, dates and booleans are kept as they are, and so is text
    that is a plain signed number (``-5``: data, not a formula); anything else is written as its text.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


class _Echo:
    """A file-like object whose ``write`` returns the line, so ``csv.writer`` can feed a stream."""

    def write(self, value):
        return value


def csv_lines(header: Iterable | None, rows: Iterable[Iterable]) -> Iterator[str]:
    """The lines of a CSV file (BOM first), every cell through ``safe_cell``."""
    writer = csv.writer(_Echo())
    yield BOM
    if header is not None:
        yield writer.writerow(safe_row(header))
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_response(lines: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of ``lines`` (from ``csv_lines``)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def xlsx_bytes(header: Iterable | None, rows: Iterable[Iterable], *, title: str = "Sheet1") -> bytes:
    """An XLSX workbook of one sheet, every cell through ``safe_cell`` (written in streaming mode)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    if header is not None:
        sheet.append(safe_row(header))
    for row in rows:
        cells = []
        for value in safe_row(row):
            # openpyxl refuses time zones: spreadsheets have none, so write the local wall time.
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = timezone.localtime(value).replace(tzinfo=None)
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(header: Iterable | None, rows: Iterable[Iterable], *, filename: str) -> HttpResponse:
    """An XLSX download (see ``xlsx_bytes``)."""
    response = HttpResponse(xlsx_bytes(header, rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
