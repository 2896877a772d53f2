"""rows_by_pk returns exactly what the ORM's in_bulk returns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.kernel.fetch import rows_by_pk
from exceptions_center.models import Rule
from masterdata.models import Party, Product, Warehouse
from tests.exceptions_center.factories import RuleFactory
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory


def columns(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "factory"),
    [(Party, PartyFactory), (Product, ProductFactory), (Warehouse, WarehouseFactory), (Rule, RuleFactory)],
)
def test_rows_equal_in_bulk(model, factory):
    # given (Rule has a JSONField: its database converter must run)
    rows = [factory(), factory()]
    if model is Rule:
        Rule.objects.filter(pk=rows[0].pk).update(params={"threshold": 5, "codes": ["a", "b"]})
    ids = [row.pk for row in rows]
    # when
    with CaptureQueriesContext(connection) as queries:
        found = rows_by_pk(model, [*ids, 987654321])
    expected = model._base_manager.in_bulk(ids)
    # then
    assert len(queries) == 1
    assert set(found) == set(ids)
    for pk in ids:
        assert type(found[pk]) is model and not found[pk]._state.adding and found[pk]._state.db == "default"
        assert columns(found[pk]) == columns(expected[pk])
    if model is Rule:
        assert found[ids[0]].params == {"threshold": 5, "codes": ["a", "b"]}


@pytest.mark.django_db
def test_no_ids_and_ids_out_of_bigint_range_need_no_query():
    with CaptureQueriesContext(connection) as queries:
        assert rows_by_pk(Party, []) == {}
        assert rows_by_pk(Party, [2**63, -(2**63) - 1]) == {}
    assert len(queries) == 0
