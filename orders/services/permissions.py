"""Who may change or approve an order, and the sales rep's object permissions on it."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import PermissionDenied
from orders.models import SalesOrder, SalesOrderUserObjectPermission

ORDER_REP_PERMISSIONS = ("view_salesorder", "change_salesorder")


def order_can_change(*, user, order: SalesOrder) -> bool:
    """A user may change an order when they hold ``change_all_salesorder`` or are granted it on this order
    (the sales rep's object permission)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.has_perm("orders.change_all_salesorder"):
        return True
    return user.has_perm("orders.change_salesorder") and user.has_perm("orders.change_salesorder", order)


def order_can_approve(*, user, order: SalesOrder) -> bool:
    """Approving needs ``approve_salesorder`` (sales managers) and sight of the order."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.has_perm("orders.approve_salesorder"):
        return False
    return user.has_perm("orders.view_all_salesorder") or user.has_perm("orders.view_salesorder", order)


def order_change_check(user, order: SalesOrder) -> None:
    """Refuse (``PermissionDenied``) a user who may not change this order."""
    if not order_can_change(user=user, order=order):
        raise PermissionDenied(_("You may not change this order."))


def order_rep_grant(order: SalesOrder, rep) -> None:
    """Give the order's sales rep view/change object permissions (direct FK table, two queries)."""
    if rep is None:
        return
    perms = Permission.objects.filter(content_type__app_label="orders", codename__in=ORDER_REP_PERMISSIONS)
    SalesOrderUserObjectPermission.objects.bulk_create(
        [SalesOrderUserObjectPermission(user=rep, permission=p, content_object=order) for p in perms],
        ignore_conflicts=True,
    )


def order_rep_revoke(order: SalesOrder, rep_id: int) -> None:
    """Take the former rep's view/change object permissions on the order away."""
    SalesOrderUserObjectPermission.objects.filter(
        content_object=order, user_id=rep_id, permission__codename__in=ORDER_REP_PERMISSIONS
    ).delete()
