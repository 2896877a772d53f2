"""Allocations (FEFO reservations), shipments with their lines, serials, logistics events and proof of
delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from traceability.models.lots import Lot, SerialUnit


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
