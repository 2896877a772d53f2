"""Customer returns: units sent back by a consignee, held until quality releases them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from traceability.models.lots import Lot
from traceability.models.shipments import Shipment, ShipmentLine


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
