from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.kernel.api import IDEMPOTENCY_PARAMETER, BaseViewSet
from erp.kernel.api_errors import ErrorSerializer
from orders import selectors, services
from orders.api.serializers import (
    CancelInputSerializer,
    OrderInputSerializer,
    OrderListSerializer,
    OrderOutputSerializer,
    TransitionInputSerializer,
)
from orders.filters import OrderFilterSet
from orders.models import SalesOrder, SalesOrderLine

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _create(*, user, **data) -> services.OrderSaveResult:
    """The answer is written from the result (lines and events in hand, no read-back)."""
    return services.order_create_from_input(user=user, data=OrderInputSerializer.order_input(data))


def _update(*, instance, user, **data) -> SalesOrder:
    """The answer re-reads the order (``_output``)."""
    return services.order_update_from_input(
        order=instance, user=user, data=OrderInputSerializer.order_input(data)
    ).order


@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OrderInputSerializer,
        responses={201: OrderOutputSerializer, 422: ErrorSerializer, **ERRORS},
    ),
    update=extend_schema(request=OrderInputSerializer, responses={200: OrderOutputSerializer, **ERRORS}),
    partial_update=extend_schema(request=OrderInputSerializer, responses={200: OrderOutputSerializer, **ERRORS}),
    list=extend_schema(responses={200: OrderListSerializer(many=True)}),
    retrieve=extend_schema(responses={200: OrderOutputSerializer, 404: ErrorSerializer}),
)
class OrderViewSet(BaseViewSet):
    """Sales orders with nested lines; each carries its open exception events. Reps see their own."""

    queryset = SalesOrder.objects.select_related("customer", "ship_to", "warehouse", "sales_rep").prefetch_related(
        selectors._open_events(),
        Prefetch("lines", queryset=SalesOrderLine.objects.select_related("product").order_by("line_no")),
    )
    serializer_class = OrderOutputSerializer
    input_serializer_class = OrderInputSerializer
    filterset_class = OrderFilterSet
    code_field = "number"
    ordering_fields = ["number", "created_at", "requested_delivery_date", "gross_amount", "status"]
    ordering = ["-created_at", "-id"]
    search_fields = ["number", "customer_po", "customer__code", "customer__name"]
    create_service = staticmethod(_create)
    update_service = staticmethod(_update)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # The list carries no lines: drop that prefetch.
            queryset = queryset.prefetch_related(None).prefetch_related(selectors._open_events())
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return OrderListSerializer
        if self.action == "cancel":
            return CancelInputSerializer
        if self.action in ("submit", "approve", "close"):
            return TransitionInputSerializer
        return super().get_serializer_class()

    def _transition(self, request, service, serializer_class=TransitionInputSerializer):
        order = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = self._call(service, order=order, user=request.user, **serializer.validated_data)
        return self._output(order, status.HTTP_200_OK)

    def _output(self, instance, status_code: int) -> Response:
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(OrderOutputSerializer(instance, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
        description="Submit a draft for approval. Refused with code `order_held` while a blocking event is open.",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(request, services.order_submit)

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
        description="Approve a submitted order (sales managers). Refused with `order_held` while held.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(request, services.order_approve)

    @extend_schema(
        request=CancelInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
        description="Cancel an order not yet allocated; a reason is required.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, services.order_cancel, CancelInputSerializer)

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
        description="Close an approved (short-close), delivered or invoiced order.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, services.order_close)
