"""Texts the system writes for people, stored as a message key with parameters, read in the reader's language.

A service that writes a text people read later (a hold summary, a log comment, a resolution, a
notification) stores ``stored_text(key, **params)`` — a JSON-able ``{"key": ..., "params": {...}}`` —
instead of a sentence translated once in whatever language was active. Pages, the API and e-mails
render it with ``render_stored(value)`` in the active (or given) language, so a Chinese and an English
user read the same record each in their own language.

Each app declares its keys in ``<app>/texts.py`` with ``register(key, gettext_noop(msgid))`` (the
msgid is an ordinary ``%(name)s`` template translated through the .po files). Those modules are
loaded on the first render, the way Django finds ``admin.py``, so the kernel imports no app.

A parameter may be a plain value, another stored text, a pair of copies a record keeps of its own
text (``both(zh, en)``, e.g. a department name or a rule message) or a list of these (joined with
"; "). A key nobody registered (a text written by a newer version, a removed key) renders as the
``fallback`` the caller kept (the old plain-text column), never an error.
"""

from __future__ import annotations

import threading
from typing import Any, TypeGuard

from django.utils import translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext

_REGISTRY: dict[str, str] = {}
_discovered = threading.Event()

StoredText = dict[str, Any]


def register(key: str, msgid: str) -> str:
    """Declare ``key`` → ``msgid`` (mark the msgid with ``gettext_noop``); returns the key."""
    known = _REGISTRY.get(key)
    if known is not None and known != msgid:
        raise ValueError(f"message key {key!r} is already registered with another text")
    _REGISTRY[key] = msgid
    return key


def _discover() -> None:
    if not _discovered.is_set():
        autodiscover_modules("texts")
        _discovered.set()


def msgid_for(key: str) -> str | None:
    """The untranslated template of ``key``, or None when no app declares it."""
    if key not in _REGISTRY:
        _discover()
    return _REGISTRY.get(key)


def both(zh: str, en: str) -> dict[str, str]:
    """A parameter whose two copies the record keeps itself (names, rule messages): shown by language."""
    return {"zh": zh or "", "en": en or ""}


def joined(items: list[Any], separator: str = "; ") -> dict[str, Any]:
    """A parameter that is a list shown with its own separator (" → " for a chain, "\n" for lines)."""
    return {"items": [_jsonable(item) for item in items], "separator": separator}


def stored_text(key: str, /, **params: Any) -> StoredText:
    """The value to store for a text the system writes: the key and its parameters (JSON-able)."""
    if msgid_for(key) is None:
        raise KeyError(f"unknown message key {key!r}: declare it in <app>/texts.py")
    return {"key": key, "params": {name: _jsonable(value) for name, value in params.items()}}


def is_stored_text(value: Any) -> TypeGuard[StoredText]:
    return isinstance(value, dict) and isinstance(value.get("key"), str) and "params" in value


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)  # dates, decimals, lazy strings already chosen by the caller


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _render_param(value: Any) -> str:
    if is_stored_text(value):
        return _render(value, "")
    if isinstance(value, dict) and set(value) == {"zh", "en"}:
        return (value["en"] if _english() and value["en"] else value["zh"]) or ""
    if isinstance(value, list):
        return "; ".join(_render_param(v) for v in value)
    if isinstance(value, dict) and set(value) == {"items", "separator"}:
        return str(value["separator"]).join(_render_param(v) for v in value["items"])
    return "" if value is None else str(value)


class _Params(dict):
    """A parameter a text asks for but the stored value lacks shows as empty, not as an error."""

    def __missing__(self, name: str) -> str:
        return ""


def _render(value: StoredText, fallback: str) -> str:
    msgid = msgid_for(value["key"])
    if msgid is None:
        return fallback or value["key"]
    params = _Params({name: _render_param(v) for name, v in (value.get("params") or {}).items()})
    for text in (gettext(msgid), msgid):
        try:
            return text % params
        except (ValueError, TypeError):
            continue  # a broken translation must not break a page: try the msgid, then the fallback
    return fallback or msgid


def render_stored(value: Any, *, language: str | None = None, fallback: str = "") -> str:
    """``value`` (a stored text, or an old plain string) in ``language`` or the active language.

    An empty value or a plain string gives ``fallback`` / the string itself: rows written before
    texts were stored as keys keep showing what they had.
    """
    if not is_stored_text(value):
        return value if isinstance(value, str) and value else fallback
    if language is None:
        return _render(value, fallback)
    with translation.override(language):
        return _render(value, fallback)
