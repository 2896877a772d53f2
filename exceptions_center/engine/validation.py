"""Checks a rule before it is saved (``rule_problems``), by field: parameters, syntax with line and
column, the cost budget (before anything runs), unknown roots, a dry run of every part of the
condition on the event's sample facts, the detail key, and message placeholders. Each check is a small
named function adding to a ``Problems`` map; later checks run only when the earlier ones pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from exceptions_center.engine.budget import budget_problems
from exceptions_center.engine.cel_support import _MISSING, context_for, engine_roots, lookup
from exceptions_center.engine.compiled import compile_cel, params_literal, referenced_names
from exceptions_center.engine.lexing import bound_names, describe_error, locate_root, syntax_errors, where
from exceptions_center.engine.messages import PLACEHOLDER_FLAGS, placeholders
from exceptions_center.engine.parts import _guard, _reached, _wrap, decompose
from exceptions_center.facts_registry import (
    allowed_roots,
    cel_value,
    fact_providers,
    facts_samples,
    no_provider_message,
)


class Problems(dict):
    """Problems by field name, each message once, in the order found."""

    def add(self, name: str, message: str) -> None:
        messages = self.setdefault(name, [])
        if message not in messages:
            messages.append(message)


@dataclass
class Draft:
    """The parts of a rule the checks read, stripped; ``samples``/``contexts`` are filled by the dry-run
    checks once the static ones pass."""

    event: str
    iterate_over: str
    condition: str
    detail_key: str
    params: Any
    message_zh: str
    message_en: str
    allowed: frozenset[str] = frozenset()
    samples: list[dict] = field(default_factory=list)
    contexts: list = field(default_factory=list)
    items_by_sample: list[list] = field(default_factory=list)

    @property
    def expressions(self) -> dict[str, str]:
        return {"iterate_over": self.iterate_over, "condition": self.condition, "detail_key": self.detail_key}

    @property
    def root_wraps(self) -> tuple[tuple[str, str], ...]:
        return (("(\n" + self.iterate_over + "\n)", "item"),) if self.iterate_over else ()

    @property
    def roots_text(self) -> str:
        return ", ".join(sorted(self.allowed))


def _sample_label(index: int) -> str:
    return _("sample %(n)d") % {"n": index + 1}


def rule_problems(
    *, event: str, iterate_over: str, condition: str, detail_key: str, params: Any, message_zh: str, message_en: str
) -> dict[str, list[str]]:
    """Everything wrong with a rule's expressions, by field. Empty when the rule may be saved.

    The checks run in order; the dry runs (which execute CEL) only once the static checks — the event
    has fact providers, syntax, cost budget, roots — pass, so nothing over the budget is ever run."""
    draft = Draft(
        event=event,
        iterate_over=(iterate_over or "").strip(),
        condition=(condition or "").strip(),
        detail_key=(detail_key or "").strip(),
        params=params,
        message_zh=message_zh,
        message_en=message_en,
    )
    problems = Problems()
    if not check_event(draft, problems):
        return dict(problems)
    check_params(draft, problems)
    check_required(draft, problems)
    if check_budget(draft, problems):
        check_syntax_and_roots(draft, problems)
    if problems:
        return dict(problems)
    prepare_samples(draft)
    for check in (check_iterate_over, check_condition_parts, check_condition_result):
        check(draft, problems)
        if problems:
            return dict(problems)
    check_detail_key(draft, problems)
    check_messages(draft, problems)
    return dict(problems)


# --- static checks ----------------------------------------------------------------------------------


def check_event(draft: Draft, problems: Problems) -> bool:
    """A rule's event must have a fact provider: a rule on an event nothing provides would never fire."""
    if fact_providers(draft.event):
        draft.allowed = allowed_roots(draft.event, iterate=bool(draft.iterate_over))
        return True
    problems.add("event", no_provider_message(draft.event))
    return False


def check_params(draft: Draft, problems: Problems) -> None:
    if not isinstance(draft.params, dict):
        problems.add("params", _('Parameters must be a JSON object, e.g. {"max_pct": 15}.'))
        draft.params = {}
        return
    try:
        params_literal(draft.params)
    except ValueError:
        problems.add("params", _("Parameters must not contain NaN or infinity."))


def check_required(draft: Draft, problems: Problems) -> None:
    if not draft.condition:
        problems.add("condition", _("Write a condition."))
    if draft.iterate_over and not draft.detail_key:
        problems.add(
            "detail_key", _("A rule with “for each” needs a detail key telling its events apart, e.g. item.key.")
        )


