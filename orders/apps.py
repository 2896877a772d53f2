from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Sales orders")

    def ready(self) -> None:
        from exceptions_center.visibility import source_visibility
        from orders.selectors import order_ids_visible_to

        source_visibility.register(order_ids_visible_to, app="orders", key="orders.salesorder")
