"""Reference data loaded by data migrations survives transactional tests (which flush every table)."""

import pytest

from exceptions_center.models import Department, Rule
from masterdata.models import Region


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_reference_data():
    # given / when a transactional test runs (its flush at teardown empties every table)
    # then the data migrations' rows are there
    assert Region.objects.count() == 34
    assert Department.objects.filter(code="compliance").exists()
    assert Rule.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_next_transactional_test_sees_them_again():
    assert Region.objects.count() == 34
    assert Department.objects.count() >= 7
    assert Rule.objects.filter(event="order.saved").exists()
