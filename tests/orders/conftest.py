import pytest

from tests.masterdata.factories import ProductFactory, WarehouseFactory
from tests.orders.factories import customer_for


@pytest.fixture
def rep(make_user):
    return make_user("sales")


@pytest.fixture
def other_rep(make_user):
    return make_user("sales")


@pytest.fixture
def warehouse(db):
    return WarehouseFactory()


@pytest.fixture
def customer(rep):
    return customer_for(rep)


@pytest.fixture
def product(db):
    return ProductFactory()
