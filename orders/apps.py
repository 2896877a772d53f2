from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def order_owner_ids(order_id: int) -> set[int]:
    """Who owns an order, so may not decide its exceptions: its creator, its sales rep and the customer's
    sales rep (exceptions_center.policy, segregation of duties)."""
    from orders.models import SalesOrder

    row = SalesOrder.objects.filter(pk=order_id).values_list("created_by_id", "sales_rep_id", "customer__sales_rep_id")
    return {pk for pk in (row.first() or ()) if pk}


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Sales orders")

    def ready(self) -> None:
        from exceptions_center.policy import source_owners

        source_owners.register(order_owner_ids, app="orders", key="orders.salesorder")
