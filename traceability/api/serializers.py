from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.kernel.access import restrict
from erp.kernel.api_fields import VisiblePrimaryKeyRelatedField
from masterdata.models import Party, Product, Warehouse
from orders.models import SalesOrder
from traceability.models import (
    Allocation,
    CustomerReturn,
    CustomerReturnLine,
    Excursion,
    Lot,
    LotStatus,
    ProofOfDelivery,
    RecallScopeJob,
    Receipt,
    ReceiptLine,
    SerialUnit,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    StockOperation,
    TemperatureReading,
)

MAX_SCANS = 20000


@extend_schema_field(OpenApiTypes.INT)
class _VisibleIdField(VisiblePrimaryKeyRelatedField):
    """An id of a row the caller may see (``restrict``); hidden and missing ids get the same 400."""

    def __init__(self, model, **kwargs) -> None:
        super().__init__(queryset_for=lambda *, user: restrict(model.objects.all(), user, "view"), **kwargs)


class ReceiptLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = ReceiptLine
        fields = [
            "id",
            "line_no",
            "product",
            "sku",
            "lot",
            "lot_number",
            "serial",
            "quantity",
            "product_name",
            "model_spec",
            "registration_number",
            "registrant_name",
            "registrant_licence",
            "manufacturer_name",
            "manufacturer_licence",
            "production_date",
            "expiry_date",
            "purchase_date",
            "supplier_name",
            "supplier_address",
            "supplier_contact",
            "raw_scan",
            "issuer",
            "raw_ai",
            "warnings",
            "created_at",
        ]
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer):
    line_count = serializers.SerializerMethodField()
    quantity = serializers.SerializerMethodField()

    class Meta:
        model = Receipt
        fields = [
            "id",
            "number",
            "supplier",
            "warehouse",
            "purchase_date",
            "purchase_order_ref",
            "supplier_name",
            "supplier_address",
            "supplier_contact",
            "transport_temperature_ok",
            "status",
            "created_at",
            "completed_at",
            "line_count",
            "quantity",
        ]
        read_only_fields = fields

    def get_line_count(self, obj) -> int:
        return obj.lines.count()

    def get_quantity(self, obj) -> int:
        from django.db.models import Sum

        return obj.lines.aggregate(n=Sum("quantity"))["n"] or 0


class InspectionSerializer(serializers.Serializer):
    registration_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    registrant_licence = serializers.CharField(max_length=60, required=False, allow_blank=True)
    manufacturer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    manufacturer_licence = serializers.CharField(max_length=60, required=False, allow_blank=True)


class ReceiptInputSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all())
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.filter(is_active=True))
    purchase_date = serializers.DateField(required=False, allow_null=True)
    purchase_order_ref = serializers.CharField(max_length=60, required=False, allow_blank=True)
    transport_temperature_ok = serializers.BooleanField(required=False, allow_null=True, default=None)
    inspection = InspectionSerializer(required=False, help_text="Defaults for every scan (from the delivery note).")
    scans = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=500),
        required=False,
        max_length=MAX_SCANS,
        help_text="Raw scans exactly as the scanner sent them (FNC1 as \\u001d or the configured placeholder).",
    )


class ScansInputSerializer(serializers.Serializer):
    scans = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=500), max_length=MAX_SCANS, min_length=1
    )
    inspection = InspectionSerializer(required=False)
    atomic = serializers.BooleanField(
        default=True, help_text="Refuse the whole batch when one scan is refused (default)."
    )


class ScanOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    raw = serializers.CharField()
    ok = serializers.BooleanField()
    code = serializers.CharField()
    reason = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    product = serializers.CharField(allow_null=True)
    lot = serializers.CharField()
    serial = serializers.CharField()
    expiry_date = serializers.CharField(allow_null=True)
    line_id = serializers.IntegerField(allow_null=True)


class ScanBatchSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    refused = ScanOutcomeSerializer(many=True)


class LotSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    status_reason = serializers.CharField(
        source="status_reason_display", read_only=True, help_text="In the request's language when the system wrote it."
    )

    class Meta:
        model = Lot
        fields = [
            "id",
            "product",
            "sku",
            "lot_number",
            "production_date",
            "expiry_date",
            "supplier",
            "registrant",
            "status",
            "status_reason",
            "issuer",
            "udi_raw",
            "udi_ai",
            "created_at",
        ]
        read_only_fields = fields


class LotStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LotStatus.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        style={"input_type": "password"},
        help_text="Your password again: releasing and rejecting are signed electronically.",
    )


class SerialUnitSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)

    class Meta:
        model = SerialUnit
        fields = ["id", "product", "serial", "lot", "lot_number", "status", "warehouse", "location", "udi_raw"]
        read_only_fields = fields


class AllocationSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    expiry_date = serializers.DateField(source="lot.expiry_date", read_only=True)

    class Meta:
        model = Allocation
        fields = [
            "id",
            "order_line",
            "lot",
            "lot_number",
            "expiry_date",
            "warehouse",
            "quantity",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class AllocateInputSerializer(serializers.Serializer):
    order = _VisibleIdField(SalesOrder)


class ShortageSerializer(serializers.Serializer):
    line_no = serializers.IntegerField()
    sku = serializers.CharField()
    missing = serializers.IntegerField()
    reason = serializers.CharField()


class AllocationResultSerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    allocations = AllocationSerializer(many=True)
    shortages = ShortageSerializer(many=True)


class ShipmentLineSerializer(serializers.ModelSerializer):
    serials = serializers.SerializerMethodField()

    class Meta:
        model = ShipmentLine
        fields = [
            "id",
            "order_line",
            "product",
            "lot",
            "quantity",
            "product_name",
            "model_spec",
            "registration_number",
            "unit_price",
            "amount",
            "lot_number",
            "expiry_date",
            "sale_date",
            "registrant_name",
            "manufacturer_name",
            "buyer_name",
            "buyer_address",
            "buyer_contact",
            "buyer_licence",
            "serials",
        ]
        read_only_fields = fields

    def get_serials(self, obj) -> list[str]:
        return [s.serial_unit.serial for s in obj.serials.all()]


class ProofOfDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProofOfDelivery
        fields = ["signed_by", "signed_at", "discrepancies", "note"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "warehouse",
            "customer",
            "ship_to_address",
            "status",
            "carrier",
            "tracking_number",
            "dispatched_at",
            "expected_arrival_at",
            "delivered_at",
            "is_cold_chain",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class ShipmentInputSerializer(serializers.Serializer):
    order = _VisibleIdField(SalesOrder)
    serials = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=20)),
        required=False,
        help_text='Scanned serials by order line number, e.g. {"2": ["SN1", "SN2"]}.',
    )


class DispatchInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=80)
    tracking_number = serializers.CharField(max_length=60)
    expected_arrival_at = serializers.DateTimeField(required=False, allow_null=True)
    dispatched_at = serializers.DateTimeField(required=False, allow_null=True)


class LogisticsEventInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION]
    )
    occurred_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    source = serializers.CharField(max_length=20, required=False, default="tms")
    external_id = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class DiscrepancySerializer(serializers.Serializer):
    shipment_line = serializers.IntegerField()
    quantity_received = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class SignInputSerializer(serializers.Serializer):
    signed_by = serializers.CharField(max_length=100)
    signed_at = serializers.DateTimeField(required=False, allow_null=True)
    discrepancies = DiscrepancySerializer(many=True, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReadingSerializer(serializers.Serializer):
    probe = serializers.CharField(max_length=40)
    recorded_at = serializers.DateTimeField()
    celsius = serializers.DecimalField(max_digits=5, decimal_places=2)


class ReadingsInputSerializer(serializers.Serializer):
    shipment = _VisibleIdField(Shipment, required=False, allow_null=True)
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    readings = ReadingSerializer(many=True, min_length=1, max_length=MAX_SCANS)

    def validate(self, attrs):
        if bool(attrs.get("shipment")) == bool(attrs.get("warehouse")):
            raise serializers.ValidationError("Give either a shipment or a warehouse.")
        return attrs


class TemperatureReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemperatureReading
        fields = ["id", "shipment", "warehouse", "probe", "recorded_at", "celsius"]
        read_only_fields = fields


class ExcursionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Excursion
        fields = [
            "id",
            "kind",
            "shipment",
            "warehouse",
            "probe",
            "started_at",
            "ended_at",
            "min_celsius",
            "max_celsius",
            "range_min_c",
            "range_max_c",
            "lots",
            "status",
            "comment",
        ]
        read_only_fields = fields


class ReadingsResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
    excursions = ExcursionSerializer(many=True)


class RecallScopeInputSerializer(serializers.Serializer):
    lot_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    serial_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    product_id = serializers.IntegerField(required=False, allow_null=True)
    produced_from = serializers.DateField(required=False, allow_null=True)
    produced_to = serializers.DateField(required=False, allow_null=True)


class RecallScopeJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecallScopeJob
        fields = ["id", "criteria", "status", "progress", "lot_count", "result", "error", "created_at", "finished_at"]
        read_only_fields = fields


class ExcursionAcknowledgeInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, allow_blank=True, help_text="Required by the service.")


class StockOperationSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockOperation
        fields = [
            "id",
            "number",
            "kind",
            "product",
            "lot",
            "from_warehouse",
            "to_warehouse",
            "quantity",
            "reason",
            "serials",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class _StockInputSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.all())
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="Required by the service.")


class StockTransferInputSerializer(_StockInputSerializer):
    from_warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    to_warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    quantity = serializers.IntegerField(min_value=1)
    serials = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)


class StockAdjustInputSerializer(_StockInputSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    quantity_delta = serializers.IntegerField(help_text="Positive when more was counted, negative when less.")


class StockScrapInputSerializer(_StockInputSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    quantity = serializers.IntegerField(min_value=1)
    serials = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)


class CustomerReturnLineSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)

    class Meta:
        model = CustomerReturnLine
        fields = ["id", "shipment_line", "product", "lot", "lot_number", "quantity", "serials"]
        read_only_fields = fields


class CustomerReturnSerializer(serializers.ModelSerializer):
    shipment_number = serializers.CharField(source="shipment.number", read_only=True)
    lines = CustomerReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = CustomerReturn
        fields = [
            "id",
            "number",
            "shipment",
            "shipment_number",
            "customer",
            "warehouse",
            "reason",
            "received_by",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class CustomerReturnLineInputSerializer(serializers.Serializer):
    shipment_line = serializers.IntegerField(help_text="A line of the shipment.")
    quantity = serializers.IntegerField(min_value=1)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text="The returned units, for serialised products (exactly ``quantity`` of them).",
    )


class CustomerReturnInputSerializer(serializers.Serializer):
    shipment = _VisibleIdField(Shipment)
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Required by the service."
    )
    lines = CustomerReturnLineInputSerializer(many=True, min_length=1)
