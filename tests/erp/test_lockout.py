"""Log-in lockout (django-axes) per username and address, on the web page, the admin and the API token
endpoint; unlocking by an admin; the throttle on the log-in and token endpoints."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.cache import cache
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"


def _api_login(username, password, address="10.0.0.1"):
    return APIClient().post(
        LOGIN,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _web_login(client, username, password, address="10.0.0.1", language="en"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_api_login_locks_after_the_failure_limit_with_a_429_and_no_token(make_user, settings):
    # given a user whose password was guessed wrong up to the limit from one address
    user = make_user("integrator")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _api_login(user.username, "guess").status_code == 400
    last = _api_login(user.username, "guess")
    # when the right password comes next from that address
    response = _api_login(user.username, PASSWORD)
    # then both are a 429 in the one error shape with the lockout message, and no token exists
    for locked in (last, response):
        assert locked.status_code == 429
        body = locked.json()
        assert body["code"] == "locked_out"
        assert "locked for 30 minutes" in body["message"]
        assert set(body) == {"code", "message", "fields", "details"}
    assert not AuthToken.objects.exists()
    attempt = AccessAttempt.objects.get(username=user.username, ip_address="10.0.0.1")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    assert AccessFailureLog.objects.filter(username=user.username, locked_out=True).exists()


def test_the_lock_is_per_username_and_address(make_user, settings):
    # given user A locked from one address
    locked, other = make_user("integrator"), make_user("integrator")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _api_login(locked.username, "guess", address="10.0.0.1")
    # when / then: A from another address, and B from the same address, still log in
    assert _api_login(locked.username, PASSWORD, address="10.0.0.2").status_code == 200
    assert _api_login(other.username, PASSWORD, address="10.0.0.1").status_code == 200
    assert _api_login(locked.username, PASSWORD, address="10.0.0.1").status_code == 429


def test_a_success_before_the_limit_clears_the_failures_and_is_logged(make_user, settings):
    # given
    user = make_user("integrator")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _api_login(user.username, "guess")
    # when
    assert _api_login(user.username, PASSWORD).status_code == 200
    # then the count starts again, and the log-in is in the access log
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _api_login(user.username, "guess").status_code == 400
    assert _api_login(user.username, PASSWORD).status_code == 200
    assert AccessLog.objects.filter(username=user.username).count() == 2


@pytest.mark.parametrize(
    ("language", "text"), [("en", "logging in is locked for 30 minutes"), ("zh-hans", "登录已锁定 30 分钟")]
)
def test_web_login_page_shows_the_lockout_in_the_users_language(client, make_user, settings, language, text):
    # given
    user = make_user("sales")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _web_login(client, user.username, "guess", language=language).status_code == 200
    # when the limit is reached, and then the right password is tried
    last = _web_login(client, user.username, "guess", language=language)
    response = _web_login(client, user.username, PASSWORD, language=language)
    # then the log-in page again, status 429, with the message; nobody is logged in
    for locked in (last, response):
        assert locked.status_code == 429
        assert text in locked.content.decode()
        assert 'id="login-form"' in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_locks_too(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("admin:login"), {"username": admin_user.username, "password": "guess"}, REMOTE_ADDR="10.0.0.9"
        )
    assert response.status_code == 429
    assert AccessAttempt.objects.filter(username=admin_user.username).exists()


def test_an_admin_unlocks_by_deleting_the_attempt(client, admin_user, make_user, settings):
    # given a locked integrator
    user = make_user("integrator")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _api_login(user.username, "guess")
    attempt = AccessAttempt.objects.get(username=user.username)
    client.force_login(admin_user)
    # when the admin deletes the attempt in the admin
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    # then the user logs in again
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert _api_login(user.username, PASSWORD).status_code == 200


def test_only_superusers_may_open_the_access_attempts(client, make_user):
    # given a staff user of a review role (no axes permissions)
    compliance = make_user("compliance", is_staff=True)
    client.force_login(compliance)
    # when / then
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_the_login_and_token_endpoints_are_throttled_per_address(make_user, monkeypatch):
    # given a rate of 3 a minute (the fixture in tests/conftest.py lifts it for other tests)
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    cache.delete_many(["throttle_auth_10.0.0.7", "throttle_auth_10.0.0.8"])
    user = make_user("integrator")
    # when
    codes = [_api_login(user.username, PASSWORD, address="10.0.0.7").status_code for _ in range(4)]
    elsewhere = _api_login(user.username, PASSWORD, address="10.0.0.8")
    # then the fourth is refused in the one error shape; another address is not affected
    assert codes == [200, 200, 200, 429]
    assert AuthToken.objects.filter(user=user).count() == 4
    assert elsewhere.status_code == 200
    refused = _api_login(user.username, PASSWORD, address="10.0.0.7")
    assert refused.json()["code"] == "throttled"
    assert "Retry-After" in refused
    cache.delete_many(["throttle_auth_10.0.0.7", "throttle_auth_10.0.0.8"])


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(rf, settings):
    from erp.kernel.auth_backends import client_ip_address

    request = rf.get("/", REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    settings.ERP_PROXY_COUNT = 0
    assert client_ip_address(request) == "172.16.0.1"
    settings.ERP_PROXY_COUNT = 1
    assert client_ip_address(request) == "203.0.113.5"  # the forged first entry is ignored
