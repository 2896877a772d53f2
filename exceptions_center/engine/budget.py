"""The cost budget of a rule, decided statically (the CEL binding runs in Rust and cannot be interrupted).

Before an expression is compiled or dry-run, ``budget_problems`` refuses what could run for long: an
expression longer than ``MAX_LENGTH`` characters, comprehension macros (``all``, ``exists``,
``exists_one``, ``map``, ``filter``) nested deeper than ``MAX_MACRO_DEPTH``, a list or map literal of more
than ``MAX_LITERAL_ITEMS`` items, and an estimated cost over ``COST_BUDGET``. The estimate sums, over the
expression's tokens, the product of the iteration bounds of the macros around each token: a literal
list iterates its own size, any other list the assumed ``LIST_SIZE``. (Measured with the binding: a
token visited once costs about 1 µs, and a dry run at save time runs each part of a condition some ten
times over the samples, so the default budget keeps a refusal instant and an accepted rule's validation
under two seconds.)

At evaluation the list sizes are known: ``over_evaluation_budget`` redoes the estimate with the longest
list of the facts as the bound and tells the engine to skip a rule over ``EVALUATION_BUDGET`` (logged as
a rule error; its events are left as they are).

The limits are ``settings.ERP_RULES_BUDGET`` (see erp/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from exceptions_center.engine.lexing import Token, _matching, tokens

MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

DEFAULTS = {
    "MAX_LENGTH": 4000,
    "MAX_MACRO_DEPTH": 3,
    "MAX_LITERAL_ITEMS": 200,
    "LIST_SIZE": 50,
    "COST_BUDGET": 100_000,
    "EVALUATION_BUDGET": 200_000,
}


def limit(name: str) -> int:
    """One budget limit: ``settings.ERP_RULES_BUDGET[name]`` or its default."""
    return int(getattr(settings, "ERP_RULES_BUDGET", {}).get(name, DEFAULTS[name]))


@dataclass(frozen=True)
class Shape:
    """What the cost of an expression depends on: its tokens, and per token the macros around it (each
    a literal size, or ``None`` for a list known only at evaluation)."""

    length: int
    depth: int
    largest_literal: int
    # (the bounds of the macros around some tokens, how many tokens) — tokens grouped by their nesting
    groups: tuple[tuple[tuple[int | None, ...], int], ...]

    def cost(self, list_size: int) -> int:
        """Estimated element visits × body size when every non-literal list has ``list_size`` items."""
        total = 0
        for bounds, count in self.groups:
            product = count
            for bound in bounds:
                product *= max(1, list_size if bound is None else bound)
            total += product
        return total


_OPENING = frozenset({"(", "[", "{"})
# After these a "[" starts a list literal (not an index): an operator, an opening bracket, a comma…
_LITERAL_AFTER = frozenset({"(", "[", "{", ",", "?", ":", "!", "&&", "||"})


def _is_literal_start(toks: list[Token], i: int) -> bool:
    if toks[i].text == "{":
        return True
    if i == 0:
        return True
    before = toks[i - 1]
    if before.kind == "ident":
        return before.text == "in"  # ``x in [1, 2]``; after any other name it is an index
    return before.kind == "other" or (before.kind == "op" and before.text in _LITERAL_AFTER)


def _literal_items(toks: list[Token], i: int, end: int) -> int:
    """Items of the literal opened at ``i`` and closed at ``end``: top-level commas + 1 (0 when empty)."""
    if end == i + 1:
        return 0
    depth, items = 0, 1
    for k in range(i + 1, end):
        text = toks[k].text if toks[k].kind == "op" else ""
        if text in _OPENING:
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
        elif text == "," and depth == 0 and k + 1 < end:
            items += 1
    return items


def shape(source: str, *, outer: tuple[int | None, ...] = ()) -> Shape:
    """The cost shape of ``source``; ``outer``: bounds of iterations around the whole expression (a rule
    with "for each" runs its condition once per item)."""
    toks = tokens(source)
    literal_size: dict[int, int] = {}  # closing index of a literal list -> its items
    largest = 0
    for i, tok in enumerate(toks):
        if tok.kind == "op" and tok.text in ("[", "{") and _is_literal_start(toks, i):
            end = _matching(toks, i)
            if end < 0:
                continue
            items = _literal_items(toks, i, end)
            largest = max(largest, items)
            if tok.text == "[":
                literal_size[end] = items
    # Macro calls: ``<target>.all(v, body)`` — the body's tokens iterate the target's size.
    spans: list[tuple[int, int, int | None]] = []
    for i in range(1, len(toks) - 2):
        if (
            toks[i].kind == "ident"
            and toks[i].text in MACROS
            and toks[i - 1].text == "."
            and toks[i + 1].text == "("
            and toks[i + 2].kind == "ident"
        ):
            end = _matching(toks, i + 1)
            if end < 0:
                continue
            spans.append((i + 1, end, literal_size.get(i - 2)))
    per_token: dict[tuple[int | None, ...], int] = {}
    depth = 0
    for k in range(len(toks)):
        bounds = tuple(bound for start, end, bound in spans if start < k < end)
        depth = max(depth, len(bounds))
        key = (*outer, *bounds)
        per_token[key] = per_token.get(key, 0) + 1
    return Shape(
        length=len(source),
        depth=depth + len(outer),
        largest_literal=largest,
        groups=tuple(per_token.items()),
    )


def budget_problems(source: str, *, iterated: bool = False) -> list[str]:
    """Why ``source`` is over the cost budget (empty when it is within). Decided on the text alone, in
    time linear in its length, before anything is compiled or run."""
    max_length = limit("MAX_LENGTH")
    if len(source) > max_length:
        return [
            _("The expression is %(length)d characters long; at most %(max)d are allowed.")
            % {"length": len(source), "max": max_length}
        ]
    found = shape(source, outer=(None,) if iterated else ())
    problems = []
    max_depth = limit("MAX_MACRO_DEPTH")
    if found.depth > max_depth:
        problems.append(
            _(
                "all/exists/exists_one/map/filter are nested %(depth)d deep (counting “for each”); at most "
                "%(max)d levels are allowed."
            )
            % {"depth": found.depth, "max": max_depth}
        )
    max_items = limit("MAX_LITERAL_ITEMS")
    if found.largest_literal > max_items:
        problems.append(
            _("A list or map literal has %(items)d items; at most %(max)d are allowed (use a parameter list).")
            % {"items": found.largest_literal, "max": max_items}
        )
    if not problems:
        cost = found.cost(limit("LIST_SIZE"))
        if cost > limit("COST_BUDGET"):
            problems.append(
                _(
                    "The expression could take too long: its estimated cost is %(cost)s with %(size)d items "
                    "per list, over the budget of %(budget)s. Nest fewer macros or iterate over shorter lists."
                )
                % {"cost": f"{cost:,}", "size": limit("LIST_SIZE"), "budget": f"{limit('COST_BUDGET'):,}"}
            )
    return problems


def longest_list(value: Any) -> int:
    """The length of the longest list anywhere in ``value`` (the facts of one evaluation)."""
    if isinstance(value, dict):
        return max((longest_list(v) for v in value.values() if isinstance(v, dict | list)), default=0)
    if isinstance(value, list):
        inner = max((longest_list(v) for v in value if isinstance(v, dict | list)), default=0)
        return max(len(value), inner)
    return 0


def over_evaluation_budget(shape_: Shape | None, list_size: int) -> int | None:
    """The estimated cost of a rule on facts whose longest list has ``list_size`` items, when it is over
    ``EVALUATION_BUDGET``; ``None`` when the rule may run."""
    if shape_ is None or shape_.depth < 2:
        return None  # one level of iteration is linear in the facts: always within budget
    cost = shape_.cost(list_size)
    return cost if cost > limit("EVALUATION_BUDGET") else None
