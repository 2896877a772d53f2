"""CSV/XLSX exports escape cells a spreadsheet would run as formulas (CSV injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from erp.kernel.exports import csv_lines, csv_response, safe_cell, xlsx_bytes
from masterdata import services
from tests.erp.test_history_report import _csv, _party


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_prefixes_every_formula_leading_character(lead):
    # given
    text = f'{lead}HYPERLINK("http://evil.example","click")'
    # when
    cell = safe_cell(text)
    # then
    assert cell == "'" + text


@pytest.mark.parametrize(
    "value",
    ["瑞金医院", "SO-2026-000123", "a=b", "", "-5", "+3.20", 42, -7, Decimal("-1.50"), dt.date(2026, 1, 2)],
)
def test_safe_cell_keeps_plain_text_numbers_and_dates(value):
    assert safe_cell(value) == value


def test_safe_cell_writes_none_as_empty_and_other_objects_as_text():
    assert safe_cell(None) == ""
    assert safe_cell(Decimal("2")) == Decimal("2")


def test_csv_lines_start_with_bom_and_escape_header_and_rows():
    # given
    rows = [["=1+1", "@SUM(A1)", 3], ["ok", None, "-2+3"]]
    # when
    body = "".join(csv_lines(["name", "-x"], rows))
    # then
    assert body.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert parsed == [["name", "'-x"], ["'=1+1", "'@SUM(A1)", "3"], ["ok", "", "'-2+3"]]


def test_csv_response_is_a_download_with_a_utf8_file_name():
    response = csv_response(csv_lines(None, []), filename="追溯-LOT1.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]


def test_xlsx_cells_are_escaped_and_typed():
    # given
    when = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    # when
    data = xlsx_bytes(["who", "what"], [["=cmd|' /C calc'!A0", 5], ["\tTAB", when], ["李娜", None]])
    # then
    sheet = load_workbook(io.BytesIO(data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["who", "what"]
    assert values[1] == ["'=cmd|' /C calc'!A0", 5]
    assert values[2][0] == "'\tTAB"
    assert values[2][1] == dt.datetime(2026, 3, 1, 16, 30)  # Asia/Shanghai wall time
    assert values[3] == ["李娜", None]


@pytest.mark.django_db
def test_history_export_escapes_a_formula_typed_into_a_record(client, auditor_user, make_user):
    # given: a party renamed to a formula by someone
    editor = make_user("sales_manager", username="formula_editor")
    party = _party(editor, code="H-FORMULA-1")
    services.party_update(instance=party, user=editor, reason="=HYPERLINK(1)", name="=HYPERLINK(2)")
    client.force_login(auditor_user)
    # when
    response = client.get(reverse("audit:history_export"), {"object": "H-FORMULA-1", "change_type": "~"})
    # then
    _header, *rows = _csv(response)
    assert rows
    for row in rows:
        assert row[6] == "'=HYPERLINK(1)"
    assert any(row[9] == "'=HYPERLINK(2)" for row in rows)
