"""The CEL rules engine: compile, cache, evaluate, locate errors. No database writes here.

- **Compile once.** A rule's expressions are compiled into ``CompiledRule`` and kept in this process,
  keyed by rule id and checked against ``updated_at``. ``compiled_rules(event)`` asks the database
  for the ids and ``updated_at`` of the enabled rules of the event (one small query per evaluation),
  so every process — web workers, Celery workers — notices a change, a new rule or a disabled one at
  its next evaluation, without a restart and without relying on a shared cache (the database is the
  source of truth; with no Redis the Django cache is per process anyway).
- **One context per evaluation.** The facts are wrapped once in a ``cel.Context`` and every rule runs
  against it (≈1 µs per simple rule instead of ≈40 µs when a dict is converted each time). A rule's
  ``params`` are bound without touching the shared context: the program is compiled as
  ``[<params literal>].all(params, <condition>)``. ``iterate_over`` rules run in one pass as
  ``(<list>).map(item, (<condition>) ? [<detail key>] : [])``.
- **Errors never break a save.** A rule that fails on real facts is logged (logger
  ``exceptions_center.rules``, with the rule code) and reported in the outcome; it raises nothing and
  its existing events are left as they are (neither refreshed nor auto-resolved), since "could not
  evaluate" is not "no longer true".

The same module checks rules before they are saved (``rule_problems``): syntax errors with line and
column, unknown roots, a dry run of every part of the condition on the sample facts, placeholders.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import cel
from cel import stdlib as cel_stdlib
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _

from exceptions_center.facts_registry import allowed_roots, cel_value, fact_roots, facts_samples, json_value

logger = logging.getLogger("exceptions_center.rules")

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


# --- source positions ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<string>[rRbB]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<op>&&|\|\||[()\[\]{}?:!,.])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokens(source: str) -> list[Token]:
    """CEL tokens that matter for locating things (strings and comments kept as opaque tokens)."""
    out = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, match.group(), match.start(), match.end()))
    return out


def line_column(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def where(source: str, offset: int) -> str:
    line, column = line_column(source, offset)
    return _("line %(line)d, column %(column)d") % {"line": line, "column": column}


_PARSE_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


def syntax_errors(message: str) -> list[str]:
    """The binding's parse error(s) as "line L, column C: what" sentences."""
    found = []
    for line, column, what in _PARSE_ERROR.findall(message):
        what = what.strip().removeprefix("Syntax error: ")
        found.append(
            _("Syntax error at line %(line)s, column %(column)s: %(what)s")
            % {"line": line, "column": column, "what": what}
        )
    return found or [_("Syntax error: %(what)s") % {"what": message}]


def bound_names(source: str) -> set[str]:
    """Names bound by comprehension macros (``l`` in ``order.lines.exists(l, …)``): the binding's
    ``variables()`` reports them as variables."""
    toks = tokens(source)
    names = set()
    for i in range(len(toks) - 3):
        if (
            toks[i].text == "."
            and toks[i + 1].kind == "ident"
            and toks[i + 1].text in ("all", "exists", "exists_one", "map", "filter")
            and toks[i + 2].text == "("
            and toks[i + 3].kind == "ident"
            and i + 4 < len(toks)
            and toks[i + 4].text == ","
        ):
            names.add(toks[i + 3].text)
    return names


def locate_root(source: str, name: str) -> int:
    """Offset of the first use of ``name`` as a root identifier (not after a dot), or 0."""
    toks = tokens(source)
    for i, tok in enumerate(toks):
        if tok.kind == "ident" and tok.text == name and (i == 0 or toks[i - 1].text != "."):
            return tok.start
    return 0


def locate_field(source: str, name: str) -> int | None:
    """Offset of the first ``.name`` selection, to point at an unknown fact field."""
    toks = tokens(source)
    for i, tok in enumerate(toks):
        if tok.kind == "ident" and tok.text == name and i > 0 and toks[i - 1].text == ".":
            return tok.start
    for tok in toks:
        if tok.kind == "string" and tok.text.strip("'\"rRbB") == name:
            return tok.start
    return None


