"""Row-level scoping of master-data reads: a sales rep sees only their parties; managers and back office
see all; users without a role see nothing; a missing row and a forbidden row give the same error."""

import pytest

from erp.kernel.errors import NotFoundOrForbidden
from masterdata import selectors, services
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory(make_user, admin_user):
    """Two reps with two customers each, and one unassigned customer."""
    rep_a, rep_b = make_user("sales"), make_user("sales")
    parties = [PartyFactory() for _ in range(5)]
    for party, rep in zip(parties, [rep_a, rep_a, rep_b, rep_b], strict=False):
        services.party_update(instance=party, user=admin_user, sales_rep=rep)
    return rep_a, rep_b, parties


def test_party_list_visible_to_a_sales_rep_is_their_own_parties(territory):
    # given
    rep_a, rep_b, parties = territory

    # when
    visible_a = set(selectors.party_list_visible_to(user=rep_a))
    visible_b = set(selectors.party_list_visible_to(user=rep_b, action="change"))

    # then
    assert visible_a == set(parties[:2])
    assert visible_b == set(parties[2:4])


@pytest.mark.parametrize(
    "role", ["sales_manager", "warehouse", "logistics", "quality", "compliance", "finance", "auditor", "integrator"]
)
def test_party_list_visible_to_managers_and_back_office_is_every_party(territory, make_user, role):
    # given
    _rep_a, _rep_b, parties = territory
    user = make_user(role)

    # when
    visible = set(selectors.party_list_visible_to(user=user))

    # then
    assert visible == set(parties)


@pytest.mark.parametrize(("role", "can_change"), [("sales_manager", True), ("compliance", True), ("auditor", False)])
def test_party_list_visible_to_for_change_follows_the_role(territory, make_user, role, can_change):
    # given
    user = make_user(role)

    # when
    count = selectors.party_list_visible_to(user=user, action="change").count()

    # then
    assert count == (5 if can_change else 0)


def test_party_list_visible_to_a_user_without_role_is_empty(territory, make_user):
    # given
    nobody = make_user()

    # when / then
    assert not selectors.party_list_visible_to(user=nobody).exists()
    assert not selectors.product_list_visible_to(user=nobody).exists()
    assert not selectors.warehouse_list_visible_to(user=nobody).exists()


def test_party_list_visible_to_anonymous_is_empty(territory):
    from django.contrib.auth.models import AnonymousUser

    # when / then
    assert not selectors.party_list_visible_to(user=AnonymousUser()).exists()


def test_party_get_gives_the_same_error_for_foreign_and_missing_parties(territory):
    # given
    rep_a, _rep_b, parties = territory

    # when / then
    assert selectors.party_get(user=rep_a, pk=parties[0].pk) == parties[0]
    with pytest.raises(NotFoundOrForbidden):
        selectors.party_get(user=rep_a, pk=parties[2].pk)
    with pytest.raises(NotFoundOrForbidden):
        selectors.party_get(user=rep_a, pk=10**9)


def test_reassigning_the_rep_moves_visibility(territory, admin_user):
    # given
    rep_a, rep_b, parties = territory

    # when
    services.party_update(instance=parties[0], user=admin_user, reason="territory change", sales_rep=rep_b)

    # then
    assert parties[0] not in selectors.party_list_visible_to(user=rep_a)
    assert parties[0] in selectors.party_list_visible_to(user=rep_b)


def test_products_and_warehouses_are_visible_to_every_role_with_the_model_permission(make_user):
    # given
    product, warehouse = ProductFactory(), WarehouseFactory()
    rep = make_user("sales")

    # when / then: products and warehouses are not row-scoped
    assert list(selectors.product_list_visible_to(user=rep)) == [product]
    assert list(selectors.warehouse_list_visible_to(user=rep)) == [warehouse]
    assert selectors.product_get(user=rep, pk=product.pk) == product
    with pytest.raises(NotFoundOrForbidden):
        selectors.product_get(user=make_user("auditor"), pk=product.pk, action="change")  # auditors only read


def test_product_find_by_gtin_accepts_every_gtin_length():
    # given
    product = ProductFactory(udi_di="06901234567892")

    # when / then
    assert selectors.product_find_by_gtin(gtin="6901234567892") == product
    assert selectors.product_find_by_gtin(gtin="06901234567892") == product
    assert selectors.product_find_by_gtin(gtin="06901234567893") is None


def test_party_list_visible_to_a_rep_costs_a_fixed_number_of_queries(territory, django_assert_max_num_queries):
    # given
    rep_a, _rep_b, _parties = territory
    rep_a = type(rep_a).objects.get(pk=rep_a.pk)  # fresh: no permission cache

    # when / then: permission checks + one list query, whatever the number of rows
    with django_assert_max_num_queries(6):
        rows = list(selectors.party_list_visible_to(user=rep_a))
        _ = [(p.province.name_zh, p.sales_rep and p.sales_rep.username) for p in rows]