def check_budget(draft: Draft, problems: Problems) -> bool:
    """The cost budget, on the text alone (see ``budget``): True when every expression is within it."""
    within = True
    for name, source in draft.expressions.items():
        if not source:
            continue
        for message in budget_problems(source, iterated=bool(draft.iterate_over) and name != "iterate_over"):
            problems.add(name, message)
            within = False
    return within


def check_syntax_and_roots(draft: Draft, problems: Problems) -> None:
    """Each expression compiles and names only facts of its event (``item`` only with "for each")."""
    for name, source in draft.expressions.items():
        if not source:
            continue
        try:
            program = compile_cel(source)
        except ValueError as exc:
            for message in syntax_errors(str(exc)):
                problems.add(name, message)
            continue
        local = bound_names(source)
        for variable in program.variables():
            if variable in draft.allowed or variable in local:
                continue
            at = where(source, locate_root(source, variable))
            if variable == "item" and name != "iterate_over":
                problems.add(name, _("“item” is only defined when “for each” is set (%(where)s).") % {"where": at})
                continue
            problems.add(
                name,
                _("Unknown fact “%(name)s” at %(where)s; this event offers: %(roots)s.")
                % {"name": variable, "where": at, "roots": draft.roots_text},
            )


# --- dry runs on the sample facts -------------------------------------------------------------------


def prepare_samples(draft: Draft) -> None:
    """The event's sample facts, pruned like in production (where the kept names are a superset), so
    what passes here runs there."""
    draft.samples = facts_samples(draft.event)
    names: set[str] = set()
    for source in draft.expressions.values():
        names |= referenced_names(source)
    params = cel_value(draft.params)
    draft.contexts = [context_for(sample, extra={"params": params}, names=names) for sample in draft.samples]


def check_iterate_over(draft: Draft, problems: Problems) -> None:
    """ "For each" gives a list on every sample."""
    if not draft.iterate_over:
        return
    program = compile_cel(draft.iterate_over)
    for index, ctx in enumerate(draft.contexts):
        try:
            value = program.execute(ctx)
        except Exception as exc:
            problems.add(
                "iterate_over",
                _("Fails on %(sample)s: %(error)s")
                % {"sample": _sample_label(index), "error": describe_error(exc, draft.iterate_over)},
            )
            continue
        if not isinstance(value, list):
            problems.add(
                "iterate_over",
                _("“For each” must give a list (%(sample)s gave %(value)r).")
                % {"sample": _sample_label(index), "value": value},
            )
        else:
            draft.items_by_sample.append(value)


def check_condition_parts(draft: Draft, problems: Problems) -> None:
    """Every part of the condition runs where the evaluation reaches it (and somewhere at least)."""
    condition = draft.condition
    for part in decompose(condition, draft.root_wraps):
        expression = condition[part.start : part.end]
        shown = expression if len(expression) <= 60 else expression[:57] + "…"
        label = f"“{shown}” ({where(condition, part.start)})"
        failure, reached = _part_on_samples(expression, part, draft.contexts)
        if failure is not None:
            index, exc = failure
            problems.add(
                "condition",
                _("%(part)s fails on %(sample)s: %(error)s")
                % {"part": label, "sample": _sample_label(index), "error": describe_error(exc, condition)},
            )
        if not reached:
            _check_unreached_part(expression, part, draft, label, problems)


def _part_on_samples(expression: str, part, contexts: list) -> tuple[tuple[int, Exception] | None, bool]:
    """(the first sample where the part fails when reached, whether any sample reaches it)."""
    depth = len(part.wrappers)
    guarded = compile_cel(_wrap(f"({_guard(part.guards)}) ? [(\n{expression}\n)] : []", part.wrappers))
    guard_only = compile_cel(_wrap(f"({_guard(part.guards)}) ? [true] : []", part.wrappers))
    reached, failure = False, None
    for index, ctx in enumerate(contexts):
        try:
            result = guarded.execute(ctx)
        except Exception as exc:
            try:
                guard_only.execute(ctx)
            except Exception:  # noqa: S112 - the guard's own part reports its failure
                continue
            failure = failure or (index, exc)
            reached = True
            continue
        reached = reached or _reached(result, depth)
    return failure, reached


