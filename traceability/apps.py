from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self):
        from exceptions_center.facts_registry import fact_providers_port
        from traceability import facts

        # After orders' own facts (order=10): the stock facts extend each order line.
        fact_providers_port.register(facts.ORDER_STOCK_FACTS, app="traceability", key="order.saved", order=20)
        fact_providers_port.register(facts.SHIPMENT_FACTS, app="traceability", key="shipment.updated")
        fact_providers_port.register(facts.TEMPERATURE_FACTS, app="traceability", key="temperature.logged")
        fact_providers_port.register(facts.STOCK_SCAN_FACTS, app="traceability", key="stock.scan")
        fact_providers_port.register(facts.LOT_FACTS, app="traceability", key="lot.status_changed")