def describe_error(exc: Exception, source: str = "") -> str:
    """A runtime error as one readable sentence, pointing into ``source`` when it can."""
    if isinstance(exc, KeyError):
        name = str(exc.args[0]) if exc.args else ""
        text = _("no fact or field named “%(name)s”") % {"name": name}
        offset = locate_field(source, name) if source else None
        return f"{text} ({where(source, offset)})" if offset is not None else text
    message = str(exc).split(". CEL does not coerce")[0].split(". Check that the variable")[0]
    if isinstance(exc, TypeError) and message.startswith("No such overload"):
        return _(
            "the operation does not apply to these types (a null value needs a guard such as "
            "x != null && …; int and double cannot be mixed in arithmetic: use double(x))"
        )
    return message


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


def prune(value: Any, names: frozenset[str] | set[str]) -> Any:
    """Keep only the dict keys in ``names`` (recursively; lists item by item)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else prune(v, names) for k, v in value.items() if k in names}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else prune(v, names) for v in value]
    return value


_SCALARS = frozenset({type(None), bool, int, float, str, dt.datetime})


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


@dataclass
class Hit:
    """One would-be event of a rule: its detail key and, for iterated rules, the item."""

    detail_key: str
    item: Any = None


@dataclass
class Outcome:
    rule: CompiledRule
    hits: list[Hit] = field(default_factory=list)
    error: str = ""
    # Detail keys whose evaluation failed: their existing events are left untouched. ``None`` in the
    # set means "some key could not even be computed": leave every event of the rule untouched.
    uncertain: set[str | None] = field(default_factory=set)


def _detail_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:100]


def _item_hits(rule: CompiledRule, results: list, context: cel.Context, facts: dict | None) -> list[Hit]:
    fired = [i for i, r in enumerate(results) if r]
    if not fired:
        return []
    items = rule.items(context, facts)
    return [Hit(_detail_str(results[i][0]), items[i]) for i in fired]


def evaluate(rule: CompiledRule, context: cel.Context, facts: dict | None = None) -> Outcome:
    """Run one rule against an evaluation's context. Never raises."""
    outcome = Outcome(rule=rule)
    if rule.error:
        outcome.error = rule.error
        outcome.uncertain.add(None)
        return outcome
    try:
        if rule.iterate_over:
            result = rule.program.execute(context)
            if not isinstance(result, list):
                raise TypeError(_("“for each” must give a list"))
            outcome.hits = _item_hits(rule, result, context, facts)
        else:
            result = rule.program.execute(context)
            if result is not True and result is not False:
                raise TypeError(_("the condition must give true or false"))
            if result:
                key = rule.detail_program.execute(context) if rule.detail_program else ""
                outcome.hits = [Hit(_detail_str(key))]
    except Exception as exc:
        outcome.hits = []
        outcome.error = describe_error(exc, rule.condition)
        if rule.iterate_over:
            _evaluate_items_one_by_one(rule, context, facts, outcome)
        else:
            outcome.uncertain.add(None)
    if outcome.error:
        logger.error("rule %s failed on real facts: %s", rule.code, outcome.error)
    return outcome


_group_cache: dict[tuple, Any] = {}


def evaluate_all(rules: list[CompiledRule], context: cel.Context, facts: dict | None = None) -> list[Outcome]:
    """Run every rule. Rules that iterate over the same list run in ONE pass over its items (the
    binding copies an item each time it is bound, the main cost of per-line rules); if that pass
    fails, its rules run one by one so only the failing rule is affected."""
    outcomes: dict[int, Outcome] = {}
    groups: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        if rule.iterate_over and not rule.error:
            groups.setdefault(rule.iterate_source, []).append(index)
    for source, members in groups.items():
        if len(members) < 2:
            continue
        key = (source, *((rules[i].id, rules[i].updated_at) for i in members))
        program = _group_cache.get(key)
        if program is None:
            body = ", ".join(f"({rules[i].item_body})" for i in members)
            program = compile_cel(f"(\n{source}\n).map(item, [{body}])")
            with _lock:
                if len(_group_cache) > 200:
                    _group_cache.clear()
                _group_cache[key] = program
        try:
            result = program.execute(context)
        except Exception:  # noqa: S112 - one of the rules fails: they run one by one below
            continue
        for position, index in enumerate(members):
            rule = rules[index]
            outcomes[index] = Outcome(rule=rule, hits=_item_hits(rule, [r[position] for r in result], context, facts))
    return [outcomes[i] if i in outcomes else evaluate(rule, context, facts) for i, rule in enumerate(rules)]


