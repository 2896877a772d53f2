"""Admin for traceability: a read-only window on lots, serials, receipts, the ledger, shipments and
the cold chain. Everything that changes stock or a record kept for the regulator goes through the
services (receiving, lot status with signature, allocation, shipments, customer returns, stock
operations, excursion acknowledgement), never through an admin form; only the MA/AHM identifier → product mapping is
edited here. History views are read only (no revert)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from erp.kernel.admin import HistoryReadOnlyMixin
from traceability.models import (
    Allocation,
    CustomerReturn,
    CustomerReturnLine,
    Excursion,
    LogisticsEvent,
    Lot,
    ProductIdentifier,
    ProofOfDelivery,
    Receipt,
    ReceiptLine,
    SerialUnit,
    Shipment,
    ShipmentLine,
    StockBalance,
    StockMove,
    StockOperation,
    TemperatureReading,
)


class ReadOnlyMixin:
    """View only: no add, change or delete, whoever asks (superusers included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """For rows without history (the ledger, readings, events): view only."""

    show_full_result_count = False


class ReadOnlyHistoryAdmin(ReadOnlyMixin, HistoryReadOnlyMixin, SimpleHistoryAdmin):
    """For rows with history: view only, and the history can be read but never reverted."""

    show_full_result_count = False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = False


@admin.register(Lot)
class LotAdmin(ReadOnlyHistoryAdmin):
    list_display = ("lot_number", "product", "status", "production_date", "expiry_date", "supplier", "created_at")
    list_filter = ("status", "issuer", ("expiry_date", admin.DateFieldListFilter))
    search_fields = ("lot_number", "product__sku", "product__name_zh")
    list_select_related = ("product", "supplier")
    date_hierarchy = "created_at"


@admin.register(SerialUnit)
class SerialUnitAdmin(ReadOnlyHistoryAdmin):
    list_display = ("serial", "product", "lot", "status", "warehouse", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("serial", "lot__lot_number", "product__sku")
    list_select_related = ("product", "lot", "warehouse")


class ReceiptLineInline(ReadOnlyInline):
    model = ReceiptLine
    fields = ("line_no", "product", "lot_number", "serial", "quantity", "expiry_date", "registration_number")
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "supplier_name", "warehouse", "status", "purchase_date", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("number", "supplier_name", "purchase_order_ref")
    list_select_related = ("warehouse",)
    date_hierarchy = "created_at"
    inlines = [ReceiptLineInline]


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ("warehouse", "product", "lot", "on_hand", "reserved", "quarantined", "available", "updated_at")
    list_filter = ("warehouse",)
    search_fields = ("lot__lot_number", "product__sku")
    list_select_related = ("warehouse", "product", "lot")


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    """The ledger is append-only: no add, change or delete here (corrections are new moves)."""

    list_display = (
        "id",
        "created_at",
        "kind",
        "product",
        "lot",
        "serial",
        "warehouse",
        "on_hand_delta",
        "reserved_delta",
        "quarantined_delta",
        "document_ref",
        "user",
    )
    list_filter = ("kind", "warehouse", "document_type")
    search_fields = ("document_ref", "lot__lot_number", "serial__serial")
    list_select_related = ("product", "lot", "serial", "warehouse", "user")


@admin.register(StockOperation)
class StockOperationAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "kind", "product", "lot", "from_warehouse", "to_warehouse", "quantity", "created_by")
    list_filter = ("kind",)
    search_fields = ("number", "lot__lot_number", "reason")
    list_select_related = ("product", "lot", "from_warehouse", "to_warehouse", "created_by")


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyHistoryAdmin):
    list_display = ("id", "order_number", "lot", "warehouse", "quantity", "status", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("order_line__order__number", "lot__lot_number")
    list_select_related = ("order_line__order", "lot", "warehouse")

    @admin.display(description=_("order"), ordering="order_line__order__number")
    def order_number(self, obj):
        return obj.order_line.order.number


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ("product_name", "lot_number", "expiry_date", "quantity", "registration_number", "amount")
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "number",
        "order",
        "customer",
        "warehouse",
        "status",
        "carrier",
        "tracking_number",
        "dispatched_at",
        "expected_arrival_at",
        "is_cold_chain",
    )
    list_filter = ("status", "is_cold_chain", "warehouse")
    search_fields = ("number", "tracking_number", "order__number", "customer__name")
    list_select_related = ("order", "customer", "warehouse")
    date_hierarchy = "created_at"
    inlines = [ShipmentLineInline]


class CustomerReturnLineInline(ReadOnlyInline):
    model = CustomerReturnLine
    fields = ("shipment_line", "lot", "quantity", "serials")
    readonly_fields = fields


@admin.register(CustomerReturn)
class CustomerReturnAdmin(ReadOnlyHistoryAdmin):
    """Received on the shipment page or through the API; the stock awaits release on the lot page."""

    list_display = ("number", "shipment", "customer", "warehouse", "reason", "received_by", "created_at")
    list_filter = ("warehouse",)
    search_fields = ("number", "shipment__number", "customer__name", "reason")
    list_select_related = ("shipment", "customer", "warehouse", "received_by")
    date_hierarchy = "created_at"
    inlines = [CustomerReturnLineInline]


@admin.register(LogisticsEvent)
class LogisticsEventAdmin(ReadOnlyAdmin):
    list_display = ("shipment", "status", "place", "occurred_at", "source", "external_id")
    list_filter = ("status", "source")
    search_fields = ("shipment__number", "external_id", "place")
    list_select_related = ("shipment",)


@admin.register(ProofOfDelivery)
class ProofOfDeliveryAdmin(ReadOnlyHistoryAdmin):
    list_display = ("shipment", "signed_by", "signed_at", "has_discrepancy")
    search_fields = ("shipment__number", "signed_by")
    list_select_related = ("shipment",)

    @admin.display(boolean=True, description=_("discrepancy"))
    def has_discrepancy(self, obj):
        return obj.has_discrepancy


@admin.register(TemperatureReading)
class TemperatureReadingAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "probe", "celsius", "shipment", "warehouse")
    list_filter = ("warehouse",)
    search_fields = ("probe", "shipment__number")
    list_select_related = ("shipment", "warehouse")


@admin.register(Excursion)
class ExcursionAdmin(ReadOnlyHistoryAdmin):
    """Acknowledged on the lot or shipment page or through the API (comment, quality role)."""

    list_display = ("started_at", "ended_at", "kind", "status", "probe", "shipment", "warehouse", "max_celsius")
    list_filter = ("status", "kind", "warehouse")
    search_fields = ("probe", "shipment__number", "comment")
    list_select_related = ("shipment", "warehouse")


@admin.register(ProductIdentifier)
class ProductIdentifierAdmin(HistoryReadOnlyMixin, SimpleHistoryAdmin):
    """The MA / AHM device identifiers that map a non-GS1 scan to a product (reference data)."""

    list_display = ("di", "issuer", "product")
    list_filter = ("issuer",)
    search_fields = ("di", "product__sku", "product__name_zh")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
