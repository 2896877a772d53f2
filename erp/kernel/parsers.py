"""The API's JSON parser: DRF's, with the limits a business document never reaches.

A body nested deeper than ``MAX_DEPTH`` levels, or a text containing NUL (which PostgreSQL cannot
store), is refused with a 400 ``parse_error`` before any view sees it; so is JSON that Python itself
cannot read (too deep for the interpreter, numbers too long to convert, invalid encoding).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# An order with lines, serials and discrepancies is 5 levels deep; 32 leaves room for any integrator.
MAX_DEPTH = 32


def _check(data) -> None:
    """Walk the parsed body without recursion: depth and NUL characters."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(_("The JSON body is nested too deeply (%(max)s levels at most).") % {"max": MAX_DEPTH})
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise ParseError(_("The JSON body contains a NUL character (\\u0000), which cannot be stored."))
                stack.append((item, depth + 1))
        elif isinstance(value, str) and "\x00" in value:
            raise ParseError(_("The JSON body contains a NUL character (\\u0000), which cannot be stored."))


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser plus a nesting-depth limit and a refusal of NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                _("The JSON body is nested too deeply (%(max)s levels at most).") % {"max": MAX_DEPTH}
            ) from exc
        except UnicodeDecodeError as exc:  # a ValueError DRF already catches; named for the reader
            raise ParseError(_("The JSON body is not valid UTF-8.")) from exc
        _check(data)
        return data
