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
