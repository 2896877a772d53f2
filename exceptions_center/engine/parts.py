"""A condition split into the parts a dry run must reach (operands of ``&&``, ``||``, ``?:`` with the
guards that let evaluation reach them, bodies of ``all``/``exists`` macros), and the CEL wrappers that
evaluate one part on sample facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exceptions_center.engine.lexing import _matching, _top_level, tokens


@dataclass
class _Part:
    start: int
    end: int
    guards: tuple[tuple[str, bool], ...]
    wrappers: tuple[tuple[str, str], ...]


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