def _evaluate_items_one_by_one(rule: CompiledRule, context: cel.Context, facts: dict | None, outcome: Outcome) -> None:
    """Slow path after an error in an iterated rule: isolate the failing items so the others still
    raise, refresh and auto-resolve normally."""
    try:
        count = len(rule.items_program.execute(context))
        items = rule.items(context, facts)
    except Exception:
        outcome.uncertain.add(None)
        return
    detail = rule.item_detail
    for i in range(count):
        one = f"[(\n{rule.iterate_source}\n)[{i}]]"
        try:
            result = compile_cel(f"{one}.map(item, {rule.item_body})[0]").execute(context)
            if result:
                outcome.hits.append(Hit(_detail_str(result[0]), items[i]))
        except Exception:
            try:
                key = compile_cel(f"{one}.map(item, (\n{detail}\n))[0]").execute(context)
                outcome.uncertain.add(_detail_str(key))
            except Exception:
                outcome.uncertain.add(None)


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


# --- messages and snapshots --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
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


# --- validation --------------------------------------------------------------------------------------


@dataclass
class _Part:
    start: int
    end: int
    guards: tuple[tuple[str, bool], ...]
    wrappers: tuple[tuple[str, str], ...]


def _matching(toks: list[Token], i: int) -> int:
    depth = 0
    for k in range(i, len(toks)):
        if toks[k].text in "([{" and toks[k].kind == "op":
            depth += 1
        elif toks[k].text in ")]}" and toks[k].kind == "op":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _top_level(toks: list[Token], i: int, j: int, texts: tuple[str, ...]) -> list[int]:
    found, depth = [], 0
    for k in range(i, j):
        tok = toks[k]
        if tok.kind != "op":
            continue
        if tok.text in "([{":
            depth += 1
        elif tok.text in ")]}":
            depth -= 1
        elif depth == 0 and tok.text in texts:
            found.append(k)
    return found


def decompose(source: str, wrappers: tuple[tuple[str, str], ...] = ()) -> list[_Part]:
    """Split a condition into the parts a dry run must reach: operands of ``&&``, ``||`` and ``?:``
    (with the guards that let the evaluation reach them) and bodies of ``all``/``exists`` macros
    (evaluated for every element)."""
    toks = tokens(source)
    parts: list[_Part] = []

    def text(i: int, j: int) -> str:
        return source[toks[i].start : toks[j - 1].end]

    def walk(i: int, j: int, guards: tuple, wraps: tuple) -> None:
        if i >= j:
            return
        qs = _top_level(toks, i, j, ("?",))
        if qs:
            q, nested = qs[0], 0
            colon = -1
            for k in _top_level(toks, q + 1, j, ("?", ":")):
                if toks[k].text == "?":
                    nested += 1
                elif nested:
                    nested -= 1
                else:
                    colon = k
                    break
            if colon > 0:
                cond = text(i, q)
                walk(i, q, guards, wraps)
                walk(q + 1, colon, (*guards, (cond, True)), wraps)
                walk(colon + 1, j, (*guards, (cond, False)), wraps)
                return
        for op, expected in (("||", False), ("&&", True)):
            cuts = _top_level(toks, i, j, (op,))
            if cuts:
                bounds = [i, *[c + 1 for c in cuts]]
                ends = [*cuts, j]
                seen = guards
                for a, b in zip(bounds, ends, strict=True):
                    walk(a, b, seen, wraps)
                    seen = (*seen, (text(a, b), expected))
                return
        if toks[i].text == "!" and toks[i].kind == "op":
            walk(i + 1, j, guards, wraps)
            return
        if toks[i].text == "(" and _matching(toks, i) == j - 1:
            walk(i + 1, j - 1, guards, wraps)
            return
        if toks[j - 1].text == ")":
            # a whole macro call: <target>.exists(v, body)
            for p in range(j - 2, i, -1):
                if toks[p].text == "(" and _matching(toks, p) == j - 1:
                    if (
                        p - 2 > i
                        and toks[p - 1].text in ("all", "exists", "exists_one")
                        and toks[p - 2].text == "."
                        and p + 2 < j
                        and toks[p + 1].kind == "ident"
                        and toks[p + 2].text == ","
                    ):
                        walk(p + 3, j - 1, guards, (*wraps, (text(i, p - 2), toks[p + 1].text)))
                        return
                    break
        parts.append(_Part(toks[i].start, toks[j - 1].end, guards, wraps))

    walk(0, len(toks), (), wrappers)
    return parts


