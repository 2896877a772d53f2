"""How a person's name is printed: Chinese names family name first without a space (李娜),
others given name first (Wei Zhang); the username when no name is set."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def person_name(user) -> str:
    if user is None:
        return ""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if not first and not last:
        return user.get_username()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)
