"""CSV export of a lot's or serial's trace (streamed, UTF-8 with BOM so spreadsheet programs read Chinese)."""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from traceability.selectors import trace_edges_for_export


class _Echo:
    def write(self, value):
        return value


def trace_csv_response(*, lot=None, serial=None, filename: str, user) -> StreamingHttpResponse:
    """Every hop (received from / shipped to) with time, document, order, party, warehouse and quantity;
    only the customers ``user`` may see (the trace page's scope)."""
    writer = csv.writer(_Echo())
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
        yield "\ufeff" + writer.writerow(header)
        for row in trace_edges_for_export(lot=lot, serial=serial, user=user).iterator(chunk_size=2000):
            when, *rest = row
            yield writer.writerow([when.isoformat(), *["" if v is None else v for v in rest]])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
