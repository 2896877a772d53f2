"""Running compiled rules against one evaluation's context: ``evaluate`` (one rule), ``evaluate_all``
(rules iterating over the same list share one pass over its items). Never raises: a rule that fails on
real facts is logged (logger ``exceptions_center.rules``) and reported in its ``Outcome``, with the
detail keys it could not decide (their events are left as they are: "could not evaluate" is not "no
longer true"). A rule whose estimated cost for these facts is over the evaluation budget is not run."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import cel
from django.utils.translation import gettext as _

from exceptions_center.engine.budget import limit, longest_list, over_evaluation_budget
from exceptions_center.engine.compiled import CompiledRule, compile_cel
from exceptions_center.engine.lexing import describe_error

logger = logging.getLogger("exceptions_center.rules")


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


def evaluate(
    rule: CompiledRule, context: cel.Context, facts: dict | None = None, *, list_size: int | None = None
) -> Outcome:
    """Run one rule against an evaluation's context. Never raises. ``list_size``: the longest list of
    the facts, for the evaluation budget (computed here from ``facts`` when not given)."""
    outcome = Outcome(rule=rule)
    if rule.error:
        outcome.error = rule.error
        outcome.uncertain.add(None)
        return outcome
    if _over_budget(rule, facts, list_size, outcome):
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


def _over_budget(rule: CompiledRule, facts: dict | None, list_size: int | None, outcome: Outcome) -> bool:
    """A rule whose estimated cost on these facts is over the evaluation budget is not run: it is
    logged and reported, and its events are left as they are."""
    if rule.shape is None or rule.shape.depth < 2:
        return False
    if list_size is None:
        list_size = longest_list(facts) if facts is not None else limit("LIST_SIZE")
    cost = over_evaluation_budget(rule.shape, list_size)
    if cost is None:
        return False
    outcome.error = _("not run: its estimated cost on these facts (%(cost)s) is over the evaluation budget") % {
        "cost": f"{cost:,}"
    }
    outcome.uncertain.add(None)
    logger.error("rule %s skipped: %s", rule.code, outcome.error)
    return True


_group_cache: dict[tuple, Any] = {}
_lock = threading.Lock()


def evaluate_all(rules: list[CompiledRule], context: cel.Context, facts: dict | None = None) -> list[Outcome]:
    """Run every rule. Rules that iterate over the same list run in ONE pass over its items (the
    binding copies an item each time it is bound, the main cost of per-line rules); if that pass
    fails, its rules run one by one so only the failing rule is affected."""
    outcomes: dict[int, Outcome] = {}
    groups: dict[str, list[int]] = {}
    # The longest list of the facts, only when some rule nests iterations (the budget's bound).
    nested = any(rule.shape is not None and rule.shape.depth >= 2 for rule in rules)
    list_size = longest_list(facts) if nested and facts is not None else None
    for index, rule in enumerate(rules):
        if nested and _over_budget(rule, facts, list_size, outcomes.setdefault(index, Outcome(rule=rule))):
            continue
        outcomes.pop(index, None)
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
    return [
        outcomes[i] if i in outcomes else evaluate(rule, context, facts, list_size=list_size)
        for i, rule in enumerate(rules)
    ]


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
