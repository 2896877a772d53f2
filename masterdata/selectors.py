"""Reads of master data shared by pages and the API; every list goes through ``restrict``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from erp.kernel.access import object_get_for, restrict
from masterdata.models import Party, PartyKind, Product, Warehouse

SALES_REP_ROLES = ("sales", "sales_manager")
REGISTRANT_KINDS = (PartyKind.MANUFACTURER, PartyKind.SUPPLIER)


def party_list_visible_to(*, user, action: str = "view") -> QuerySet[Party]:
    """Parties the user may see: all for managers and back office, the assigned ones for a sales rep."""
    return restrict(Party.objects.select_related("province", "sales_rep"), user, action)


def party_get(*, user, pk: int, action: str = "view") -> Party:
    return object_get_for(party_list_visible_to(user=user, action=action), user, action, pk=pk)


def sales_rep_candidates():
    """The users a party can be assigned to: active users in the sales or sales-manager role.

    Only holders of ``masterdata.change_all_party`` assign parties (form and API alike)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=SALES_REP_ROLES)
        .distinct()
        .order_by("username")
    )


def registrant_list_visible_to(*, user) -> QuerySet[Party]:
    """The parties a product's registrant may be chosen from: manufacturers and suppliers the user sees."""
    return party_list_visible_to(user=user).filter(kind__in=REGISTRANT_KINDS).select_related(None).order_by("code")


def product_list_visible_to(*, user, action: str = "view") -> QuerySet[Product]:
    return restrict(Product.objects.select_related("registrant"), user, action)


def product_get(*, user, pk: int, action: str = "view") -> Product:
    return object_get_for(product_list_visible_to(user=user, action=action), user, action, pk=pk)


def product_find_by_gtin(*, gtin: str) -> Product | None:
    from masterdata.validators import normalise_gtin

    return Product.objects.filter(udi_di=normalise_gtin(gtin)).first()


def warehouse_list_visible_to(*, user, action: str = "view") -> QuerySet[Warehouse]:
    return restrict(Warehouse.objects.select_related("province"), user, action)


def warehouse_get(*, user, pk: int, action: str = "view") -> Warehouse:
    return object_get_for(warehouse_list_visible_to(user=user, action=action), user, action, pk=pk)
