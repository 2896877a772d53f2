"""Event messages and snapshots: ``{placeholders}`` filled from the facts, the message scope of a hit,
and the JSON-safe facts snapshot an event keeps of what fired it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from exceptions_center.engine.cel_support import _MISSING, engine_roots, lookup
from exceptions_center.engine.compiled import CompiledRule, compile_cel
from exceptions_center.engine.evaluation import Hit
from exceptions_center.engine.lexing import bound_names
from exceptions_center.facts_registry import fact_roots, json_value

# --- messages and snapshots --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def _format(value: Any, flag: str) -> str:
    if value is None or value is _MISSING:
        return "—"
    if flag == "yuan" and isinstance(value, int | float):
        return f"{value / 100:,.2f}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return (
            local.strftime("%Y-%m-%d")
            if local.time() == dt.time.min or flag == "date"
            else local.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(_format(v, flag) for v in value)
    return str(value)


def placeholders(template: str) -> list[str]:
    return [m.group(1).strip() for m in _PLACEHOLDER.finditer(template) if m.group(1) is not None]


PLACEHOLDER_FLAGS = ("yuan", "date")


def render(template: str, scope: dict) -> str:
    """Fill ``{order.number}``, ``{item.sku}``, ``{order.gross_fen|yuan}`` from the facts; ``{{``/``}}``
    are literal braces; a missing or null value shows as a dash."""

    def replace(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group()[0]
        path, _sep, flag = match.group(1).strip().partition("|")
        return _format(lookup(scope, path.strip()), flag.strip())

    return _PLACEHOLDER.sub(replace, template)


def message_scope(rule: CompiledRule, facts: dict, hit: Hit, now: dt.datetime | None = None) -> dict:
    scope = {**facts, **engine_roots(now=now), "params": rule.params, "detail_key": hit.detail_key}
    if rule.iterate_over:
        scope["item"] = hit.item
    return scope


def snapshot(rule: CompiledRule, facts: dict, hit: Hit) -> dict:
    """The facts that fired the rule, JSON-safe: the item (iterated rules), the roots the rule uses
    (for iterated rules without their lists, which the item stands for) and its params."""
    out: dict[str, Any] = {}
    if rule.iterate_over:
        out["item"] = hit.item
    for root in fact_roots(rule.event):
        if root not in rule.roots and not (rule.iterate_over and root in _roots_in(rule.iterate_over)):
            continue
        value = facts.get(root)
        if rule.iterate_over and isinstance(value, dict):
            value = {k: v for k, v in value.items() if not (isinstance(v, list) and v and isinstance(v[0], dict))}
        out[root] = value
    if "params" in rule.roots and rule.params:
        out["params"] = rule.params
    return json_value(out)


def _roots_in(source: str) -> set[str]:
    try:
        return set(compile_cel(source).variables()) - bound_names(source)
    except Exception:
        return set()
