"""Lots, serials, receipts, the stock ledger, allocations, shipments, cold chain and trace edges.

Every unit is traceable from the supplier's receipt to the customer who got it. The ledger
(``StockMove``) is append-only; ``StockBalance`` is its running total per (warehouse, product, lot),
kept in the same transaction and guarded by CHECK constraints so stock never goes negative.
``TraceEdge`` rows are written when moves post, so trace reads never walk the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from erp.kernel.messages import render_stored


class Issuer(models.TextChoices):
    GS1 = "gs1", _("GS1")
    MA = "ma", _("MA (IDcode)")
    AHM = "ahm", _("AHM (Alibaba Health)")
    HIBC = "hibc", _("HIBC")
    MANUAL = "manual", _("Manual entry")


class LotStatus(models.TextChoices):
    QUARANTINE = "quarantine", _("Quarantine (awaiting inspection)")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected (nonconforming)")
    ON_HOLD = "on_hold", _("On hold")
    RECALLED = "recalled", _("Recalled")


class Lot(models.Model):
    """A production lot of one product; only RELEASED, unexpired lots may be allocated or shipped."""

    product = models.ForeignKey(
        "masterdata.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="lots"
    )
    lot_number = models.CharField(_("lot number"), max_length=20)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True, db_index=True)
    supplier = models.ForeignKey(
        "masterdata.Party",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="supplied_lots",
        null=True,
        blank=True,
    )
    registrant = models.ForeignKey(
        "masterdata.Party",
        verbose_name=_("registrant"),
        on_delete=models.PROTECT,
        related_name="registered_lots",
        null=True,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=LotStatus.choices, default=LotStatus.QUARANTINE, db_index=True
    )
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    # A reason the system wrote (e.g. a temperature excursion's hold), as a message key
    # (erp.kernel.messages); empty when a person gave the reason, which stays as typed.
    status_reason_text = models.JSONField(_("status reason (message key)"), default=dict, blank=True)
    issuer = models.CharField(_("UDI issuer"), max_length=8, choices=Issuer.choices, default=Issuer.GS1)
    udi_raw = models.TextField(_("raw UDI (first scan)"), blank=True)
    udi_ai = models.JSONField(_("raw AI values (first scan)"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["product", "expiry_date", "lot_number"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        permissions = [("release_lot", _("Can release, reject, hold and recall lots"))]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="%(app_label)s_%(class)s_unique_number"),
            models.CheckConstraint(
                condition=models.Q(production_date__isnull=True)
                | models.Q(expiry_date__isnull=True)
                | models.Q(production_date__lte=models.F("expiry_date")),
                name="%(app_label)s_%(class)s_produced_before_expiry",
            ),
        ]
        indexes = [models.Index(fields=["lot_number"]), models.Index(fields=["product", "production_date"])]

    def __str__(self) -> str:
        return self.lot_number

    @property
    def status_reason_display(self) -> str:
        """Why the lot has its status, in the reader's language (a person's reason as typed)."""
        return render_stored(self.status_reason_text, fallback=self.status_reason)

    def is_expired(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.expiry_date is not None and self.expiry_date < on

    @property
    def is_allocatable(self) -> bool:
        return self.status == LotStatus.RELEASED and not self.is_expired()


class SerialStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    # Received into a lot that was already released: in the warehouse, awaiting its own inspection.
    QUARANTINE = "quarantine", _("Awaiting inspection")
    ALLOCATED = "allocated", _("Picked for a shipment")
    SHIPPED = "shipped", _("Shipped")
    # Back from a customer: in the warehouse's returns zone until quality releases it.
    RETURNED = "returned", _("Returned")
    SCRAPPED = "scrapped", _("Scrapped")


# Units in a warehouse that are not free stock until quality releases them (DOMAIN.md §4, yellow zones).
PENDING_SERIAL_STATUSES = (SerialStatus.QUARANTINE, SerialStatus.RETURNED)


def required_shelf_life_days(
    *,
    shelf_life_days: int | None,
    line_days: int | None,
    line_pct: int | None,
    party_minimums: Iterable[tuple[int | None, int | None]],
) -> int:
    """The minimum remaining shelf life an order line needs at delivery, in days.

    The line's own override (days and/or % of the product's total shelf life, the stricter of the two)
    replaces the parties' minimums; otherwise the strictest (days, %) of the customer and the ship-to
    party applies. Allocation (on rows) and the stock facts (on fact dicts) both ask this function.
    """

    def by_pct(pct: int | None) -> int:
        return math.ceil(shelf_life_days * pct / 100) if pct and shelf_life_days else 0

    if line_days is not None or line_pct is not None:
        return max(line_days or 0, by_pct(line_pct))
    return max([0, *(max(days or 0, by_pct(pct)) for days, pct in party_minimums)])


class SerialUnit(models.Model):
    """One serialised unit of a lot; ``warehouse`` says where it is while in stock."""

    product = models.ForeignKey(
        "masterdata.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="serial_units"
    )
    serial = models.CharField(_("serial number"), max_length=20)
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="serial_units")
    status = models.CharField(
        _("status"), max_length=10, choices=SerialStatus.choices, default=SerialStatus.IN_STOCK, db_index=True
    )
    warehouse = models.ForeignKey(
        "masterdata.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="serial_units",
        null=True,
        blank=True,
    )
    location = models.CharField(_("location / bin"), max_length=40, blank=True)
    receipt_line = models.ForeignKey(
        "ReceiptLine",
        verbose_name=_("receipt line"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    udi_raw = models.TextField(_("raw UDI"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "serial"]
        verbose_name = _("serial unit")
        verbose_name_plural = _("serial units")
        constraints = [
            models.UniqueConstraint(fields=["product", "serial"], name="%(app_label)s_%(class)s_unique_serial"),
        ]
        indexes = [models.Index(fields=["lot", "warehouse", "status"]), models.Index(fields=["serial"])]

    def __str__(self) -> str:
        return self.serial


class ProductIdentifier(models.Model):
    """A device identifier from a non-GS1 issuer (MA, AHM) that maps a scan to a product."""

    product = models.ForeignKey(
        "masterdata.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="other_identifiers"
    )
    issuer = models.CharField(_("issuer"), max_length=8, choices=Issuer.choices)
    di = models.CharField(_("device identifier"), max_length=60)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product identifier")
        verbose_name_plural = _("product identifiers")
        constraints = [models.UniqueConstraint(fields=["issuer", "di"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self) -> str:
        return f"{self.issuer}:{self.di}"


# --- Receiving ---------------------------------------------------------------------------------


class ReceiptStatus(models.TextChoices):
    OPEN = "open", _("Receiving")
    COMPLETED = "completed", _("Completed")


class Receipt(models.Model):
    """Goods received from a supplier into a warehouse; its lines are the incoming-inspection record."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    supplier = models.ForeignKey(
        "masterdata.Party", verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="receipts"
    )
    warehouse = models.ForeignKey(
        "masterdata.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="receipts"
    )
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    purchase_order_ref = models.CharField(_("purchase order"), max_length=60, blank=True)
    supplier_name = models.CharField(_("supplier name"), max_length=200)
    supplier_address = models.CharField(_("supplier address"), max_length=300, blank=True)
    supplier_contact = models.CharField(_("supplier contact"), max_length=150, blank=True)
    transport_temperature_ok = models.BooleanField(_("transport temperature record checked"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.OPEN)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return self.number


class ReceiptLine(models.Model):
    """One accepted scan: the incoming-inspection record of DOMAIN.md §3, with the raw UDI kept."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        "masterdata.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="receipt_lines")
    serial = models.CharField(_("serial number"), max_length=20, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Incoming-inspection record, as printed on the label / delivery documents at receipt time.
    product_name = models.CharField(_("name"), max_length=200)
    model_spec = models.CharField(_("model / specification"), max_length=200, blank=True)
    registration_number = models.CharField(_("registration / filing number"), max_length=60, blank=True)
    registrant_name = models.CharField(_("registrant"), max_length=200, blank=True)
    registrant_licence = models.CharField(_("registrant licence / filing number"), max_length=60, blank=True)
    manufacturer_name = models.CharField(_("manufacturer"), max_length=200, blank=True)
    manufacturer_licence = models.CharField(_("manufacturer licence / filing number"), max_length=60, blank=True)
    lot_number = models.CharField(_("lot number"), max_length=20)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    supplier_name = models.CharField(_("supplier name"), max_length=200)
    supplier_address = models.CharField(_("supplier address"), max_length=300, blank=True)
    supplier_contact = models.CharField(_("supplier contact"), max_length=150, blank=True)
    raw_scan = models.TextField(_("raw scan"))
    issuer = models.CharField(_("issuer"), max_length=8, choices=Issuer.choices)
    raw_ai = models.JSONField(_("raw AI values"), default=dict)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["receipt", "line_no"]
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "line_no"], name="%(app_label)s_%(class)s_unique_line_no"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="%(app_label)s_%(class)s_qty_positive"),
        ]
        indexes = [models.Index(fields=["lot"])]

    def __str__(self) -> str:
        return f"{self.receipt_id}/{self.line_no}"


# --- Ledger ------------------------------------------------------------------------------------


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    TRANSFER = "transfer", _("Transfer")
    ALLOCATION = "allocation", _("Allocation")
    DEALLOCATION = "deallocation", _("Allocation released")
    SHIPMENT = "shipment", _("Shipment")
    RETURN = "return", _("Return")
    ADJUSTMENT = "adjustment", _("Adjustment")
    SCRAP = "scrap", _("Scrap")
    RELEASE = "release", _("Released from quarantine")


class AppendOnlyError(Exception):
    pass


class StockMove(models.Model):
    """One posting to the stock ledger: never changed or deleted (append-only; corrections are new moves).

    ``on_hand_delta`` changes the physical stock, ``reserved_delta`` the part promised to orders,
    ``quarantined_delta`` the part awaiting release (receipts into a released lot, customer returns).
    """

    kind = models.CharField(_("kind"), max_length=12, choices=MoveKind.choices)
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="moves")
    serial = models.ForeignKey(SerialUnit, on_delete=models.PROTECT, related_name="moves", null=True, blank=True)
    warehouse = models.ForeignKey("masterdata.Warehouse", on_delete=models.PROTECT, related_name="+")
    on_hand_delta = models.IntegerField(_("on-hand change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    quarantined_delta = models.IntegerField(_("awaiting-release change"), default=0)
    document_type = models.CharField(_("document type"), max_length=20)
    document_id = models.BigIntegerField(_("document id"))
    document_ref = models.CharField(_("document"), max_length=30, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("posted at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        indexes = [
            models.Index(fields=["lot", "created_at"]),
            models.Index(fields=["document_type", "document_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lot_id} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("stock moves are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("stock moves are append-only")


class StockOperation(models.Model):
    """A transfer between warehouses, an inventory adjustment or a scrapping: the document the
    ledger rows of the operation point to, with who did it and why (a reason is always required)."""

    kind = models.CharField(_("kind"), max_length=12, choices=MoveKind.choices)
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="stock_operations")
    from_warehouse = models.ForeignKey(
        "masterdata.Warehouse",
        verbose_name=_("from warehouse"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    to_warehouse = models.ForeignKey(
        "masterdata.Warehouse",
        verbose_name=_("to warehouse"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    quantity = models.IntegerField(_("quantity"), help_text=_("Signed for adjustments, positive otherwise."))
    reason = models.CharField(_("reason"), max_length=200)
    serials = models.JSONField(_("serial numbers"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock operation")
        verbose_name_plural = _("stock operations")
        permissions = [("adjust_stock", _("Can adjust and scrap stock"))]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="%(app_label)s_%(class)s_quantity_not_zero"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
        ]

    def __str__(self) -> str:
        return self.number


class StockBalance(models.Model):
    """Stock of one lot in one warehouse: on hand, reserved for orders, awaiting release, and available.

    Quality status is kept at two levels. The lot's status is the quality decision on the lot as a whole
    (a new lot waits in quarantine until it is released). Units that arrive *after* that decision —
    a receipt into an already released (or held) lot, a customer return — have not been inspected, so
    they are counted in ``quarantined`` (the yellow awaiting-inspection and returns zones of DOMAIN.md §4)
    and are not available until quality releases them (``lot_release``). Keeping this per balance,
    rather than sending the whole lot back to quarantine, leaves the lot's already released stock in
    other warehouses and the reservations of picked orders untouched.
    """

    warehouse = models.ForeignKey("masterdata.Warehouse", on_delete=models.PROTECT, related_name="stock_balances")
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="stock_balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    quarantined = models.IntegerField(
        _("awaiting release"),
        default=0,
        help_text=_("Received into an already released lot or returned by a customer; not allocatable yet."),
    )
    available = models.GeneratedField(
        expression=models.F("on_hand") - models.F("reserved") - models.F("quarantined"),
        output_field=models.IntegerField(),
        db_persist=True,
        verbose_name=_("available"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "product", "lot"], name="%(app_label)s_%(class)s_unique"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="%(app_label)s_%(class)s_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved__gte=0), name="%(app_label)s_%(class)s_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(quarantined__gte=0), name="%(app_label)s_%(class)s_quarantined_not_negative"
            ),
            # Reserved stock is always released stock: the two parts never overlap.
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=models.F("reserved") + models.F("quarantined")),
                name="%(app_label)s_%(class)s_committed_within_on_hand",
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "warehouse"], name="trace_balance_available", condition=models.Q(on_hand__gt=0)
            ),
            models.Index(fields=["lot"]),
        ]

    def __str__(self) -> str:
        pending = f", {self.quarantined} pending" if self.quarantined else ""
        return f"{self.warehouse_id}/{self.lot_id}: {self.on_hand} ({self.reserved} reserved{pending})"


class AllocationStatus(models.TextChoices):
    ACTIVE = "active", _("Reserved")
    SHIPPED = "shipped", _("Shipped")
    RELEASED = "released", _("Released")


class Allocation(models.Model):
    """Stock of one lot in one warehouse reserved for an order line (FEFO)."""

    order_line = models.ForeignKey("orders.SalesOrderLine", on_delete=models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="allocations")
    warehouse = models.ForeignKey("masterdata.Warehouse", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(
        _("status"), max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.ACTIVE, db_index=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("allocated at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order_line", "id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="%(app_label)s_%(class)s_qty_positive"),
        ]
        indexes = [models.Index(fields=["lot", "status"])]

    def __str__(self) -> str:
        return f"{self.order_line_id}: {self.quantity} × {self.lot_id}"


# --- Shipments ---------------------------------------------------------------------------------


class ShipmentStatus(models.TextChoices):
    PICKED = "picked", _("Picked")
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    SIGNED = "signed", _("Signed")
    EXCEPTION = "exception", _("Exception")


SHIPMENT_FLOW = [
    ShipmentStatus.PICKED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.SIGNED,
]


class Shipment(models.Model):
    """Goods of one order leaving one warehouse for the delivery party, with carrier and tracking."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order = models.ForeignKey("orders.SalesOrder", on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey("masterdata.Warehouse", on_delete=models.PROTECT, related_name="shipments")
    customer = models.ForeignKey(
        "masterdata.Party", verbose_name=_("consignee"), on_delete=models.PROTECT, related_name="shipments"
    )
    ship_to_address = models.CharField(_("ship-to address"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.PICKED, db_index=True
    )
    carrier = models.CharField(_("carrier"), max_length=80, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    expected_arrival_at = models.DateTimeField(_("expected arrival"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    is_cold_chain = models.BooleanField(_("cold chain"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    """One lot of one order line on a shipment: the sales record of DOMAIN.md §3."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.SalesOrderLine", on_delete=models.PROTECT, related_name="shipment_lines")
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="shipment_lines", null=True)
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    # Sales record (DOMAIN.md §3), frozen when the line ships.
    product_name = models.CharField(_("name"), max_length=200)
    model_spec = models.CharField(_("model / specification"), max_length=200, blank=True)
    registration_number = models.CharField(_("registration / filing number"), max_length=60, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    lot_number = models.CharField(_("lot number"), max_length=20)
    expiry_date = models.DateField(_("expiry date"))
    sale_date = models.DateField(_("sale date"), null=True, blank=True)
    registrant_name = models.CharField(_("registrant"), max_length=200, blank=True)
    manufacturer_name = models.CharField(_("manufacturer"), max_length=200, blank=True)
    buyer_name = models.CharField(_("buyer"), max_length=200)
    buyer_address = models.CharField(_("buyer address"), max_length=300)
    buyer_contact = models.CharField(_("buyer contact"), max_length=150)
    buyer_licence = models.CharField(_("buyer licence / filing number"), max_length=60, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["shipment", "id"]
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="%(app_label)s_%(class)s_qty_positive"),
            models.CheckConstraint(condition=~models.Q(lot_number=""), name="%(app_label)s_%(class)s_lot_required"),
        ]
        indexes = [models.Index(fields=["lot"])]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.quantity} × {self.lot_number}"


class ShipmentSerial(models.Model):
    """A serialised unit on a shipment line (a unit ships once until it is returned)."""

    shipment_line = models.ForeignKey(ShipmentLine, on_delete=models.CASCADE, related_name="serials")
    serial_unit = models.ForeignKey(SerialUnit, on_delete=models.PROTECT, related_name="shipment_serials")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shipped serial")
        verbose_name_plural = _("shipped serials")
        constraints = [
            models.UniqueConstraint(fields=["shipment_line", "serial_unit"], name="%(app_label)s_%(class)s_unique")
        ]
        indexes = [models.Index(fields=["serial_unit"])]

    def __str__(self) -> str:
        return f"{self.shipment_line_id}: {self.serial_unit_id}"


class LogisticsEvent(models.Model):
    """A status report on a shipment from the TMS or a person: what, where, when."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=12, choices=ShipmentStatus.choices)
    place = models.CharField(_("place"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=20, default="manual")
    external_id = models.CharField(_("external id"), max_length=80, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment", "occurred_at", "id"]
        verbose_name = _("logistics event")
        verbose_name_plural = _("logistics events")
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "external_id"],
                condition=~models.Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external",
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"


class ProofOfDelivery(models.Model):
    """The consignee's sign-off: who signed, when, and any discrepancies found."""

    shipment = models.OneToOneField(Shipment, on_delete=models.PROTECT, related_name="proof_of_delivery")
    signed_by = models.CharField(_("signed by"), max_length=100)
    signed_at = models.DateTimeField(_("signed at"))
    discrepancies = models.JSONField(
        _("discrepancies"),
        default=list,
        blank=True,
        help_text=_('e.g. [{"shipment_line": 12, "quantity_received": 9, "note": "one damaged"}]'),
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("proof of delivery")
        verbose_name_plural = _("proofs of delivery")

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.signed_by}"

    @property
    def has_discrepancy(self) -> bool:
        return bool(self.discrepancies)


# --- Customer returns --------------------------------------------------------------------------


class CustomerReturn(models.Model):
    """Units of a shipment sent back by its consignee, received into a warehouse's returns zone.

    The units are on hand but awaiting release (``StockBalance.quarantined``, serials RETURNED): they
    are never allocated until quality releases them (DOMAIN.md §4). Its lines say which shipment line
    each returned quantity (and serial) belongs to, so no line returns more than it shipped.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.PROTECT, related_name="customer_returns"
    )
    customer = models.ForeignKey(
        "masterdata.Party", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="customer_returns"
    )
    warehouse = models.ForeignKey(
        "masterdata.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer return")
        verbose_name_plural = _("customer returns")
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
        ]

    def __str__(self) -> str:
        return self.number


class CustomerReturnLine(models.Model):
    """The quantity (and serials) of one shipment line that came back."""

    customer_return = models.ForeignKey(CustomerReturn, on_delete=models.CASCADE, related_name="lines")
    shipment_line = models.ForeignKey(
        ShipmentLine, verbose_name=_("shipment line"), on_delete=models.PROTECT, related_name="return_lines"
    )
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    serials = models.JSONField(_("serial numbers"), default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["customer_return", "id"]
        verbose_name = _("customer return line")
        verbose_name_plural = _("customer return lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="%(app_label)s_%(class)s_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_return_id}: {self.quantity} × {self.lot_id}"


# --- Cold chain --------------------------------------------------------------------------------


class TemperatureReading(models.Model):
    """One probe reading, in a cold-chain shipment or a cold store."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="temperature_readings", null=True, blank=True
    )
    warehouse = models.ForeignKey(
        "masterdata.Warehouse", on_delete=models.PROTECT, related_name="temperature_readings", null=True, blank=True
    )
    probe = models.CharField(_("probe"), max_length=40)
    recorded_at = models.DateTimeField(_("time"))
    celsius = models.DecimalField(_("°C"), max_digits=5, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("temperature reading")
        verbose_name_plural = _("temperature readings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shipment__isnull=False, warehouse__isnull=True)
                | models.Q(shipment__isnull=True, warehouse__isnull=False),
                name="%(app_label)s_%(class)s_one_place",
            ),
            models.UniqueConstraint(
                fields=["shipment", "probe", "recorded_at"], name="%(app_label)s_%(class)s_unique_shipment"
            ),
            models.UniqueConstraint(
                fields=["warehouse", "probe", "recorded_at"], name="%(app_label)s_%(class)s_unique_warehouse"
            ),
        ]
        indexes = [
            models.Index(fields=["shipment", "recorded_at"]),
            models.Index(fields=["warehouse", "recorded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.probe} {self.recorded_at:%Y-%m-%d %H:%M} {self.celsius} °C"


class ExcursionKind(models.TextChoices):
    OUT_OF_RANGE = "out_of_range", _("Out of range")
    GAP = "gap", _("Missing records")


class ExcursionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Excursion(models.Model):
    """A period outside the product's storage range, or without the readings the interval requires."""

    kind = models.CharField(_("kind"), max_length=14, choices=ExcursionKind.choices)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="excursions", null=True, blank=True)
    warehouse = models.ForeignKey(
        "masterdata.Warehouse", on_delete=models.PROTECT, related_name="excursions", null=True, blank=True
    )
    probe = models.CharField(_("probe"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    min_celsius = models.DecimalField(_("lowest °C"), max_digits=5, decimal_places=2, null=True, blank=True)
    max_celsius = models.DecimalField(_("highest °C"), max_digits=5, decimal_places=2, null=True, blank=True)
    range_min_c = models.DecimalField(_("allowed min °C"), max_digits=5, decimal_places=1, null=True, blank=True)
    range_max_c = models.DecimalField(_("allowed max °C"), max_digits=5, decimal_places=1, null=True, blank=True)
    lots = models.ManyToManyField(Lot, verbose_name=_("affected lots"), blank=True, related_name="excursions")
    status = models.CharField(
        _("status"), max_length=14, choices=ExcursionStatus.choices, default=ExcursionStatus.OPEN, db_index=True
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("temperature excursion")
        verbose_name_plural = _("temperature excursions")
        permissions = [("acknowledge_excursion", _("Can acknowledge and close temperature excursions"))]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def in_progress(self) -> bool:
        """Still going on: no reading has shown it ended (an excursion in progress cannot be closed)."""
        return self.ended_at is None


# --- Trace -------------------------------------------------------------------------------------


class EdgeKind(models.TextChoices):
    RECEIPT = "receipt", _("Received from supplier")
    SHIPMENT = "shipment", _("Shipped to customer")
    RETURN = "return", _("Returned by customer")


class TraceEdge(models.Model):
    """A precomputed hop of the trace graph, written when a move posts (receipt → lot, lot/serial →
    shipment line → customer), so forward and backward traces are single indexed reads."""

    kind = models.CharField(_("kind"), max_length=10, choices=EdgeKind.choices)
    product = models.ForeignKey("masterdata.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="trace_edges")
    serial = models.ForeignKey(SerialUnit, on_delete=models.PROTECT, related_name="trace_edges", null=True, blank=True)
    party = models.ForeignKey(
        "masterdata.Party", on_delete=models.PROTECT, related_name="trace_edges", help_text=_("supplier or customer")
    )
    warehouse = models.ForeignKey("masterdata.Warehouse", on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(_("quantity"))
    receipt_line = models.ForeignKey(ReceiptLine, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    shipment_line = models.ForeignKey(ShipmentLine, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    order = models.ForeignKey("orders.SalesOrder", on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    document_ref = models.CharField(_("document"), max_length=30)
    occurred_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("trace edge")
        verbose_name_plural = _("trace edges")
        indexes = [
            # Covering: the per-customer trace of a lot is an index-only scan.
            models.Index(
                fields=["lot", "kind", "party"],
                include=["quantity", "shipment", "occurred_at"],
                name="trace_edge_lot_kind_party",
            ),
            models.Index(fields=["lot", "kind", "occurred_at"], name="trace_edge_lot_kind_time"),
            models.Index(fields=["serial", "kind"], name="trace_edge_serial_kind"),
            models.Index(fields=["party", "kind"], name="trace_edge_party_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lot_id} → {self.party_id} ×{self.quantity}"


class RecallScopeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RecallScopeJob(models.Model):
    """A recall scope computed in the background for a large selection, with progress and the result."""

    criteria = models.JSONField(_("criteria"))
    status = models.CharField(
        _("status"), max_length=10, choices=RecallScopeStatus.choices, default=RecallScopeStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    lot_count = models.PositiveIntegerField(_("lots"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recall scope job")
        verbose_name_plural = _("recall scope jobs")

    def __str__(self) -> str:
        return f"{self.pk} {self.status} {self.progress}%"
