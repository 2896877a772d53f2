"""Template helpers of the exception center: severity/status badges and the header's notification bell."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()

STATUS_CSS = {
    "open": "badge-info",
    "in_progress": "badge-info",
    "rejected": "badge-high",
    "resolved": "badge-ok",
    "waived": "badge-ok",
    "auto_resolved": "badge-ok",
    "done": "badge-ok",
    "approved": "badge-ok",
    "pending": "badge-medium",
    "waiting": "badge-low",
    "cancelled": "badge-low",
    "skipped": "badge-low",
}


@register.simple_tag
def severity_badge(event) -> str:
    """High red, medium amber, low grey (``.badge-high/-medium/-low`` in app.css)."""
    return format_html('<span class="badge badge-{}">{}</span>', event.severity, event.get_severity_display())


@register.simple_tag
def status_badge(obj) -> str:
    return format_html(
        '<span class="badge {}">{}</span>', STATUS_CSS.get(obj.status, "badge-low"), obj.get_status_display()
    )


@register.inclusion_tag("exceptions_center/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    """The bell with the user's unread in-app notifications (one query)."""
    from exceptions_center.selectors import notifications_unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": notifications_unread_count(user=user), "show": bool(user and user.is_authenticated)}
