"""A real Celery worker (in a thread, solo pool) against REDIS_URL, shared by the integration tests.

Skipped cleanly when REDIS_URL is unset (CI sets it). Tests using it need
``@pytest.mark.django_db(transaction=True)``: the worker has its own database connection and must see
committed rows.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "")


def pytest_collection_modifyitems(config, items):
    if REDIS_URL:
        return
    skip = pytest.mark.skip(reason="REDIS_URL is not set: integration tests need Redis")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


def _switch_broker(app, *, eager: bool, url: str) -> None:
    from kombu import pools

    app.conf.task_always_eager, app.conf.broker_url = eager, url
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


def _worker_idle(redis_client) -> bool:
    """Nothing waiting in the default queue and nothing received but unfinished in the worker thread."""
    from celery.worker import state

    return redis_client.llen("celery") == 0 and not state.active_requests and not state.reserved_requests


def _drain(redis_client, timeout: float = 30.0) -> None:
    """Wait until the worker has finished everything queued so far (idle twice, 100 ms apart): the test's
    teardown flushes the database, which must not race a task still writing."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _worker_idle(redis_client):
            time.sleep(0.1)
            if _worker_idle(redis_client):
                return
        time.sleep(0.05)
    raise AssertionError(f"the Celery worker did not go idle within {timeout:.0f} s")


@pytest.fixture(scope="module")
def _celery_worker_module(django_db_setup, django_db_blocker):
    """One worker for the module with tasks really going through Redis (not eager); eager execution
    and the in-memory broker come back when the module ends, so no later test publishes to Redis."""
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping (start_worker expects it)
    import redis
    from celery.contrib.testing.worker import start_worker

    from erp.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    _switch_broker(app, eager=False, url=REDIS_URL)
    redis_client = redis.Redis.from_url(REDIS_URL)
    # Drop what an earlier run may have left in this Redis database's default queue.
    redis_client.delete("celery")
    try:
        with django_db_blocker.unblock(), start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app, redis_client
    finally:
        _switch_broker(app, eager=saved[0], url=saved[1])


@pytest.fixture
def celery_worker_redis(_celery_worker_module):
    """The module's worker; after the test, waits for it to finish what the test queued."""
    app, redis_client = _celery_worker_module
    yield app
    _drain(redis_client)


@pytest.fixture
def departments(transactional_db):
    """The seeded departments again: a transactional test starts from a flushed database, where only
    the role groups come back (post_migrate), not the data migration's departments."""
    from importlib import import_module

    from django.contrib.auth.models import Group

    from exceptions_center.models import Department

    for code, zh, en, group_name in import_module("exceptions_center.migrations.0002_departments").DEPARTMENTS:
        group, _created = Group.objects.get_or_create(name=group_name)
        Department.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "group": group})
