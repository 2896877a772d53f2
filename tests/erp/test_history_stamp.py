from django.contrib.auth.models import AnonymousUser

from erp.kernel.history import REASON_MAX_LENGTH, history_stamp
from masterdata.models import Region


def test_history_stamp_records_the_user_and_cuts_a_long_reason_to_the_column():
    # given
    region = Region(code="310000")

    # when
    history_stamp(region, user=AnonymousUser(), reason="x" * 150)

    # then an anonymous user is recorded as the system and the reason fits its column
    assert region._history_user is None
    assert len(region._change_reason) == REASON_MAX_LENGTH and region._change_reason.endswith("…")


def test_history_stamp_without_a_reason_records_none():
    region = Region(code="310000")
    history_stamp(region, user=None)
    assert region._change_reason is None
