"""Receiving: goods from a supplier into a warehouse, the incoming-inspection record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from traceability.models.lots import Issuer, Lot


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
