"""Electronic signatures: password re-checked, meaning recorded, bound to one record version."""

from __future__ import annotations

import pytest

from erp.kernel.errors import DomainError
from erp.kernel.people import person_name
from erp.models import ElectronicSignature
from erp.signatures import signature_create, signature_verify
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import RuleFactory, event_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return event_for(RuleFactory(category="quality"))


def test_signature_create_records_signer_meaning_and_version(make_user, event):
    user = make_user("quality", first_name="芳", last_name="王")
    signature = signature_create(user=user, password=PASSWORD, meaning="review", record=event, reason="checked")
    assert (signature.signer, signature.meaning, signature.reason) == (user, "review", "checked")
    assert signature.printed_name == person_name(user)
    assert signature.record_version == event.version
    assert len(signature.record_hash) == 64
    assert signature_verify(signature=signature, record=event)


def test_wrong_password_signs_nothing(make_user, event):
    user = make_user("quality")
    with pytest.raises(DomainError) as exc:
        signature_create(user=user, password="not-my-password", meaning="review", record=event)
    assert exc.value.code == "signature_invalid"
    assert "password" in exc.value.fields
    assert not ElectronicSignature.objects.exists()


def test_unknown_meaning_refused(make_user, event):
    with pytest.raises(DomainError):
        signature_create(user=make_user("quality"), password=PASSWORD, meaning="because", record=event)
    assert not ElectronicSignature.objects.exists()


def test_signature_does_not_verify_for_another_record(make_user, event):
    other = event_for(event.rule)
    signature = signature_create(user=make_user("quality"), password=PASSWORD, meaning="review", record=event)
    assert not signature_verify(signature=signature, record=other)


def test_signature_does_not_verify_after_the_record_changed(make_user, event):
    signature = signature_create(user=make_user("quality"), password=PASSWORD, meaning="review", record=event)
    # a change of content without a version bump still breaks the hash
    event.resolution = "edited afterwards"
    assert not signature_verify(signature=signature, record=event)
    # and a new version breaks it too
    event.resolution = ""
    event.version += 1
    assert not signature_verify(signature=signature, record=event)
    event.version -= 1
    assert signature_verify(signature=signature, record=event)
