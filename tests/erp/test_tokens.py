"""API tokens (django-rest-knox): issued by log-in, hashed at rest, expiring, listed and revoked by their
owner, all revoked when the password changes or the user is deactivated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
PROBE = "/api/v1/masterdata/warehouses/"


def _login(username: str, password: str = PASSWORD, **extra) -> object:
    return APIClient().post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_login_issues_a_hashed_expiring_token_that_authenticates(make_user, settings):
    # given
    user = make_user("integrator")
    # when
    response = _login(user.username)
    # then
    assert response.status_code == 200
    body = response.json()
    secret = body["token"]
    assert len(secret) == 64
    row = AuthToken.objects.get(user=user)
    assert row.token_key == secret[:15] == body["token_key"]
    assert secret not in (row.digest, row.token_key)  # only the digest is stored
    assert len(row.digest) == 128
    expected_expiry = row.created + settings.REST_KNOX["TOKEN_TTL"]
    assert abs(row.expiry - expected_expiry) < dt.timedelta(seconds=5)
    assert body["expiry"] is not None
    assert _client(secret).get(PROBE).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "nobody", "password": PASSWORD},
        {"password": PASSWORD},
        {"username": "", "password": ""},
        {"username": "x" * 5000, "password": "y"},
        {"username": ["a"], "password": {"b": 1}},
    ],
)
def test_login_with_bad_input_is_a_400_and_issues_nothing(make_user, payload):
    # given
    make_user("integrator")
    # when
    response = APIClient().post(LOGIN, payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not AuthToken.objects.exists()


def test_login_with_a_wrong_password_or_an_inactive_user_is_a_400(make_user):
    # given
    user = make_user("integrator")
    inactive = make_user("integrator", is_active=False)
    # when
    wrong = _login(user.username, "not-the-password", HTTP_ACCEPT_LANGUAGE="en")
    dormant = _login(inactive.username, HTTP_ACCEPT_LANGUAGE="en")
    # then
    for response in (wrong, dormant):
        assert response.status_code == 400
        assert response.json()["fields"]["__all__"] == ["Unable to log in with provided credentials."]
    assert not AuthToken.objects.exists()


def test_a_user_with_the_most_tokens_must_revoke_one_first(make_user, settings):
    # given a user at the limit
    user = make_user("integrator")
    for _ in range(settings.REST_KNOX["TOKEN_LIMIT_PER_USER"]):
        AuthToken.objects.create(user=user)
    # when
    response = _login(user.username, HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 403
    assert response.json()["code"] == "token_limit"
    assert AuthToken.objects.filter(user=user).count() == settings.REST_KNOX["TOKEN_LIMIT_PER_USER"]


def test_login_deletes_the_users_expired_tokens(make_user):
    # given
    user = make_user("integrator")
    old, _secret = AuthToken.objects.create(user=user, expiry=dt.timedelta(seconds=-1))
    # when
    assert _login(user.username).status_code == 200
    # then
    assert not AuthToken.objects.filter(pk=old.pk).exists()
    assert AuthToken.objects.filter(user=user).count() == 1


def test_list_shows_my_live_tokens_without_secrets(make_user, django_assert_max_num_queries):
    # given two live tokens, an expired one, and another user's
    user, other = make_user("integrator"), make_user("integrator")
    first, secret = AuthToken.objects.create(user=user)
    second, _s = AuthToken.objects.create(user=user)
    AuthToken.objects.create(user=user, expiry=dt.timedelta(seconds=-1))
    AuthToken.objects.create(user=other)
    # when
    with django_assert_max_num_queries(2):
        response = _client(secret).get(TOKENS)
    # then
    assert response.status_code == 200
    rows = response.json()
    assert {row["token_key"] for row in rows} == {first.token_key, second.token_key}
    assert {row["token_key"]: row["current"] for row in rows} == {first.token_key: True, second.token_key: False}
    assert set(rows[0]) == {"token_key", "created", "expiry", "current"}
    assert secret not in response.content.decode()


def test_revoke_one_of_my_tokens(make_user):
    # given
    user = make_user("integrator")
    _mine, secret = AuthToken.objects.create(user=user)
    spare, spare_secret = AuthToken.objects.create(user=user)
    # when
    response = _client(secret).delete(f"{TOKENS}{spare.token_key}/")
    # then
    assert response.status_code == 204
    assert not AuthToken.objects.filter(pk=spare.pk).exists()
    assert _client(spare_secret).get(PROBE).status_code == 401
    assert _client(secret).get(PROBE).status_code == 200


@pytest.mark.parametrize("target", ["someone_elses", "unknown"])
def test_revoking_a_token_that_is_not_mine_is_a_404_and_changes_nothing(make_user, target):
    # given
    user, other = make_user("integrator"), make_user("integrator")
    _mine, secret = AuthToken.objects.create(user=user)
    theirs, _s = AuthToken.objects.create(user=other)
    key = theirs.token_key if target == "someone_elses" else "does-not-exist"
    # when
    response = _client(secret).delete(f"{TOKENS}{key}/")
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert AuthToken.objects.count() == 2


def test_logout_revokes_the_token_used_and_logout_all_every_token(make_user):
    # given
    user = make_user("integrator")
    _a, first = AuthToken.objects.create(user=user)
    _b, second = AuthToken.objects.create(user=user)
    _c, third = AuthToken.objects.create(user=user)
    # when / then: logout ends the token sent, not the others
    assert _client(first).post("/api/v1/auth/logout/").status_code == 204
    assert _client(first).get(PROBE).status_code == 401
    assert _client(second).get(PROBE).status_code == 200
    # when / then: logout-all ends the rest
    assert _client(second).post("/api/v1/auth/logout-all/").status_code == 204
    assert not AuthToken.objects.filter(user=user).exists()
    assert _client(third).get(PROBE).status_code == 401


def test_token_endpoints_need_authentication(db):
    for method, path in [("get", TOKENS), ("post", "/api/v1/auth/logout/"), ("delete", f"{TOKENS}abc/")]:
        response = getattr(APIClient(), method)(path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_changing_my_password_revokes_my_tokens(client, make_user):
    # given
    user = make_user("sales")
    _token, secret = AuthToken.objects.create(user=user)
    other_user_token, _s = AuthToken.objects.create(user=make_user("sales"))
    client.force_login(user)
    # when
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-Passw0rd-2026", "new_password2": "a-new-Passw0rd-2026"},
    )
    # then
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()
    assert _client(secret).get(PROBE).status_code == 401
    assert AuthToken.objects.filter(pk=other_user_token.pk).exists()


def test_a_refused_password_change_keeps_the_tokens(client, make_user):
    # given
    user = make_user("sales")
    AuthToken.objects.create(user=user)
    client.force_login(user)
    # when
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "a-new-Passw0rd-2026", "new_password2": "a-new-Passw0rd-2026"},
    )
    # then
    assert response.status_code == 200
    assert AuthToken.objects.filter(user=user).count() == 1


def test_password_reset_link_revokes_the_tokens(client, make_user):
    # given
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = make_user("sales")
    AuthToken.objects.create(user=user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    form_url = client.get(link)["Location"]
    # when
    response = client.post(form_url, {"new_password1": "a-new-Passw0rd-2026", "new_password2": "a-new-Passw0rd-2026"})
    # then
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()


def test_admin_setting_a_password_or_deactivating_revokes_the_tokens(client, admin_user, make_user):
    # given
    user = make_user("integrator")
    AuthToken.objects.create(user=user)
    client.force_login(admin_user)
    # when an admin sets a new password
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a-new-Passw0rd-2026", "password2": "a-new-Passw0rd-2026", "usable_password": "true"},
    )
    # then
    assert response.status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()

    # given a new token
    AuthToken.objects.create(user=user)
    # when the admin deactivates the user
    change = reverse("admin:auth_user_change", args=[user.pk])
    form = client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "groups": [g.pk for g in user.groups.all()],
            "user_permissions": [],
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
        }
    )
    data = {key: value for key, value in data.items() if not isinstance(value, bool) or value}
    response = client.post(change, data)
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert not user.is_active
    assert not AuthToken.objects.filter(user=user).exists()


def test_account_page_lists_and_revokes_my_tokens(client, make_user):
    # given
    user = make_user()
    first, _s = AuthToken.objects.create(user=user)
    second, _s2 = AuthToken.objects.create(user=user)
    theirs, _s3 = AuthToken.objects.create(user=make_user())
    client.force_login(user)
    # when
    page = client.get(reverse("account-tokens"), HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert page.status_code == 200
    text = page.content.decode()
    assert first.token_key in text and second.token_key in text and theirs.token_key not in text
    assert first.digest not in text
    # when one is revoked, then another's is a 404, then all
    assert client.post(reverse("account-token-revoke", args=[first.token_key])).status_code == 302
    assert client.post(reverse("account-token-revoke", args=[theirs.token_key])).status_code == 404
    assert client.get(reverse("account-token-revoke", args=[second.token_key])).status_code == 405
    assert list(AuthToken.objects.filter(user=user)) == [second]
    assert client.post(reverse("account-tokens-revoke-all")).status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()
    assert AuthToken.objects.filter(pk=theirs.pk).exists()


def test_account_page_in_chinese_and_empty_state(client, make_user):
    client.force_login(make_user())
    page = client.get(reverse("account-tokens"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "API 令牌" in page.content.decode()