def _wrap(expression: str, wrappers: tuple[tuple[str, str], ...]) -> str:
    for target, var in reversed(wrappers):
        expression = f"(\n{target}\n).map({var}, {expression})"
    return expression


def _reached(value: Any, depth: int) -> bool:
    if depth == 0:
        return bool(value)
    return isinstance(value, list) and any(_reached(v, depth - 1) for v in value)


def _guard(guards: tuple[tuple[str, bool], ...]) -> str:
    return " && ".join(f"((\n{g}\n) == {'true' if want else 'false'})" for g, want in guards) or "true"


def _sample_label(index: int) -> str:
    return _("sample %(n)d") % {"n": index + 1}


def rule_problems(
    *, event: str, iterate_over: str, condition: str, detail_key: str, params: Any, message_zh: str, message_en: str
) -> dict[str, list[str]]:
    """Everything wrong with a rule's expressions, by field. Empty when the rule may be saved."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, [])
        if message not in problems[name]:
            problems[name].append(message)

    iterate_over, condition, detail_key = (
        (iterate_over or "").strip(),
        (condition or "").strip(),
        (detail_key or "").strip(),
    )
    if not isinstance(params, dict):
        add("params", _('Parameters must be a JSON object, e.g. {"max_pct": 15}.'))
        params = {}
    else:
        try:
            params_literal(params)
        except ValueError:
            add("params", _("Parameters must not contain NaN or infinity."))
    if not condition:
        add("condition", _("Write a condition."))
    if iterate_over and not detail_key:
        add("detail_key", _("A rule with “for each” needs a detail key telling its events apart, e.g. item.key."))

    allowed = allowed_roots(event, iterate=bool(iterate_over))
    roots_text = ", ".join(sorted(allowed))
    fields = {"iterate_over": iterate_over, "condition": condition, "detail_key": detail_key}
    for name, source in fields.items():
        if not source:
            continue
        try:
            program = compile_cel(source)
        except ValueError as exc:
            for message in syntax_errors(str(exc)):
                add(name, message)
            continue
        local = bound_names(source)
        for variable in program.variables():
            if variable in allowed or variable in local:
                continue
            if variable == "item" and name != "iterate_over":
                add(
                    name,
                    _("“item” is only defined when “for each” is set (%(where)s).")
                    % {"where": where(source, locate_root(source, variable))},
                )
                continue
            add(
                name,
                _("Unknown fact “%(name)s” at %(where)s; this event offers: %(roots)s.")
                % {"name": variable, "where": where(source, locate_root(source, variable)), "roots": roots_text},
            )
    if problems:
        return problems

    samples = facts_samples(event)
    names = set()
    for source in fields.values():
        names |= referenced_names(source)
    # Pruned like in production (where the kept names are a superset), so what passes here runs there.
    contexts = [context_for(sample, extra={"params": cel_value(params)}, names=names) for sample in samples]
    root_wraps: tuple[tuple[str, str], ...] = (("(\n" + iterate_over + "\n)", "item"),) if iterate_over else ()

    # "for each" gives a list on every sample
    items_by_sample: list[list] = []
    if iterate_over:
        program = compile_cel(iterate_over)
        for index, ctx in enumerate(contexts):
            try:
                value = program.execute(ctx)
            except Exception as exc:
                add(
                    "iterate_over",
                    _("Fails on %(sample)s: %(error)s")
                    % {"sample": _sample_label(index), "error": describe_error(exc, iterate_over)},
                )
                continue
            if not isinstance(value, list):
                add(
                    "iterate_over",
                    _("“For each” must give a list (%(sample)s gave %(value)r).")
                    % {"sample": _sample_label(index), "value": value},
                )
            else:
                items_by_sample.append(value)
        if "iterate_over" in problems:
            return problems

    # every part of the condition, where the evaluation reaches it (and somewhere at least)
    for part in decompose(condition, root_wraps):
        expression = condition[part.start : part.end]
        label = f"“{expression if len(expression) <= 60 else expression[:57] + '…'}” ({where(condition, part.start)})"
        depth = len(part.wrappers)
        reached_somewhere, errors = False, []
        guarded = compile_cel(_wrap(f"({_guard(part.guards)}) ? [(\n{expression}\n)] : []", part.wrappers))
        guard_only = compile_cel(_wrap(f"({_guard(part.guards)}) ? [true] : []", part.wrappers))
        for index, ctx in enumerate(contexts):
            try:
                result = guarded.execute(ctx)
            except Exception as exc:
                try:
                    guard_only.execute(ctx)
                except Exception:  # noqa: S112 - the guard's own part reports its failure
                    continue
                errors.append((index, exc))
                reached_somewhere = True
                continue
            reached_somewhere = reached_somewhere or _reached(result, depth)
        for index, exc in errors[:1]:
            add(
                "condition",
                _("%(part)s fails on %(sample)s: %(error)s")
                % {"part": label, "sample": _sample_label(index), "error": describe_error(exc, condition)},
            )
        if not reached_somewhere:
            # No sample reaches this part: evaluate it anyway; it must work on at least one sample.
            bare = compile_cel(_wrap(f"[(\n{expression}\n)]", part.wrappers))
            failures = []
            for ctx in contexts:
                try:
                    bare.execute(ctx)
                except Exception as exc:
                    failures.append(exc)
            if len(failures) == len(contexts):
                add(
                    "condition",
                    _("%(part)s is never evaluated on the sample facts, and evaluated anyway it fails: %(error)s")
                    % {"part": label, "error": describe_error(failures[0], condition)},
                )
    if "condition" in problems:
        return problems

    # the whole condition gives true or false everywhere
    whole = compile_cel(_wrap(f"(\n{condition}\n)", root_wraps))
    fired_any = False
    for index, ctx in enumerate(contexts):
        try:
            result = whole.execute(ctx)
        except Exception as exc:
            add(
                "condition",
                _("Fails on %(sample)s: %(error)s")
                % {"sample": _sample_label(index), "error": describe_error(exc, condition)},
            )
            continue
        values = result if iterate_over else [result]
        for value in values:
            if value is not True and value is not False:
                add(
                    "condition",
                    _("The condition must give true or false; on %(sample)s it gave %(value)r.")
                    % {"sample": _sample_label(index), "value": value},
                )
                break
        fired_any = fired_any or any(v is True for v in values)

    if detail_key:
        program = compile_cel(_wrap(f"(\n{detail_key}\n)", root_wraps))
        for index, ctx in enumerate(contexts):
            try:
                value = program.execute(ctx)
            except Exception as exc:
                add(
                    "detail_key",
                    _("Fails on %(sample)s: %(error)s")
                    % {"sample": _sample_label(index), "error": describe_error(exc, detail_key)},
                )
                continue
            for key in value if iterate_over else [value]:
                if isinstance(key, dict | list) or key is None:
                    add(
                        "detail_key",
                        _("The detail key must give a string or a number; on %(sample)s it gave %(value)r.")
                        % {"sample": _sample_label(index), "value": key},
                    )
                    break

    # placeholders resolve on the samples
    scopes = []
    for index, sample in enumerate(samples):
        base = {**sample, **engine_roots(), "params": params, "detail_key": ""}
        if iterate_over:
            # the items unpruned: messages may show fields the expressions do not use
            try:
                items = compile_cel(iterate_over).execute(context_for(sample, extra={"params": cel_value(params)}))
            except Exception:
                items = items_by_sample[index] if index < len(items_by_sample) else []
            scopes.extend({**base, "item": item} for item in items if isinstance(items, list))
        else:
            scopes.append(base)
    for name, template in (("message_zh", message_zh), ("message_en", message_en)):
        if not (template or "").strip():
            add(name, _("Write a message."))
            continue
        for placeholder in placeholders(template):
            path, _sep, flag = placeholder.partition("|")
            path, flag = path.strip(), flag.strip()
            root = path.split(".")[0]
            if flag and flag not in PLACEHOLDER_FLAGS:
                add(
                    name,
                    _("Unknown format “%(flag)s” in {%(placeholder)s}; use one of: %(flags)s.")
                    % {"flag": flag, "placeholder": placeholder, "flags": ", ".join(PLACEHOLDER_FLAGS)},
                )
            elif root not in allowed and root != "detail_key":
                add(
                    name,
                    _("Unknown placeholder {%(placeholder)s}: “%(root)s” is not a fact of this event (%(roots)s).")
                    % {"placeholder": placeholder, "root": root, "roots": roots_text},
                )
            elif scopes and all(lookup(scope, path) is _MISSING for scope in scopes):
                add(
                    name,
                    _("Placeholder {%(placeholder)s} does not resolve on any sample facts.")
                    % {"placeholder": placeholder},
                )
    return problems