def _check_unreached_part(expression: str, part, draft: Draft, label: str, problems: Problems) -> None:
    """No sample reaches this part: evaluate it anyway; it must work on at least one sample."""
    bare = compile_cel(_wrap(f"[(\n{expression}\n)]", part.wrappers))
    failures = []
    for ctx in draft.contexts:
        try:
            bare.execute(ctx)
        except Exception as exc:
            failures.append(exc)
    if len(failures) == len(draft.contexts):
        problems.add(
            "condition",
            _("%(part)s is never evaluated on the sample facts, and evaluated anyway it fails: %(error)s")
            % {"part": label, "error": describe_error(failures[0], draft.condition)},
        )


def check_condition_result(draft: Draft, problems: Problems) -> None:
    """The whole condition gives true or false on every sample (every item)."""
    whole = compile_cel(_wrap(f"(\n{draft.condition}\n)", draft.root_wraps))
    for index, ctx in enumerate(draft.contexts):
        try:
            result = whole.execute(ctx)
        except Exception as exc:
            problems.add(
                "condition",
                _("Fails on %(sample)s: %(error)s")
                % {"sample": _sample_label(index), "error": describe_error(exc, draft.condition)},
            )
            continue
        for value in result if draft.iterate_over else [result]:
            if value is not True and value is not False:
                problems.add(
                    "condition",
                    _("The condition must give true or false; on %(sample)s it gave %(value)r.")
                    % {"sample": _sample_label(index), "value": value},
                )
                break


def check_detail_key(draft: Draft, problems: Problems) -> None:
    """The detail key gives a string or a number on every sample (every item)."""
    if not draft.detail_key:
        return
    program = compile_cel(_wrap(f"(\n{draft.detail_key}\n)", draft.root_wraps))
    for index, ctx in enumerate(draft.contexts):
        try:
            value = program.execute(ctx)
        except Exception as exc:
            problems.add(
                "detail_key",
                _("Fails on %(sample)s: %(error)s")
                % {"sample": _sample_label(index), "error": describe_error(exc, draft.detail_key)},
            )
            continue
        for key in value if draft.iterate_over else [value]:
            if isinstance(key, dict | list) or key is None:
                problems.add(
                    "detail_key",
                    _("The detail key must give a string or a number; on %(sample)s it gave %(value)r.")
                    % {"sample": _sample_label(index), "value": key},
                )
                break


# --- messages ---------------------------------------------------------------------------------------


def _message_scopes(draft: Draft) -> list[dict]:
    scopes = []
    for index, sample in enumerate(draft.samples):
        base = {**sample, **engine_roots(), "params": draft.params, "detail_key": ""}
        if not draft.iterate_over:
            scopes.append(base)
            continue
        # the items unpruned: messages may show fields the expressions do not use
        try:
            ctx = context_for(sample, extra={"params": cel_value(draft.params)})
            items = compile_cel(draft.iterate_over).execute(ctx)
        except Exception:
            items = draft.items_by_sample[index] if index < len(draft.items_by_sample) else []
        scopes.extend({**base, "item": item} for item in items if isinstance(items, list))
    return scopes


def check_messages(draft: Draft, problems: Problems) -> None:
    """Both messages are written and their placeholders name facts of the event that resolve on the
    samples, with a known format flag."""
    scopes = _message_scopes(draft)
    for name, template in (("message_zh", draft.message_zh), ("message_en", draft.message_en)):
        if not (template or "").strip():
            problems.add(name, _("Write a message."))
            continue
        for placeholder in placeholders(template):
            problem = _placeholder_problem(placeholder, draft, scopes)
            if problem:
                problems.add(name, problem)


def _placeholder_problem(placeholder: str, draft: Draft, scopes: list[dict]) -> str:
    path, _sep, flag = placeholder.partition("|")
    path, flag = path.strip(), flag.strip()
    root = path.split(".")[0]
    if flag and flag not in PLACEHOLDER_FLAGS:
        return _("Unknown format “%(flag)s” in {%(placeholder)s}; use one of: %(flags)s.") % {
            "flag": flag,
            "placeholder": placeholder,
            "flags": ", ".join(PLACEHOLDER_FLAGS),
        }
    if root not in draft.allowed and root != "detail_key":
        return _("Unknown placeholder {%(placeholder)s}: “%(root)s” is not a fact of this event (%(roots)s).") % {
            "placeholder": placeholder,
            "root": root,
            "roots": draft.roots_text,
        }
    if scopes and all(lookup(scope, path) is _MISSING for scope in scopes):
        return _("Placeholder {%(placeholder)s} does not resolve on any sample facts.") % {"placeholder": placeholder}
    return ""
