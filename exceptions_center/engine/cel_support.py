"""What CEL sees besides the facts: the functions rule authors may call, the engine roots (``now``,
``today``), one ``cel.Context`` per evaluation, and pruning the facts to the names the rules mention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cel
from cel import stdlib as cel_stdlib
from django.utils import timezone

# --- functions rule authors may call -----------------------------------------------------------------


def _local_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"days_between expects timestamps, got {type(value).__name__}")


def days_between(a: Any, b: Any) -> int:
    """Calendar days (local time) from timestamp ``a`` to timestamp ``b``; negative when b is earlier."""
    return (_local_date(b) - _local_date(a)).days


def covers(scope: Any, code: Any) -> bool:
    """True when a scope code covers a catalogue code: equal, or a prefix at a '-' boundary
    (scope ``14-02`` covers ``14-02-01`` but not ``14-021``). ``scope`` is a list of codes or one code."""
    if scope is None or code is None:
        return False
    codes = [scope] if isinstance(scope, str) else list(scope)
    code = str(code)
    return any(code == s or code.startswith(f"{s}-") for s in map(str, codes) if s)


def hours_between(a: Any, b: Any) -> int:
    """Whole hours from timestamp ``a`` to timestamp ``b`` (negative when b is earlier)."""
    return int((b - a).total_seconds() // 3600)


# A curated part of the binding's optional standard library (aggregates, strings, math); list
# helpers that build big lists (``lists.range``) are left out.
_STDLIB = [
    "min",
    "max",
    "sum",
    "lowerAscii",
    "upperAscii",
    "trim",
    "split",
    "join",
    "replace",
    "indexOf",
    "substring",
    "math.greatest",
    "math.least",
    "math.abs",
    "math.round",
    "math.ceil",
    "math.floor",
    "sets.contains",
    "sets.intersects",
    "distinct",
]

FUNCTIONS: dict[str, Any] = {
    **{name: cel_stdlib.STDLIB_FUNCTIONS[name] for name in _STDLIB},
    "days_between": days_between,
    "hours_between": hours_between,
    "covers": covers,
}


def engine_roots(*, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """``now`` (UTC timestamp) and ``today`` (timestamp of local midnight), as CEL sees them."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"now": now.astimezone(dt.UTC), "today": midnight.astimezone(dt.UTC)}


def context_for(
    facts: dict, *, now: dt.datetime | None = None, extra: dict | None = None, names: Any = None
) -> cel.Context:
    """Wrap the facts once for every rule of an evaluation; with ``names`` (what the rules mention),
    the facts are pruned to those keys first."""
    if names is not None:
        facts = prune(facts, names)
    variables = {**facts, **engine_roots(now=now), **(extra or {})}
    return cel.Context(variables=variables, functions=FUNCTIONS)


def names_for(rules) -> frozenset[str]:
    """The union of the names the rules may look up."""
    out: set[str] = set()
    for rule in rules:
        out |= rule.names
    return frozenset(out)


def prune(value: Any, names: frozenset[str] | set[str]) -> Any:
    """Keep only the dict keys in ``names`` (recursively; lists item by item)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else prune(v, names) for k, v in value.items() if k in names}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else prune(v, names) for v in value]
    return value


_SCALARS = frozenset({type(None), bool, int, float, str, dt.datetime})


_MISSING = object()


def lookup(scope: dict, path: str) -> Any:
    """Follow ``order.customer_po`` through nested dicts; ``_MISSING`` when a step is absent."""
    value: Any = scope
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value
