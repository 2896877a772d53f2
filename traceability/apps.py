from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self) -> None:
        # Ports of lower layers this app fills in (``manage.py erp_ports`` lists them all).
        from orders.lifecycle import lifecycle_listeners
        from traceability import selectors
        from traceability.services.allocation import order_lifecycle_follow

        lifecycle_listeners.register(order_lifecycle_follow, app=self.label)
        selectors.register()
