"""Where rule facts come from: the fact providers of each trigger event.

The keyed port ``fact_providers_port`` (``exceptions_center.fact_providers``) holds, per event
(``"order.saved"``), the provider objects the apps register from their ``AppConfig.ready()``
(``orders`` registers ``orders.facts.ORDER_FACTS``). The engine runs the providers in order, each adding
its roots to one ``facts`` dict, and merges their samples for the dry runs that validate a rule when it
is saved. The events that have a provider are the triggers a rule may use (``provided_events``); the
catalogue of facts shown to rule authors is generated from the providers (``facts_catalogue``).

Values handed to CEL must be CEL-friendly (see docs/rules.md): money as integer fen, dates as aware
timestamps, ``None`` as null. ``cel_value`` converts what a provider hands over, deliberately.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext

from erp.kernel.money import fen
from erp.kernel.ports import Port
from exceptions_center.ports import trigger_sources

fact_providers_port = Port(
    "exceptions_center.fact_providers",
    keyed=True,
    doc="Per trigger event, the objects that build the facts rules read (roots, build, samples, descriptions).",
)


# Roots the engine itself adds to every evaluation, whatever the event.
ENGINE_ROOTS = ("params", "item", "now", "today")


@runtime_checkable
class FactProvider(Protocol):
    """One app's contribution to the facts of an event.

    ``build`` adds the provider's ``roots`` to ``facts`` in place (it may also extend what an earlier
    provider built, e.g. add keys to each ``order.lines`` item) in a FIXED number of queries whatever
    the number of lines. ``samples`` returns fact fragments (realistic values on both sides of the
    usual conditions) for the dry runs that validate a rule before it is saved. ``descriptions`` (optional)
    maps a fact path (``order.lines[].sku``) to its ``(Chinese, English)`` description for the catalogue.
    """

    roots: tuple[str, ...]

    def build(self, *, source: Any, facts: dict, context: dict) -> None: ...

    def samples(self) -> list[dict]: ...


def fact_providers(event: str) -> tuple[FactProvider, ...]:
    """The providers registered for ``event``, in call order (empty when no app provides the event)."""
    return tuple(fact_providers_port.implementations(event))


def provided_events() -> list[str]:
    """The trigger events some app provides facts for: the only ones a rule may listen to."""
    keys = fact_providers_port.keys()
    return [key for key in keys if fact_providers_port.implementations(key)]


def no_provider_message(event: str) -> str:
    """Why a rule on ``event`` is refused when no app provides its facts (translated)."""
    return gettext("No application provides facts for the event “%(event)s” yet: a rule on it would never run.") % {
        "event": event
    }


def open_sources(event: str):
    """The queryset of ``event``'s open source documents (what a changed rule re-evaluates), or ``None``
    when no app plugged its sources into ``exceptions_center.trigger_sources`` for it."""
    sources = trigger_sources.get(event)
    return sources.open() if sources is not None else None


def fact_roots(event: str) -> tuple[str, ...]:
    """The top-level names the providers of ``event`` put in the facts, in provider order."""
    roots: list[str] = []
    for provider in fact_providers(event):
        roots.extend(root for root in provider.roots if root not in roots)
    return tuple(roots)


def allowed_roots(event: str, *, iterate: bool = False) -> frozenset[str]:
    """Names a rule for ``event`` may reference: the providers' roots plus the engine's
    (``item`` only for rules with ``iterate_over``)."""
    engine = set(ENGINE_ROOTS) if iterate else set(ENGINE_ROOTS) - {"item"}
    return frozenset(fact_roots(event)) | engine


def facts_build(*, event: str, source: Any, context: dict | None = None, names: frozenset[str] | None = None) -> dict:
    """The facts of ``source`` for ``event``: every provider's roots, converted to CEL-friendly values.

    Costs the providers' fixed number of queries; the engine roots (``now``, ``today``, ``params``,
    ``item``) are added by the engine, not here. ``names`` (what the enabled rules mention): a
    provider may then leave out a costly fact no rule reads (``facts_wanted``); without it (dry runs,
    backtests, the facts card) every fact is built.
    """
    facts: dict = {}
    context = {**(context or {}), "fact_names": names}
    for provider in fact_providers(event):
        provider.build(source=source, facts=facts, context=context)
    return cel_value(facts)


def facts_wanted(context: dict, name: str) -> bool:
    """Whether this evaluation needs the fact ``name`` (a key some enabled rule mentions); every fact
    is wanted when the caller did not say which (see ``facts_build``)."""
    names = context.get("fact_names")
    return names is None or name in names


def _merge(base: Any, overlay: Any) -> Any:
    """Deep-merge ``overlay`` into ``base``: dicts key by key; lists of dicts item by item (a shorter
    overlay list is cycled, so a provider that extends every line needs only one sample line)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if (
        isinstance(base, list)
        and isinstance(overlay, list)
        and overlay
        and all(isinstance(x, dict) for x in base + overlay)
    ):
        length = max(len(base), len(overlay))
        out = []
        for i in range(length):
            if i < len(base):
                out.append(_merge(base[i], overlay[i % len(overlay)]))
            else:
                out.append(overlay[i])
        return out
    return overlay


def facts_samples(event: str) -> list[dict]:
    """Full sample facts for dry runs: sample *i* of every provider deep-merged (shorter lists cycle)."""
    per_provider = [provider.samples() or [{}] for provider in fact_providers(event)]
    if not per_provider:
        return [{}]
    count = max(len(samples) for samples in per_provider)
    merged: list[dict] = []
    for i in range(count):
        sample: dict = {}
        for samples in per_provider:
            sample = _merge(sample, samples[i % len(samples)])
        merged.append(cel_value(sample))
    return merged


# --- CEL-friendly values -----------------------------------------------------------------------------


def timestamp(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """An aware UTC datetime (CEL timestamp). A date becomes its local midnight; a naive datetime is
    taken as local time. (The CEL binding refuses ZoneInfo datetimes and plain dates.)"""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    elif timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(dt.UTC)


_PLAIN = frozenset({type(None), bool, int, float, str})


def cel_value(value: Any) -> Any:
    """Convert a Python value to one the CEL binding takes without surprises.

    ``Decimal`` is taken as money and becomes integer fen (a provider passes percentages as float);
    dates and datetimes become aware UTC timestamps; enums, lazy strings and UUIDs become strings;
    tuples and sets become lists. Everything else is passed as is.
    """
    kind = type(value)
    if kind in _PLAIN:  # the usual case first: nothing to convert (a tenth of the cost on a 20-line order)
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else cel_value(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else cel_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value) if type(value) is not str else value
    if isinstance(value, Mapping):
        return {str(k): cel_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [cel_value(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return timestamp(value)
    if isinstance(value, Decimal):
        return fen(value)
    if isinstance(value, enum.Enum):
        return cel_value(value.value)
    if isinstance(value, Promise | uuid.UUID):
        return str(value)
    return value


def json_value(value: Any) -> Any:
    """A facts value made JSON-safe and readable for an event's facts snapshot (timestamps as local
    ISO strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)
