"""The one-query permission backend gives exactly Django's answers."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.kernel.auth_backends import ModelBackendOneQuery, user_group_names


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.django_db
def test_permissions_and_group_names_in_one_query_equal_djangos(make_user):
    # given: a user in two roles with a direct permission of their own
    user = make_user("sales", "warehouse")
    user.user_permissions.add(Permission.objects.get(codename="view_all_party"))
    expected = ModelBackend().get_all_permissions(fresh(user))
    # when
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        perms = ModelBackendOneQuery().get_all_permissions(user)
        names = user_group_names(user)
        assert user.has_perm("masterdata.view_all_party")
        assert user.has_perm("orders.add_salesorder")
    # then
    assert perms == expected
    assert "masterdata.view_all_party" in perms
    assert names == {"sales", "warehouse"}
    assert len(queries) == 1


@pytest.mark.django_db
def test_a_permission_only_through_a_group_and_one_held_twice(make_user):
    group = Group.objects.create(name="extra-role")
    permission = Permission.objects.get(codename="view_all_party")
    group.permissions.add(permission)
    user = make_user()
    user.groups.add(group)
    user.user_permissions.add(permission)  # also held directly: listed once
    user = fresh(user)
    assert ModelBackendOneQuery().get_all_permissions(user) == {"masterdata.view_all_party"}
    assert user_group_names(user) == {"extra-role"}


@pytest.mark.django_db
def test_inactive_superuser_and_object_checks_take_djangos_path(make_user):
    inactive = make_user("sales", is_active=False)
    assert ModelBackendOneQuery().get_all_permissions(fresh(inactive)) == set()
    superuser = get_user_model().objects.create_superuser("root1", "root1@example.com", "x")
    assert ModelBackendOneQuery().get_all_permissions(fresh(superuser)) == ModelBackend().get_all_permissions(
        fresh(superuser)
    )
    sales = make_user("sales")
    assert ModelBackendOneQuery().get_all_permissions(fresh(sales), obj=sales) == set()
    assert user_group_names(superuser) == frozenset()


@pytest.mark.django_db
def test_group_names_without_permissions_read(make_user):
    user = fresh(make_user("sales_manager"))
    with CaptureQueriesContext(connection) as queries:
        assert user_group_names(user) == {"sales_manager"}
        assert user.has_perm("orders.approve_salesorder")  # read by the same query
    assert len(queries) == 1


@pytest.mark.django_db
def test_token_request_reads_token_user_and_permissions_in_one_query(make_user):
    # given an integrator's knox token
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    user = make_user("integrator")
    _token, secret = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/masterdata/warehouses/")
    # then token, user, permissions and groups came in one statement
    assert response.status_code == 200
    before_view = [q["sql"] for q in queries.captured_queries if "auth_" in q["sql"] or "knox" in q["sql"]]
    assert len(before_view) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unknown", "inactive", "expired", "wrong_secret_same_prefix", "not_ascii", "old_drf"])
def test_token_refused_for_an_unknown_expired_or_forged_key_or_an_inactive_user(make_user, case):
    # given
    import datetime as dt

    from knox.models import AuthToken
    from rest_framework.test import APIClient

    user = make_user("integrator")
    token, secret = AuthToken.objects.create(user=user)
    if case == "unknown":
        secret = "0" * 64
    elif case == "inactive":
        user.is_active = False
        user.save()
    elif case == "expired":
        AuthToken.objects.filter(pk=token.pk).update(expiry=token.created - dt.timedelta(seconds=1))
    elif case == "wrong_secret_same_prefix":
        secret = secret[:15] + ("0" if secret[15] != "0" else "1") + secret[16:]
    elif case == "not_ascii":
        secret = "令牌" * 10
    else:  # a DRF token of the kind issued before knox: 40 hex characters
        secret = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    client = APIClient()
    # when
    response = client.get(
        "/api/v1/masterdata/warehouses/",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_AUTHORIZATION=f"Token {secret}".encode().decode("latin-1"),
    )
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    expected = "User inactive or deleted." if case == "inactive" else "Invalid token."
    assert response.json()["message"] == expected
    assert AuthToken.objects.filter(pk=token.pk).exists()  # a failed request deletes nothing
