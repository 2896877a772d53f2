"""Shared fixtures: users per role, API clients. Factories live in tests/<app>/factories.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from erp.kernel import our_apps as erp_apps

PASSWORD = "correct-horse-battery-9"
OUR_APPS = set(erp_apps.OUR_APPS)


def reference_data_reload() -> None:
    """Replay our data migrations (regions, departments, rule catalogues…), in migration order.

    A transactional test (``transaction=True``, ``live_server``) ends with a flush that empties every
    table, including rows that data migrations loaded; later tests need them back. Every loader is
    idempotent (get_or_create / update_or_create), so replaying is safe.
    """
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    plan: list[tuple[str, str]] = []
    for leaf in loader.graph.leaf_nodes():
        for node in loader.graph.forwards_plan(leaf):
            if node not in plan:
                plan.append(node)
    with connection.schema_editor(atomic=True) as schema_editor:
        for app_label, name in plan:
            if app_label not in OUR_APPS:
                continue
            for operation in loader.graph.nodes[(app_label, name)].operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, schema_editor)


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # With no next test the session teardown has already dropped the test database.
    if nextitem is not None and _flushes_database(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            reference_data_reload()


@pytest.fixture(scope="session", autouse=True)
def _celery_eager():
    """Tasks run in-process right after commit in every test, even when REDIS_URL is set (as in CI).

    Otherwise a transactional test anywhere in the suite would publish to Redis, and a worker started
    by tests/integration could still be writing when the next test flushes the database. The real
    worker on Redis is exercised in tests/integration only, which switches the broker for its module.
    """
    from kombu import pools

    from erp.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = True, "memory://"
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    yield
    app.conf.task_always_eager, app.conf.broker_url = saved


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Production hashing (PBKDF2, 1M rounds) costs ~0.5 s per user; tests need no strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """Create a user in the given roles (group names from erp.roles.ROLES)."""
    counter = {"n": 0}

    def _make(*roles: str, username: str | None = None, **extra):
        counter["n"] += 1
        name = username or f"{'_'.join(roles) or 'plain'}{counter['n']}"
        user = get_user_model().objects.create_user(
            username=name, password=PASSWORD, email=f"{name}@example.com", **extra
        )
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return _make


@pytest.fixture
def sales_user(make_user):
    return make_user("sales")


@pytest.fixture
def manager_user(make_user):
    return make_user("sales_manager")


@pytest.fixture
def auditor_user(make_user):
    return make_user("auditor")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def api_client_for():
    """An API client authenticated as the given user by token (as integrators call us)."""

    def _client(user) -> APIClient:
        from knox.models import AuthToken

        client = APIClient()
        _token, secret = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return client

    return _client


@pytest.fixture(autouse=True)
def _auth_throttle_off(monkeypatch):
    """The log-in/token throttle counts per address in the shared cache (Redis in CI) across tests; every
    test logs in from 127.0.0.1, so it is lifted here and tested on its own (tests/erp/test_lockout.py)."""
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": None})


@pytest.fixture(autouse=True)
def _private_media_root(settings, tmp_path_factory):
    """Attachments go to a temporary folder, never to the working copy's var/private."""
    settings.ERP_PRIVATE_MEDIA_ROOT = tmp_path_factory.getbasetemp() / "private"
