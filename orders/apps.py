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
        # Ports of lower layers this app fills in (``manage.py erp_ports`` lists them all).
        from exceptions_center.facts_registry import fact_providers_port
        from exceptions_center.models import TriggerEvent
        from exceptions_center.policy import source_owners
        from exceptions_center.ports import (
            TriggerSources,
            fact_value_labels,
            hold_refreshers,
            source_pages,
            trigger_sources,
        )
        from exceptions_center.visibility import source_visibility
        from orders import facts, services
        from orders.models import OPEN_STATUSES
        from orders.selectors import order_ids_visible_to

        label = "orders.salesorder"
        sources = TriggerSources(label, open_filter=(("status__in", tuple(str(s) for s in OPEN_STATUSES)),))
        trigger_sources.register(sources, app=self.label, key=TriggerEvent.ORDER_SAVED)
        hold_refreshers.register(services.order_hold_refresh, app=self.label, key=label)
        source_pages.register("orders:order_detail", app=self.label, key=label)
        fact_value_labels.register(facts.fact_value_labels, app=self.label)
        source_visibility.register(order_ids_visible_to, app=self.label, key=label)
        fact_providers_port.register(facts.ORDER_FACTS, app=self.label, key=TriggerEvent.ORDER_SAVED, order=10)
        source_owners.register(order_owner_ids, app=self.label, key=label)
