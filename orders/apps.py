from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Sales orders")

    def ready(self):
        from exceptions_center.facts_registry import fact_providers_port, open_sources_port
        from orders import facts

        fact_providers_port.register(facts.ORDER_FACTS, app="orders", key="order.saved", order=10)
        open_sources_port.register(facts.open_orders, app="orders", key="order.saved")
