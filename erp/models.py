"""Infrastructure rows shared by every app: document counters, idempotency keys, signatures, attachments."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.kernel.files import get_private_storage


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


def _attachment_path(instance, filename: str) -> str:
    """A random name in a month folder: the user's file name never reaches the file system."""
    import uuid

    from django.utils import timezone

    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file attached to a record (event evidence, later licences, certificates, contracts).

    Rows are never changed or deleted (append-only in the database too): a new upload under the same
    ``slot`` of the same record is its next ``version`` and the earlier ones stay readable. The file lives
    in private storage (``erp.kernel.files``) and is served only by the permission-checked download view.
    """

    owner_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    owner_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("owner_type", "owner_id")
    slot = models.CharField(
        _("slot"), max_length=100, help_text=_("Which document of the record this is; versions count per slot.")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    file = models.FileField(_("file"), storage=get_private_storage, upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["owner_type", "owner_id", "slot", "-version"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="erp_attachment_owner")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "slot", "version"], name="%(app_label)s_%(class)s_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.version})"
