from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self) -> None:
        # Ports of lower layers this app fills in (``manage.py erp_ports`` lists them all).
        from exceptions_center.facts_registry import fact_providers_port
        from orders.lifecycle import lifecycle_listeners
        from traceability import facts, selectors
        from traceability.services.allocation import order_lifecycle_follow

        lifecycle_listeners.register(order_lifecycle_follow, app=self.label)
        selectors.register()
        # After orders' own facts (order=10): the stock facts extend each order line.
        fact_providers_port.register(facts.ORDER_STOCK_FACTS, app=self.label, key="order.saved", order=20)
        fact_providers_port.register(facts.SHIPMENT_FACTS, app=self.label, key="shipment.updated")
        fact_providers_port.register(facts.TEMPERATURE_FACTS, app=self.label, key="temperature.logged")
        fact_providers_port.register(facts.STOCK_SCAN_FACTS, app=self.label, key="stock.scan")
        fact_providers_port.register(facts.LOT_FACTS, app=self.label, key="lot.status_changed")
