from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.kernel.access import restrict
from erp.kernel.api import IDEMPOTENCY_PARAMETER, BaseViewSet, NumericLookupMixin
from erp.kernel.api_errors import ErrorSerializer
from erp.kernel.errors import DomainError
from orders.selectors import order_list_visible_to
from traceability import selectors, services
from traceability.api import serializers as s
from traceability.exports import trace_csv_response
from traceability.models import (
    Allocation,
    CustomerReturn,
    CustomerReturnLine,
    Excursion,
    Lot,
    RecallScopeJob,
    Receipt,
    SerialUnit,
    Shipment,
    ShipmentLine,
    ShipmentSerial,
    StockOperation,
    TemperatureReading,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class _ReadOnlyRestricted(
    NumericLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reads through ``restrict`` (the one row-level choke point); writes are actions calling services."""

    def get_queryset(self):

        return restrict(super().get_queryset(), self.request.user, "view")

    @staticmethod
    def _call(service, **kwargs):
        return BaseViewSet._call(service, **kwargs)


def _receipt_create(*, user, inspection=None, **data):
    return services.receipt_create_with_scans(user=user, inspection=inspection, **data)


@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.ReceiptInputSerializer,
        responses={201: s.ReceiptSerializer, 422: ErrorSerializer, **ERRORS},
        description="Open a receipt and receive up to 20,000 scans in one request (all or nothing).",
    ),
)
class ReceiptViewSet(BaseViewSet):
    """Receipts from suppliers; their lines are the incoming-inspection record."""

    queryset = Receipt.objects.select_related("supplier", "warehouse")
    serializer_class = s.ReceiptSerializer
    input_serializer_class = s.ReceiptInputSerializer
    code_field = "number"
    filterset_fields = ["status", "supplier", "warehouse"]
    search_fields = ["number", "supplier_name"]
    ordering_fields = ["created_at", "number"]
    http_method_names = ["get", "post", "head", "options"]
    create_service = staticmethod(_receipt_create)

    def get_serializer_class(self):
        if self.action == "scans":
            return s.ScansInputSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.ScansInputSerializer, responses={200: s.ScanBatchSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def scans(self, request, pk=None):
        """Add scans to an open receipt; with ``atomic`` false the good ones are kept and the bad listed."""
        receipt = self.get_object()
        data = s.ScansInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        defaults = data.validated_data.get("inspection") or {}
        result = self._call(
            services.receipt_scans_receive,
            receipt=receipt,
            user=request.user,
            scans=[{**defaults, "raw": raw} for raw in data.validated_data["scans"]],
            atomic=data.validated_data["atomic"],
        )
        return Response({"accepted": len(result.accepted), "refused": [o.as_dict() for o in result.refused]})

    @extend_schema(request=None, responses={200: s.ReceiptSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        receipt = self._call(services.receipt_complete, receipt=self.get_object(), user=request.user)
        return Response(s.ReceiptSerializer(receipt).data)

    @extend_schema(responses={200: s.ReceiptLineSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        receipt = self.get_object()
        page = self.paginate_queryset(receipt.lines.select_related("product").order_by("line_no"))
        return self.get_paginated_response(s.ReceiptLineSerializer(page, many=True).data)


class LotViewSet(_ReadOnlyRestricted):
    """Lots with their status; trace forward/backward, CSV export, status changes (signed)."""

    queryset = Lot.objects.select_related("product")
    serializer_class = s.LotSerializer
    filterset_fields = ["product", "status", "lot_number", "supplier"]
    search_fields = ["lot_number", "product__sku"]
    ordering_fields = ["expiry_date", "created_at", "lot_number"]

    @extend_schema(responses={200: OpenApiResponse(description="forward and backward trace")})
    @action(detail=True, methods=["get"])
    def trace(self, request, pk=None):
        """Where the lot went (customers, shipments, stock per warehouse) and where it came from."""
        lot = self.get_object()
        return Response(
            {
                "forward": selectors.trace_forward(lot=lot, user=request.user),
                "backward": selectors.trace_backward(lot=lot),
            }
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV of every hop")})
    @action(detail=True, methods=["get"], url_path="trace-csv")
    def trace_csv(self, request, pk=None):
        lot = self.get_object()
        return trace_csv_response(lot=lot, filename=f"trace-{lot.product_id}-{lot.lot_number}.csv", user=request.user)

    @extend_schema(request=s.LotStatusInputSerializer, responses={200: s.LotSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="status")
    def status_change(self, request, pk=None):
        """Release, hold, reject or recall a lot (release and reject need the password again)."""
        lot = self.get_object()
        data = s.LotStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = self._call(services.lot_status_set, lot=lot, user=request.user, **data.validated_data)
        return Response(s.LotSerializer(lot).data)


class SerialUnitViewSet(_ReadOnlyRestricted):
    queryset = SerialUnit.objects.select_related("lot")
    serializer_class = s.SerialUnitSerializer
    filterset_fields = ["product", "lot", "status", "warehouse", "serial"]
    search_fields = ["serial"]

    @extend_schema(responses={200: OpenApiResponse(description="forward and backward trace")})
    @action(detail=True, methods=["get"])
    def trace(self, request, pk=None):
        unit = self.get_object()
        return Response(
            {
                "forward": selectors.trace_forward(serial=unit, user=request.user),
                "backward": selectors.trace_backward(serial=unit),
            }
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV of every hop of the unit")})
    @action(detail=True, methods=["get"], url_path="trace-csv")
    def trace_csv(self, request, pk=None):
        unit = self.get_object()
        return trace_csv_response(serial=unit, filename=f"trace-{unit.product_id}-{unit.serial}.csv", user=request.user)


class AllocationViewSet(_ReadOnlyRestricted):
    """Reservations of lots for order lines; ``allocate`` reserves an approved order's open quantities."""

    queryset = Allocation.objects.select_related("lot")
    serializer_class = s.AllocationSerializer
    filterset_fields = ["order_line__order", "lot", "status"]

    def get_serializer_class(self):
        return s.AllocateInputSerializer if self.action == "allocate" else s.AllocationSerializer

    @extend_schema(request=s.AllocateInputSerializer, responses={200: s.AllocationResultSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def allocate(self, request):
        data = s.AllocateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)

        order = data.validated_data["order"]
        if not order_list_visible_to(user=request.user).filter(pk=order.pk).exists():
            raise DomainError(code="not_found", status_code=404)
        result = self._call(services.order_allocate, order=order, user=request.user)
        return Response(s.AllocationResultSerializer(result).data)


@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.ShipmentInputSerializer,
        responses={201: s.ShipmentSerializer, **ERRORS},
    )
)
class ShipmentViewSet(BaseViewSet):
    """Shipments: picked from an order's reservations, dispatched, tracked, signed for."""

    queryset = Shipment.objects.select_related("order").prefetch_related(
        Prefetch(
            "lines",
            queryset=ShipmentLine.objects.order_by("id").prefetch_related(
                Prefetch("serials", queryset=ShipmentSerial.objects.select_related("serial_unit"))
            ),
        )
    )
    serializer_class = s.ShipmentSerializer
    input_serializer_class = s.ShipmentInputSerializer
    code_field = "number"
    filterset_fields = ["status", "order", "customer", "warehouse", "tracking_number"]
    search_fields = ["number", "tracking_number"]
    http_method_names = ["get", "post", "head", "options"]

    @staticmethod
    def create_service(*, user, order, serials=None):
        return services.shipment_create(order=order, user=user, serials={int(k): v for k, v in (serials or {}).items()})

    def _reply(self, shipment, code=status.HTTP_200_OK):
        return Response(s.ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data, status=code)

    @extend_schema(request=s.DispatchInputSerializer, responses={200: s.ShipmentSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_shipment(self, request, pk=None):
        """Hand the picked shipment to the carrier: stock leaves, trace edges are written."""
        shipment = self.get_object()
        data = s.DispatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._reply(
            self._call(services.shipment_dispatch, shipment=shipment, user=request.user, **data.validated_data)
        )

    @extend_schema(request=s.LogisticsEventInputSerializer, responses={200: s.ShipmentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def events(self, request, pk=None):
        """A logistics event from the TMS (idempotent on ``external_id``) or a person."""
        shipment = self.get_object()
        data = s.LogisticsEventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self._call(services.shipment_event_record, shipment=shipment, user=request.user, **data.validated_data)
        return self._reply(shipment)

    @extend_schema(request=s.SignInputSerializer, responses={200: s.ShipmentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Proof of delivery: who signed, when, and discrepancies per line."""
        shipment = self.get_object()
        data = s.SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self._call(services.shipment_sign, shipment=shipment, user=request.user, **data.validated_data)
        return self._reply(shipment)


@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.CustomerReturnInputSerializer,
        responses={201: s.CustomerReturnSerializer, **ERRORS},
        description="Receive units of a dispatched shipment back from its consignee; the stock awaits release.",
    ),
)
class CustomerReturnViewSet(BaseViewSet):
    """Customer returns against a shipment: the units go to the returns zone, not allocatable until
    quality releases them."""

    queryset = CustomerReturn.objects.select_related("shipment").prefetch_related(
        Prefetch("lines", queryset=CustomerReturnLine.objects.select_related("lot").order_by("id"))
    )
    serializer_class = s.CustomerReturnSerializer
    input_serializer_class = s.CustomerReturnInputSerializer
    code_field = "number"
    filterset_fields = ["shipment", "customer", "warehouse"]
    search_fields = ["number"]
    ordering_fields = ["created_at", "number"]
    http_method_names = ["get", "post", "head", "options"]
    create_service = staticmethod(services.shipment_return)


class TemperatureReadingViewSet(mixins.CreateModelMixin, _ReadOnlyRestricted):
    """Temperature readings; ``POST`` uploads many readings of one shipment or cold store at once."""

    queryset = TemperatureReading.objects.all()
    serializer_class = s.TemperatureReadingSerializer
    filterset_fields = ["shipment", "warehouse", "probe"]

    def get_serializer_class(self):
        return s.ReadingsInputSerializer if self.action == "create" else s.TemperatureReadingSerializer

    @extend_schema(request=s.ReadingsInputSerializer, responses={201: s.ReadingsResultSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        data = s.ReadingsInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        result = self._call(
            services.temperature_readings_record,
            user=request.user,
            shipment=data.validated_data.get("shipment"),
            warehouse=data.validated_data.get("warehouse"),
            readings=data.validated_data["readings"],
        )
        return Response(s.ReadingsResultSerializer(result).data, status=status.HTTP_201_CREATED)


class RecallScopeViewSet(mixins.CreateModelMixin, _ReadOnlyRestricted):
    """Recall scope: ``POST`` answers at once (200) for small scopes, else queues a job (202) whose
    progress and result are read with ``GET``."""

    queryset = RecallScopeJob.objects.all()
    serializer_class = s.RecallScopeJobSerializer

    def get_serializer_class(self):
        return s.RecallScopeInputSerializer if self.action == "create" else s.RecallScopeJobSerializer

    @extend_schema(
        request=s.RecallScopeInputSerializer,
        responses={200: OpenApiResponse(description="the scope"), 202: s.RecallScopeJobSerializer, **ERRORS},
    )
    def create(self, request, *args, **kwargs):
        data = s.RecallScopeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = self._call(services.recall_scope_request, user=request.user, criteria=data.validated_data)
        if isinstance(result, RecallScopeJob):
            return Response(s.RecallScopeJobSerializer(result).data, status=status.HTTP_202_ACCEPTED)
        return Response(result)


class ExcursionViewSet(_ReadOnlyRestricted):
    """Temperature excursions; ``acknowledge`` (quality staff, comment required) closes an ended one."""

    queryset = Excursion.objects.prefetch_related("lots")
    serializer_class = s.ExcursionSerializer
    filterset_fields = ["status", "kind", "shipment", "warehouse"]
    ordering_fields = ["started_at"]

    def get_serializer_class(self):
        return s.ExcursionAcknowledgeInputSerializer if self.action == "acknowledge" else s.ExcursionSerializer

    @extend_schema(request=s.ExcursionAcknowledgeInputSerializer, responses={200: s.ExcursionSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge with a comment; an excursion still in progress is acknowledged but not closed."""
        excursion = self.get_object()
        data = s.ExcursionAcknowledgeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        excursion = self._call(
            services.excursion_acknowledge, excursion=excursion, user=request.user, **data.validated_data
        )
        return Response(s.ExcursionSerializer(self.get_queryset().get(pk=excursion.pk)).data)


class StockOperationViewSet(_ReadOnlyRestricted):
    """Transfers, adjustments and scrappings: ``POST`` to ``transfer``, ``adjust`` or ``scrap``; each
    writes the ledger and balances in one transaction, or nothing with the one error shape."""

    queryset = StockOperation.objects.all()
    serializer_class = s.StockOperationSerializer
    filterset_fields = ["kind", "product", "lot", "from_warehouse", "to_warehouse"]
    ordering_fields = ["created_at"]
    inputs = {
        "transfer": (s.StockTransferInputSerializer, services.stock_transfer),
        "adjust": (s.StockAdjustInputSerializer, services.stock_adjust),
        "scrap": (s.StockScrapInputSerializer, services.stock_scrap),
    }

    def get_serializer_class(self):
        return self.inputs[self.action][0] if self.action in self.inputs else s.StockOperationSerializer

    def _run(self, request):
        serializer_class, service = self.inputs[self.action]
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        operation = self._call(service, user=request.user, **data.validated_data)
        return Response(s.StockOperationSerializer(operation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.StockTransferInputSerializer, responses={201: s.StockOperationSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Move released stock of a lot to another warehouse (cold chain only into cold storage)."""
        return self._run(request)

    @extend_schema(request=s.StockAdjustInputSerializer, responses={201: s.StockOperationSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        """Correct on-hand stock after a count; never below zero or below what is reserved."""
        return self._run(request)

    @extend_schema(request=s.StockScrapInputSerializer, responses={201: s.StockOperationSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def scrap(self, request):
        """Write off unsellable stock (serialised products name their units)."""
        return self._run(request)
