"""Cold chain: temperature readings and the excursions found in them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from traceability.models.lots import Lot
from traceability.models.shipments import Shipment


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
