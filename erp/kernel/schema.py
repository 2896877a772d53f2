"""The OpenAPI schema class of the project (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

It documents what the shared viewsets do for every app, so no app has to repeat it: the
``X-Change-Reason`` header on the create and update operations whose service records a reason.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self):
        # Imported here: DRF loads this class while erp.kernel.api is still importing its views.
        from erp.kernel.api import CHANGE_REASON_PARAMETER, ServiceModelViewSet, records_change_reason

        parameters = super().get_override_parameters()
        view = self.view
        if isinstance(view, ServiceModelViewSet) and self.method in ("POST", "PUT", "PATCH"):
            service = view.service_for(getattr(view, "action", None))
            input_class = view.input_serializer_class or view.serializer_class
            if records_change_reason(service, input_class):
                parameters = [*parameters, CHANGE_REASON_PARAMETER]
        return parameters
