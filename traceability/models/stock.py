"""The stock ledger (append-only ``StockMove``), stock operations and the running balances.

``StockBalance`` is the ledger's running total per (warehouse, product, lot), kept in the same
transaction and guarded by CHECK constraints so stock never goes negative."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from traceability.models.lots import Lot, SerialUnit


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
