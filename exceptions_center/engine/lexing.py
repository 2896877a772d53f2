"""Source positions: CEL tokens, line and column of an offset, readable syntax and runtime errors, and
the names comprehension macros bind. Used to point rule authors at the exact place of a problem."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

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
