"""Uploaded files: what is accepted, where it is kept, and who may download it.

- **Accepted**: a file whose extension is on the allow-list (``settings.ERP_ATTACHMENT_TYPES``: PDF,
  images, Office documents, plain text / CSV) *and* whose content, sniffed with ``filetype``, is of that
  type — a program renamed ``.pdf`` is refused — and at most ``settings.ERP_ATTACHMENT_MAX_BYTES``
  (20 MB unless ``ERP_ATTACHMENT_MAX_MB`` says otherwise). Text types have no signature: they must be
  UTF-8 or GB 18030 text without NUL bytes.
- **Kept** in ``PrivateStorage`` under ``settings.ERP_PRIVATE_MEDIA_ROOT`` (``var/private`` or
  ``DJANGO_PRIVATE_MEDIA_ROOT``), outside the static and media roots, under a random name: no URL serves
  that folder, only the download view.
- **Downloaded** through ``attachment_response`` after ``attachment_may_read``: the owning record's app
  decides who may read its files (the ``attachment_read_check`` port, keyed by the owner's model label);
  by default whoever may view the owner through ``erp.kernel.access.restrict``. The answer is always a
  download (``Content-Disposition: attachment``) with ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from erp.kernel.ports import Port

# Extension → the content type its content must be (sniffed). ``None``: a text type (no signature).
DEFAULT_TYPES: dict[str, str | None] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": None,
    "csv": None,
}
TEXT_CONTENT_TYPES = {"txt": "text/plain", "csv": "text/csv"}
SNIFF_BYTES = 8192

attachment_read_check = Port(
    "erp.attachment_read_check",
    doc="May this user download a file attached to this record? (user, owner) -> bool, per owner model label.",
    keyed=True,
    single=True,
)


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files that only a permission-checked view serves: the folder is read from the settings on every
    access (tests point it elsewhere), and ``url()`` refuses, so no template can link to it directly."""

    @property
    def base_location(self):
        return settings.ERP_PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError("Private files have no URL: link to the attachment download view.")


private_storage = PrivateStorage()


def get_private_storage() -> PrivateStorage:
    return private_storage


@dataclass(frozen=True)
class CheckedFile:
    """What validation learnt about an upload: clean name, detected type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str


def allowed_types() -> dict[str, str | None]:
    return getattr(settings, "ERP_ATTACHMENT_TYPES", DEFAULT_TYPES)


def max_bytes() -> int:
    return int(getattr(settings, "ERP_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))


def clean_file_name(name: str) -> str:
    """The file's own name without folders or control characters, at most 200 characters (keeps the
    extension)."""
    base = os.path.basename(str(name).replace("\\", "/"))
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C").strip()
    base = base.lstrip(".") or "file"
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base


def _is_text(head: bytes) -> bool:
    """UTF-8 or GB 18030 text without NUL bytes (the sniffed head may end inside a character)."""
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        for cut in range(4):
            try:
                head[: len(head) - cut].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


def validate_upload(upload, *, field: str = "file") -> CheckedFile:
    """Check an uploaded file (extension, content, size); a refusal is a ``DomainError`` on ``field``.

    Reads the file once in chunks for its size and SHA-256; leaves it rewound for saving.
    """
    if not upload or not getattr(upload, "name", ""):
        raise DomainError.on_field(field, _("Choose a file to attach."))
    name = clean_file_name(upload.name)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    types = allowed_types()
    if extension not in types:
        allowed = ", ".join(sorted(types))
        raise DomainError.on_field(
            field, _("Files of this type cannot be attached. Allowed: %(allowed)s.") % {"allowed": allowed}
        )
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise DomainError.on_field(field, _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    digest = hashlib.sha256()
    head = b""
    size = 0
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            raise DomainError.on_field(field, _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
        digest.update(chunk)
    upload.seek(0)
    if size == 0:
        raise DomainError.on_field(field, _("The file is empty."))
    expected = types[extension]
    if expected is None:
        if filetype.guess(head) is not None or not _is_text(head):
            raise DomainError.on_field(field, _("The file's content is not text, although its name says it is."))
        content_type = TEXT_CONTENT_TYPES.get(extension, "text/plain")
    else:
        kind = filetype.guess(head)
        if kind is None or kind.mime != expected:
            raise DomainError.on_field(
                field,
                _("The file's content does not match its extension .%(extension)s.") % {"extension": extension},
            )
        content_type = expected
    return CheckedFile(name=name, content_type=content_type, size=size, sha256=digest.hexdigest())


def attachment_may_read(user, attachment) -> bool:
    """May ``user`` download ``attachment``? The owner's app decides (port); by default, whoever may view
    the owning record through the row scope."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    from erp.kernel.access import restrict

    owner_type = attachment.owner_type
    model = owner_type.model_class()
    if model is None:
        return False
    check = attachment_read_check.get(model._meta.label_lower)
    owner = model._default_manager.filter(pk=attachment.owner_id).first()
    if owner is None:
        return False
    if check is not None:
        return bool(check(user, owner))
    return restrict(model._default_manager.filter(pk=owner.pk), user, "view").exists()


def attachment_response(attachment) -> FileResponse:
    """The file as a download under its original name, never rendered by the browser."""
    handle = attachment.file.open("rb")
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
