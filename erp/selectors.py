"""Reads shared by project-level pages."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from erp.kernel.access import restrict
from exceptions_center.models import ACTIVE_STATUSES, ExceptionEvent, Severity
from masterdata.models import Party, Product, Warehouse
from orders.models import OPEN_STATUSES, SalesOrder


def home_counts(*, user) -> list[dict]:
    """The few live numbers on the home page, each only if the user may see that model: held orders and
    their value, open exceptions by severity and overdue, then master data. A fixed number of queries."""
    counts: list[dict] = []
    orders = restrict(SalesOrder.objects.all(), user, "view")
    if not orders.query.is_empty():
        held = orders.filter(is_held=True, status__in=OPEN_STATUSES).aggregate(n=Count("id"), value=Sum("gross_amount"))
        counts.append(
            {
                "label": _("held orders"),
                "value": held["n"],
                "note": held["value"],
                "url": reverse("orders:order_list") + "?is_held=true",
                "css": "stat-high" if held["n"] else "",
            }
        )
    events = restrict(ExceptionEvent.objects.filter(status__in=ACTIVE_STATUSES), user, "view")
    if not events.query.is_empty():
        by = events.aggregate(
            high=Count("id", filter=Q(severity=Severity.HIGH)),
            medium=Count("id", filter=Q(severity=Severity.MEDIUM)),
            low=Count("id", filter=Q(severity=Severity.LOW)),
            overdue=Count("id", filter=Q(is_overdue=True)),
        )
        queue = reverse("exceptions_center:queue") + "?tab=all"
        for key, label in (
            ("high", _("open high-severity exceptions")),
            ("medium", _("open medium-severity exceptions")),
            ("low", _("open low-severity exceptions")),
        ):
            counts.append(
                {
                    "label": label,
                    "value": by[key],
                    "url": f"{queue}&severity={key}",
                    "css": f"stat-{key}" if by[key] else "",
                }
            )
        counts.append(
            {
                "label": _("exceptions past their SLA"),
                "value": by["overdue"],
                "url": f"{queue}&overdue=true",
                "css": "stat-high" if by["overdue"] else "",
            }
        )
    for model, url_name in (
        (Party, "masterdata:party_list"),
        (Product, "masterdata:product_list"),
        (Warehouse, "masterdata:warehouse_list"),
    ):
        qs = restrict(model.objects.all(), user, "view")
        if qs.query.is_empty():
            continue
        counts.append({"label": model._meta.verbose_name_plural, "value": qs.count(), "url": reverse(url_name)})
    return counts
