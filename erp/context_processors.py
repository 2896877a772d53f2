"""Navigation by role: only the sections the user may open."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

NAVIGATION = [
    # (label, url name, permission needed)
    (_("Sales orders"), "orders:order_list", "orders.view_salesorder"),
    (_("Parties"), "masterdata:party_list", "masterdata.view_party"),
    (_("Products"), "masterdata:product_list", "masterdata.view_product"),
    (_("Warehouses"), "masterdata:warehouse_list", "masterdata.view_warehouse"),
    (_("Exceptions"), "exceptions_center:queue", "exceptions_center.view_exceptionevent"),
    (_("Receiving"), "traceability:receipt_list", "traceability.view_receipt"),
    (_("Lots"), "traceability:lot_list", "traceability.view_lot"),
    (_("Audit history"), "audit:history_report", "erp.view_history_report"),
]


# Group names are stable codes; people read these labels (user menu).
ROLE_LABELS = {
    "sales": _("Sales"),
    "sales_manager": _("Sales manager"),
    "warehouse": _("Warehouse"),
    "logistics": _("Logistics"),
    "quality": _("Quality"),
    "compliance": _("Compliance"),
    "finance": _("Finance"),
    "auditor": _("Auditor"),
    "integrator": _("Integrator"),
    "admin": _("Administrator"),
}


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    from django.urls import NoReverseMatch, reverse

    items: list[dict[str, Any]] = []
    for label, url_name, perm in NAVIGATION:
        if not user.has_perm(perm):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": False})
    # Only the most specific section is highlighted (/traceability/lots/ is "Lots", not also "Receiving").
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    roles = [ROLE_LABELS.get(name, name) for name in user.groups.values_list("name", flat=True)]
    return {"nav_items": items, "user_roles": roles}


def csp_nonce(request) -> dict:
    """``{% htmx_script %}`` reads ``csp_nonce``; django-csp sets ``request.csp_nonce`` (lazy: only a page
    that uses it gets a nonce in its Content-Security-Policy header)."""
    return {"csp_nonce": getattr(request, "csp_nonce", None)}
