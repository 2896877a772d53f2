"""Reads shared by project-level pages."""

from __future__ import annotations

from erp.kernel.access import restrict


def home_counts(*, user) -> list[dict]:
    """The few live numbers on the home page, each only if the user may see that model."""
    from masterdata.models import Party, Product, Warehouse

    counts = []
    for model, url_name in (
        (Party, "masterdata:party_list"),
        (Product, "masterdata:product_list"),
        (Warehouse, "masterdata:warehouse_list"),
    ):
        qs = restrict(model.objects.all(), user, "view")
        if qs.query.is_empty():
            continue
        counts.append({"label": model._meta.verbose_name_plural, "value": qs.count(), "url_name": url_name})
    return counts
