"""``/healthz``: 200 when the database (and Redis, when configured) answer, 503 when one does not."""

import pytest
from django.test import override_settings


@pytest.mark.django_db
def test_healthz_is_ok_without_redis(client, settings):
    # given
    settings.REDIS_URL = ""

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
def test_healthz_is_503_when_redis_is_configured_but_unreachable(client):
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


@pytest.mark.django_db
def test_healthz_needs_no_login_and_shows_no_data(client):
    # when
    response = client.get("/healthz")

    # then
    assert set(response.json()) == {"status", "checks"}


# No django_db mark: no test transaction holds the connection, so the view really connects (and fails).
@override_settings(REDIS_URL="")
def test_healthz_is_503_when_the_database_is_unreachable(client, django_db_blocker):
    # given the database connection pointed at a port where nothing listens
    from django.db import connection

    with django_db_blocker.unblock():
        connection.close()
        saved = dict(connection.settings_dict)
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
        try:
            # when
            response = client.get("/healthz")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "error: OperationalError"
    assert body["checks"]["redis"] == "not configured"
