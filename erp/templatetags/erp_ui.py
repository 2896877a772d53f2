"""Small template helpers shared by every list page: keep the query string while changing one key."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with ``changes`` applied (``None`` removes a key); always drops ``page``
    unless it is one of the changes, so a new filter or sort starts on page 1."""
    query = context["request"].GET.copy()
    if "page" not in changes:
        query.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label) -> str:
    """A column header that sorts by ``field``, toggling direction and marking the active column."""
    current = context["request"].GET.get("sort", context.get("default_sort", ""))
    if current == field:
        target, arrow, css = f"-{field}", " ▲", "sorted"
    elif current == f"-{field}":
        target, arrow, css = field, " ▼", "sorted"
    else:
        target, arrow, css = field, "", ""
    return format_html('<a href="?{}" class="{}">{}{}</a>', query_replace(context, sort=target), css, label, arrow)


@register.filter
def yesno_badge(value) -> str:
    from django.utils.translation import gettext as _

    if value:
        return format_html('<span class="badge badge-ok">{}</span>', _("Yes"))
    return format_html('<span class="badge badge-low">{}</span>', _("No"))


@register.filter
def person(user) -> str:
    """``{{ user|person }}``: the name as people print it (see ``erp.kernel.people``)."""
    from erp.kernel.people import person_name

    return person_name(user)
