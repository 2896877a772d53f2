"""Acknowledging temperature excursions (DOMAIN.md §5): comment required, quality staff only, an
excursion still in progress is not closed, history kept; API action and page button."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from erp.kernel.errors import DomainError, PermissionDenied
from traceability.models import Excursion, ExcursionKind, ExcursionStatus
from traceability.services import excursion_acknowledge

from .factories import in_days, product, released_stock, warehouse

pytestmark = pytest.mark.django_db


def _excursion(*, ended: bool, **kw) -> Excursion:
    start = timezone.now() - timedelta(hours=2)
    wh = kw.pop("warehouse", None) or warehouse(is_cold_storage=True)
    excursion = Excursion.objects.create(
        kind=ExcursionKind.OUT_OF_RANGE,
        warehouse=wh,
        probe="P1",
        started_at=start,
        ended_at=start + timedelta(minutes=40) if ended else None,
        min_celsius=Decimal("8.50"),
        max_celsius=Decimal("11.20"),
        range_min_c=Decimal("2.0"),
        range_max_c=Decimal("8.0"),
        **kw,
    )
    return excursion


def test_excursion_acknowledge_closes_an_ended_excursion_with_history(quality_user):
    # given
    excursion = _excursion(ended=True)
    # when
    result = excursion_acknowledge(excursion=excursion, user=quality_user, comment=" Door left open; stock checked ")
    # then
    excursion.refresh_from_db()
    assert result.status == excursion.status == ExcursionStatus.CLOSED
    assert excursion.comment == "Door left open; stock checked"
    latest = excursion.history.first()
    assert latest.history_user == quality_user and latest.history_change_reason == "closed"


def test_excursion_acknowledge_in_progress_is_not_closed(quality_user):
    # given an excursion with no end yet
    excursion = _excursion(ended=False)
    # when
    excursion_acknowledge(excursion=excursion, user=quality_user, comment="Technician on the way")
    # then acknowledged, still open for closing
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.ACKNOWLEDGED
    # and once it has ended it can be closed
    excursion.ended_at = timezone.now()
    excursion.save()
    excursion_acknowledge(excursion=excursion, user=quality_user, comment="Back in range, lots assessed")
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.CLOSED
    assert excursion.history.count() == 4


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_excursion_acknowledge_needs_a_comment_and_changes_nothing(quality_user, comment):
    excursion = _excursion(ended=True)
    before = excursion.history.count()
    with pytest.raises(DomainError) as exc:
        excursion_acknowledge(excursion=excursion, user=quality_user, comment=comment)
    assert "comment" in exc.value.fields
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.OPEN and excursion.history.count() == before


def test_excursion_acknowledge_a_closed_excursion_is_refused(quality_user):
    excursion = _excursion(ended=True)
    excursion_acknowledge(excursion=excursion, user=quality_user, comment="ok")
    with pytest.raises(DomainError) as exc:
        excursion_acknowledge(excursion=excursion, user=quality_user, comment="again")
    assert exc.value.code == "excursion_closed"
    excursion.refresh_from_db()
    assert excursion.comment == "ok"


@pytest.mark.parametrize("role", ["warehouse", "logistics", "sales"])
def test_excursion_acknowledge_needs_the_quality_role(make_user, role):
    excursion = _excursion(ended=True)
    with pytest.raises(PermissionDenied):
        excursion_acknowledge(excursion=excursion, user=make_user(role), comment="seen")
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.OPEN


# --- API ----------------------------------------------------------------------------------------

BASE = "/api/v1/traceability/excursions"


def test_api_excursion_acknowledge(api_client_for, quality_user):
    excursion = _excursion(ended=True)
    response = api_client_for(quality_user).post(
        f"{BASE}/{excursion.pk}/acknowledge/", {"comment": "checked"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed" and response.json()["comment"] == "checked"


def test_api_excursion_acknowledge_without_comment_has_the_error_shape(api_client_for, quality_user):
    excursion = _excursion(ended=True)
    response = api_client_for(quality_user).post(f"{BASE}/{excursion.pk}/acknowledge/", {"comment": ""}, format="json")
    body = response.json()
    assert response.status_code == 400 and set(body) >= {"code", "message", "fields", "details"}
    assert "comment" in body["fields"]
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.OPEN


def test_api_excursion_acknowledge_by_warehouse_is_forbidden(api_client_for, make_user):
    excursion = _excursion(ended=True)
    response = api_client_for(make_user("warehouse")).post(
        f"{BASE}/{excursion.pk}/acknowledge/", {"comment": "seen"}, format="json"
    )
    assert response.status_code == 403
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.OPEN


def test_api_excursion_list_is_query_bounded(api_client_for, quality_user, django_assert_max_num_queries):
    for _ in range(5):
        _excursion(ended=True)
    with django_assert_max_num_queries(10):
        response = api_client_for(quality_user).get(f"{BASE}/?status=open")
    assert response.status_code == 200 and response.json()["count"] == 5


# --- page ---------------------------------------------------------------------------------------


def test_lot_page_shows_the_acknowledge_button_and_it_closes_the_excursion(client, quality_user):
    # given a lot affected by an ended excursion
    wh = warehouse(is_cold_storage=True)
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    lot = released_stock(product=prod, warehouse=wh, quantity=3, expiry=in_days(200))
    excursion = _excursion(ended=True, warehouse=wh)
    excursion.lots.add(lot)
    client.force_login(quality_user)
    page = f"/traceability/lots/{lot.pk}/"
    # when
    html = client.get(page).content.decode()
    response = client.post(
        f"/traceability/excursions/{excursion.pk}/acknowledge/", {"comment": "assessed", "next": page}
    )
    # then
    assert f"/traceability/excursions/{excursion.pk}/acknowledge/" in html
    assert response.status_code == 302 and response["Location"] == page
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.CLOSED


def test_acknowledge_page_without_comment_shows_an_error_and_changes_nothing(client, quality_user):
    excursion = _excursion(ended=True)
    client.force_login(quality_user)
    response = client.post(f"/traceability/excursions/{excursion.pk}/acknowledge/", {"comment": ""}, follow=True)
    assert response.status_code == 200
    errors = [m for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and str(errors[0])
    excursion.refresh_from_db()
    assert excursion.status == ExcursionStatus.OPEN


def test_lot_page_hides_the_button_from_warehouse_staff(client, make_user):
    wh = warehouse(is_cold_storage=True)
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    lot = released_stock(product=prod, warehouse=wh, quantity=3, expiry=in_days(200))
    excursion = _excursion(ended=True, warehouse=wh)
    excursion.lots.add(lot)
    client.force_login(make_user("warehouse"))
    html = client.get(f"/traceability/lots/{lot.pk}/").content.decode()
    assert "P1" in html and f"/excursions/{excursion.pk}/acknowledge/" not in html
