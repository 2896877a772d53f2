"""Lots, serial units and non-GS1 device identifiers: what a unit is and whether it may be sold."""

from __future__ import annotations

import math
from collections.abc import Iterable

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
