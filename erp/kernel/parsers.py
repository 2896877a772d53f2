"""The API's parsers: DRF's, with the limits a business document never reaches.

A JSON body nested deeper than ``MAX_DEPTH`` levels, or any body (JSON, form or the fields of a
multipart upload) with a text containing NUL, which PostgreSQL cannot store, is refused with a 400
``parse_error`` before any view sees it; so is JSON that Python itself cannot read (too deep for the
interpreter, numbers too long to convert, invalid encoding).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# An order with lines, serials and discrepancies is 5 levels deep; 32 leaves room for any integrator.
MAX_DEPTH = 32
NUL_MESSAGE = _("The body contains a NUL character (\\u0000), which cannot be stored.")


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
                    raise ParseError(NUL_MESSAGE)
                stack.append((item, depth + 1))
        elif isinstance(value, str) and "\x00" in value:
            raise ParseError(NUL_MESSAGE)


def _check_form(data) -> None:
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            raise ParseError(NUL_MESSAGE)


class FormParser(parsers.FormParser):
    """DRF's form parser, refusing NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing NUL characters in the fields (files are bytes: any content)."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result


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
