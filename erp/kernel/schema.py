"""The OpenAPI schema class of the project (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

It documents what the shared viewsets do for every app, so no app has to repeat it: the
``X-Change-Reason`` header on the create and update operations whose service records a reason, and
the error answers every operation can give, all in the one error shape (``ErrorSerializer``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

# Every operation can answer these (docs/api.md, "Errors"); an operation's own description wins.
ERROR_RESPONSES = {
    "400": "Bad input (field errors in `fields`, or a body, query or header that cannot be read); nothing saved.",
    "401": "No or bad credentials.",
    "403": "Your role may not do this.",
    "404": "No such row, or not yours to see.",
    "409": "The row changed meanwhile or is locked by another request; read it again and retry.",
    "413": "The request body is too large.",
    "429": "Too many requests; wait and retry.",
}


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

    def _get_response_bodies(self, direction="response"):
        from erp.kernel.api_errors import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, description in ERROR_RESPONSES.items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(
                        OpenApiResponse(ErrorSerializer, description=description), code, direction=direction
                    )
        return responses
