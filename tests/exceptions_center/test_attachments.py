"""Event evidence as attachments: private storage, versions, nothing stored on refusal, and a
permission-checked download that is always a download (also with DEBUG off), on the page and the API."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from erp.kernel.errors import DomainError
from erp.kernel.files import attachment_read_check
from erp.models import Attachment
from exceptions_center.models import EventLogEntry, LogAction
from exceptions_center.services import handling

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.django_db
def test_attach_stores_privately_with_versions(high_event, compliance_user, settings):
    # given
    first = handling.exception_event_attach(
        event=high_event, user=compliance_user, attachment=_upload("licence.pdf", PDF), comment="v1"
    )
    # when the same file name is attached again
    second = handling.exception_event_attach(
        event=high_event, user=compliance_user, attachment=_upload("licence.pdf", PDF + b"%v2\n")
    )
    # then it is version 2, version 1 is kept, both outside the static and media roots
    assert (first.attachment.version, second.attachment.version) == (1, 2)
    assert Attachment.objects.filter(owner_id=high_event.pk).count() == 2
    path = second.attachment.file.path
    assert path.startswith(str(settings.ERP_PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT)) and not path.startswith(str(settings.STATIC_ROOT))
    assert "licence" not in path  # stored under a random name
    assert second.attachment.uploaded_by == compliance_user
    assert second.data == {"filename": "licence.pdf", "version": 2}
    with pytest.raises(ValueError):
        second.attachment.file.url


@pytest.mark.django_db
def test_a_refused_upload_changes_nothing(high_event, compliance_user):
    # given
    version = high_event.version
    # when
    with pytest.raises(DomainError) as exc:
        handling.exception_event_attach(event=high_event, user=compliance_user, attachment=_upload("x.pdf", EXE))
    # then
    assert "attachment" in exc.value.fields
    assert not Attachment.objects.exists()
    assert not EventLogEntry.objects.filter(action=LogAction.ATTACHED).exists()
    high_event.refresh_from_db()
    assert high_event.version == version


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_download_is_an_attachment_with_nosniff_for_who_may_view_the_event(
    client, high_event, compliance_user, settings, debug
):
    # given
    settings.DEBUG = debug
    entry = handling.exception_event_attach(
        event=high_event, user=compliance_user, attachment=_upload("许可证 2026.pdf", PDF)
    )
    client.force_login(compliance_user)
    # when
    response = client.get(reverse("attachment-download", args=[entry.attachment.pk]))
    # then
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E8%AE%B8%E5%8F%AF%E8%AF%81%202026.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_download_refused_to_who_may_not_view_the_event(client, high_event, compliance_user, make_user):
    # given a file on the event, and a user without the exception-center view permission
    entry = handling.exception_event_attach(event=high_event, user=compliance_user, attachment=_upload("a.pdf", PDF))
    client.force_login(make_user())
    url = reverse("attachment-download", args=[entry.attachment.pk])
    # when / then: the same 404 as a file that does not exist
    assert client.get(url).status_code == 404
    assert client.get(reverse("attachment-download", args=[999999])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the log-in page


@pytest.mark.django_db
def test_the_owning_app_can_decide_who_reads(client, high_event, compliance_user):
    # given a read check for events that says no to everybody
    entry = handling.exception_event_attach(event=high_event, user=compliance_user, attachment=_upload("a.pdf", PDF))
    client.force_login(compliance_user)
    url = reverse("attachment-download", args=[entry.attachment.pk])
    # when / then
    with attachment_read_check.temporarily(lambda user, owner: False, key="exceptions_center.exceptionevent"):
        assert client.get(url).status_code == 404
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_api_attach_refuses_a_renamed_program_and_serves_the_file(api_client_for, high_event, compliance_user):
    # given
    client = api_client_for(compliance_user)
    base = f"/api/v1/exceptions/events/{high_event.pk}"
    # when a program renamed .pdf is sent
    refused = client.post(f"{base}/attach/", {"attachment": _upload("scan.pdf", EXE)}, format="multipart")
    # then a 400 on the field, nothing stored
    assert refused.status_code == 400
    assert refused.json()["code"] == "validation_error"
    assert "attachment" in refused.json()["fields"]
    assert not Attachment.objects.exists()
    # when a real PDF is sent
    accepted = client.post(f"{base}/attach/", {"attachment": _upload("scan.pdf", PDF)}, format="multipart")
    # then the log shows the file and its download link, which the token client can follow
    assert accepted.status_code == 200
    shown = next(e["attachment"] for e in accepted.json()["log"] if e["attachment"])
    assert shown["name"] == "scan.pdf" and shown["size"] == len(PDF) and shown["version"] == 1
    assert shown["sha256"] == hashlib.sha256(PDF).hexdigest()
    download = client.get(shown["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.django_db
def test_api_download_of_a_file_i_may_not_read_is_a_404(api_client_for, high_event, compliance_user, make_user):
    entry = handling.exception_event_attach(event=high_event, user=compliance_user, attachment=_upload("a.pdf", PDF))
    response = api_client_for(make_user()).get(f"/api/v1/attachments/{entry.attachment.pk}/download/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_event_page_links_to_the_download_view(client, high_event, compliance_user):
    entry = handling.exception_event_attach(event=high_event, user=compliance_user, attachment=_upload("a.pdf", PDF))
    client.force_login(compliance_user)
    page = client.get(reverse("exceptions_center:event_detail", args=[high_event.number]))
    assert reverse("attachment-download", args=[entry.attachment.pk]) in page.content.decode()
