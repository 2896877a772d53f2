"""Infrastructure rows shared by every app: document counters and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentSequence(models.Model):
    """The last number handed out for a document prefix in a year (see ``erp.kernel.numbering``)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class IdempotencyKey(models.Model):
    """The first response to a create request sent with an ``Idempotency-Key`` header, per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=300, help_text=_("Method and path of the first request."))
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self) -> str:
        return self.key


class AuditAccess(models.Model):
    """Holds the permissions for cross-model audit screens; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_history_report", _("Can view the audit history report"))]

    def __str__(self) -> str:
        return "audit access"


class SignatureMeaning(models.TextChoices):
    REVIEW = "review", _("Review")
    APPROVAL = "approval", _("Approval")
    RESPONSIBILITY = "responsibility", _("Responsibility")
    WAIVER = "waiver", _("Waiver")
    RELEASE = "release", _("Release")
    REJECTION = "rejection", _("Rejection")
    CLOSURE = "closure", _("Closure")


class ElectronicSignature(models.Model):
    """A signature on one exact version of one record (21 CFR Part 11 idea, DOMAIN.md §9).

    Shows the signer's printed name, the time and the meaning; ``record_hash`` binds it to the content
    signed, so it cannot be carried to another record or version. Rows are never changed or deleted.
    """

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(_("printed name"), max_length=150)
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)
    meaning = models.CharField(_("meaning"), max_length=16, choices=SignatureMeaning.choices)
    reason = models.TextField(_("reason"), blank=True)
    record_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    record_id = models.PositiveBigIntegerField()
    record_version = models.PositiveIntegerField(_("record version"), default=1)
    record_hash = models.CharField(_("record hash"), max_length=64)

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")
        indexes = [models.Index(fields=["record_type", "record_id"])]

    def __str__(self) -> str:
        return f"{self.printed_name} {self.meaning} {self.signed_at:%Y-%m-%d %H:%M}"
