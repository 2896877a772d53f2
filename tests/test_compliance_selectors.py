"""``compliance.selectors``: what other apps (the sales and incoming-inspection records) read from
compliance. Until the licence documents arrive, the licence/filing number comes from the party master."""

import pytest

from compliance.selectors import licence_number_for_party
from masterdata import services
from tests.masterdata.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("distributor", "沪浦药监械经营许20180123号"),  # distribution licence (class III)
        ("distributor", "鄂汉药监械经营备20200017号"),  # filing only (class II)
        ("hospital", "42502258231010411A1001"),  # practising licence
        ("manufacturer", "苏食药监械生产许20150012号"),  # production licence
    ],
)
def test_licence_number_for_party_returns_the_partys_number(kind, number):
    # given
    party = PartyFactory(kind=kind, licence_number=number)

    # when
    found = licence_number_for_party(party=party)

    # then
    assert found == number


def test_licence_number_for_party_is_blank_when_none_is_on_file():
    # given
    party = PartyFactory(kind="distributor")

    # when
    found = licence_number_for_party(party=party)

    # then
    assert found == ""


def test_licence_number_for_party_follows_a_change_made_through_the_service(admin_user):
    # given
    party = PartyFactory(kind="distributor", licence_number="沪浦药监械经营备20180001号")

    # when the distributor's filing is replaced by a licence
    services.party_update(
        instance=party, user=admin_user, reason="licence granted", licence_number="沪浦药监械经营许20190002号"
    )
    party.refresh_from_db()

    # then
    assert licence_number_for_party(party=party) == "沪浦药监械经营许20190002号"
    assert [h.licence_number for h in party.history.order_by("history_id")][-1] == "沪浦药监械经营许20190002号"
