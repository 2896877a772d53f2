"""Trace edges (the precomputed trace graph, written when moves post) and background recall-scope jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from traceability.models.lots import Lot, SerialUnit
from traceability.models.receipts import Receipt, ReceiptLine
from traceability.models.shipments import Shipment, ShipmentLine


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
        # Recall scopes list every customer a lot reached, with contacts: only the roles that run recalls.
        permissions = [("view_all_recallscopejob", _("Can run and read recall scopes (every customer of a lot)"))]

    def __str__(self) -> str:
        return f"{self.pk} {self.status} {self.progress}%"
