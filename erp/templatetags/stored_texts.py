"""``{{ value|stored_text }}``: a text the system stored as a message key, in the reader's language."""

from __future__ import annotations

from django import template

from erp.kernel.messages import render_stored

register = template.Library()


@register.filter(name="stored_text")
def stored_text_filter(value, fallback: str = "") -> str:
    """Render a stored text (``erp.kernel.messages``) in the active language; plain strings pass through."""
    return render_stored(value, fallback=fallback or "")
