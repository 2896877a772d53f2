"""Compiled rules and their per-process cache.

A rule's expressions are compiled once into ``CompiledRule`` and kept in this process, keyed by rule id
and checked against ``updated_at``. ``compiled_rules(event)`` reads a fingerprint of the enabled rules
(one small query per evaluation), so every process notices a changed, new or disabled rule at its next
evaluation without a restart and without a shared cache (the database is the source of truth).
A rule's ``params`` are bound as a literal in the program, so one shared context serves every rule.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

import cel
from django.db import connections, router

from exceptions_center.engine.budget import Shape, shape
from exceptions_center.engine.cel_support import lookup
from exceptions_center.engine.lexing import bound_names, tokens

# --- compiled rules --------------------------------------------------------------------------------


def compile_cel(source: str) -> cel.Program:
    return cel.compile(source)


def params_literal(params: Any) -> str:
    """A rule's params as a CEL literal (JSON is valid CEL for objects, lists, strings, numbers, bools)."""
    return json.dumps(params if params is not None else {}, ensure_ascii=False, allow_nan=False)


def substitute_params(source: str, literal: str) -> str:
    """Put the rule's params into the expression as a literal (``params.max_pct`` becomes
    ``({"max_pct": 15}).max_pct``), so one shared context serves every rule."""
    toks = tokens(source)
    out = source
    for i in range(len(toks) - 1, -1, -1):
        tok = toks[i]
        if tok.kind == "ident" and tok.text == "params" and (i == 0 or toks[i - 1].text != "."):
            out = out[: tok.start] + f"({literal})" + out[tok.end :]
    return out


def referenced_names(source: str) -> set[str]:
    """Every name an expression may look up: identifiers and string literals. The facts handed to CEL
    are pruned to these keys (converting strings into the binding is its main cost)."""
    names = set()
    for tok in tokens(source):
        if tok.kind == "ident":
            names.add(tok.text)
        elif tok.kind == "string":
            names.add(tok.text.lstrip("rRbB").strip("'\""))
    return names


_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass
class CompiledRule:
    """A rule ready to run: its compiled programs and what the sync needs of the row."""

    id: int | None
    updated_at: Any
    code: str
    event: str
    category: str
    severity: str
    blocking: bool
    sla_hours: int
    message_zh: str
    message_en: str
    params: dict
    iterate_over: str
    condition: str
    detail_key: str
    roots: frozenset[str] = frozenset()  # roots the rule references (for the snapshot)
    names: frozenset[str] = frozenset()  # every name it may look up (to prune the facts)
    program: Any = None  # the condition, or the one-pass program over the items
    detail_program: Any = None
    items_program: Any = None
    item_body: str = ""  # "(condition) ? [(detail key)] : []" with params in place, for group passes
    iterate_source: str = ""  # iterate_over with params in place
    item_detail: str = ""  # the detail key with params in place
    shape: Shape | None = None  # what its cost depends on (checked against the evaluation budget)
    error: str = ""

    @classmethod
    def from_rule(cls, rule) -> CompiledRule:
        compiled = cls(
            id=rule.pk,
            updated_at=rule.updated_at,
            code=rule.code,
            event=rule.event,
            category=rule.category,
            severity=rule.severity,
            blocking=rule.blocking,
            sla_hours=rule.sla_hours,
            message_zh=rule.message_zh,
            message_en=rule.message_en,
            params=rule.params if isinstance(rule.params, dict) else {},
            iterate_over=(rule.iterate_over or "").strip(),
            condition=(rule.condition or "").strip(),
            detail_key=(rule.detail_key or "").strip(),
        )
        try:
            compiled._compile()
        except Exception as exc:  # a stored rule that does not compile: reported, never raised
            compiled.error = str(exc)
        return compiled

    def _compile(self) -> None:
        used: set[str] = set()
        names: set[str] = set()
        for source in (self.iterate_over, self.condition, self.detail_key):
            if source:
                used |= set(compile_cel(source).variables()) - bound_names(source)
                names |= referenced_names(source)
        self.roots = frozenset(used)
        self.names = frozenset(names)
        self.shape = shape(self.condition, outer=(None,) if self.iterate_over else ())
        literal = params_literal(self.params)

        def bind(source: str) -> str:
            return substitute_params(source, literal) if "params" in used else source

        condition, detail = bind(self.condition), bind(self.detail_key or '""')
        if self.iterate_over:
            self.iterate_source = bind(self.iterate_over)
            self.item_detail = detail
            self.item_body = f"(\n{condition}\n) ? [(\n{detail}\n)] : []"
            self.program = compile_cel(f"(\n{self.iterate_source}\n).map(item, {self.item_body})")
            self.items_program = compile_cel(self.iterate_source)
        else:
            self.program = compile_cel(condition)
            if self.detail_key:
                self.detail_program = compile_cel(detail)

    def items(self, context: cel.Context, facts: dict | None) -> list:
        """The items of ``iterate_over``, unpruned when it is a plain path of the facts."""
        if facts is not None and _PATH.match(self.iterate_over):
            value = lookup(facts, self.iterate_over)
            if isinstance(value, list):
                return value
        return self.items_program.execute(context)


# --- cache -----------------------------------------------------------------------------------------

_cache: dict[int, CompiledRule] = {}
_by_event: dict[str, tuple[str, list[CompiledRule]]] = {}
_lock = threading.Lock()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def compiled_rules(event: str) -> list[CompiledRule]:
    """The enabled rules of ``event``, compiled, in code order.

    One query reads a fingerprint of the enabled rules (ids and ``updated_at`` in code order, as one
    string); when it is the one seen last time the compiled list is reused as it is, else the rules
    that are new or changed since are loaded (one more query) and compiled. So a rule saved in any
    process is seen by the next evaluation in every process.
    """
    from exceptions_center.models import Rule

    # Plain SQL and one text value: this runs on every save.
    connection = connections[router.db_for_read(Rule)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(id::text || ':' || (extract(epoch FROM updated_at) * 1000000)::bigint::text, ',' "
            f"ORDER BY code) FROM {connection.ops.quote_name(Rule._meta.db_table)} WHERE enabled AND event = %s",
            [event],
        )
        fingerprint = cursor.fetchone()[0] or ""
    known = _by_event.get(event)
    if known is not None and known[0] == fingerprint:
        return list(known[1])
    current = [tuple(map(int, part.split(":"))) for part in fingerprint.split(",") if part]
    stale = [pk for pk, micros in current if pk not in _cache or _micros(_cache[pk].updated_at) != micros]
    if stale:
        fresh = {rule.pk: CompiledRule.from_rule(rule) for rule in Rule.objects.filter(pk__in=stale)}
        with _lock:
            _cache.update(fresh)
    rules = [_cache[pk] for pk, _micros_ in current if pk in _cache]
    # Kept under the fingerprint it was built from: any later change to the rules changes the
    # fingerprint (updated_at only grows), so a stale list is never reused.
    with _lock:
        _by_event[event] = (fingerprint, rules)
    return list(rules)


def cache_clear() -> None:
    """Forget every compiled rule (what a fresh process looks like)."""
    with _lock:
        _by_event.clear()
        _cache.clear()
