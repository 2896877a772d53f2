import pytest


@pytest.fixture
def warehouse_user(make_user):
    return make_user("warehouse")


@pytest.fixture
def quality_user(make_user):
    return make_user("quality")


@pytest.fixture
def logistics_user(make_user):
    return make_user("logistics")
