"""Picking between the Chinese and English copies a record keeps of its own text (names, messages)."""

from __future__ import annotations

from django.utils.translation import get_language


def is_english() -> bool:
    """True when the active language is English; Chinese is the default for everything else."""
    return (get_language() or "").startswith("en")


def localised(zh: str, en: str) -> str:
    """The English copy when English is active and one exists, else the Chinese one."""
    return en if is_english() and en else zh
