"""Attachment checks (erp.kernel.files): allowed types by extension AND content, size limit, clean
names; versions per slot on any record. Event evidence and downloads: tests/exceptions_center."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from erp.attachments import attachment_add
from erp.kernel.errors import DomainError
from erp.kernel.files import validate_upload
from erp.models import Attachment

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "expected_type"),
    [
        ("licence.pdf", PDF, "application/pdf"),
        ("photo.PNG", PNG, "image/png"),
        ("注册证.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("note.txt", "温度记录正常\n".encode(), "text/plain"),
        ("readings.csv", "time,temp\n08:00,4.2\n".encode("gb18030"), "text/csv"),
    ],
)
def test_allowed_files_pass_with_their_detected_type(name, content, expected_type):
    checked = validate_upload(_upload(name, content))
    assert checked.content_type == expected_type
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", EXE, "cannot be attached"),
        ("invoice.pdf", EXE, "does not match its extension .pdf"),  # a program renamed .pdf
        ("photo.png", PDF, "does not match its extension .png"),
        ("notes.txt", PDF, "is not text"),  # a PDF renamed .txt
        ("notes.txt", b"abc\x00\x01\x02", "is not text"),
        ("noextension", PDF, "cannot be attached"),
        ("page.html", b"<script>alert(1)</script>", "cannot be attached"),
        ("drawing.svg", b"<svg onload=alert(1)>", "cannot be attached"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_refused_files_get_a_clear_field_error(name, content, message):
    with pytest.raises(DomainError) as exc:
        validate_upload(_upload(name, content), field="attachment")
    assert exc.value.code == "validation_error"
    assert any(message in str(m) for m in exc.value.fields["attachment"])


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.ERP_ATTACHMENT_MAX_BYTES = 1024 * 1024
    with pytest.raises(DomainError) as exc:
        validate_upload(_upload("big.pdf", PDF + b"0" * (1024 * 1024)), field="attachment")
    assert "larger than 1 MB" in str(exc.value.fields["attachment"][0])


def test_folders_and_control_characters_are_dropped_from_the_name():
    checked = validate_upload(_upload("../../etc/pass\x00wd\r\n.pdf", PDF))
    assert checked.name == "passwd.pdf"


def test_refusals_are_translated(settings):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(DomainError) as exc:
        validate_upload(_upload("invoice.pdf", EXE), field="attachment")
    assert "不符" in str(exc.value.fields["attachment"][0])


@pytest.mark.django_db
def test_versions_of_a_slot_on_any_record(make_user):
    # given any record (here a user) as the owner
    owner = make_user()
    for content in (PDF, PDF + b"%2\n", PDF + b"%3\n"):
        attachment_add(owner=owner, upload=_upload("contract.pdf", content), user=owner, slot="contract")
    other = attachment_add(owner=owner, upload=_upload("annex.pdf", PDF), user=owner)
    # then
    versions = list(
        Attachment.objects.filter(owner_id=owner.pk, slot="contract")
        .values_list("version", flat=True)
        .order_by("version")
    )
    assert versions == [1, 2, 3]
    assert (other.slot, other.version) == ("annex.pdf", 1)
