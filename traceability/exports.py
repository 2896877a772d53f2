"""CSV export of a lot's or serial's trace (streamed, UTF-8 with BOM so spreadsheet programs read Chinese)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from erp.kernel.exports import csv_lines, csv_response
from traceability.selectors import trace_edges_for_export


def trace_csv_response(*, lot=None, serial=None, filename: str, user) -> StreamingHttpResponse:
    """Every hop (received from / shipped to) with time, document, order, party, warehouse and quantity;
    only the customers ``user`` may see (the trace page's scope)."""
    header = [
        _("time"),
        _("kind"),
        _("document"),
        _("order"),
        _("party code"),
        _("party"),
        _("warehouse"),
        _("lot number"),
        _("serial number"),
        _("quantity"),
    ]

    def rows():
        for row in trace_edges_for_export(lot=lot, serial=serial, user=user).iterator(chunk_size=2000):
            when, *rest = row
            yield [when.isoformat(), *rest]

    return csv_response(csv_lines(header, rows()), filename=filename)
