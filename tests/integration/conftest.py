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


@pytest.fixture(scope="session")
def celery_worker_redis(django_db_setup, django_db_blocker):
    """Start one worker for the session with tasks really going through Redis (not eager)."""
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping (start_worker expects it)
    from celery.contrib.testing.worker import start_worker
    from kombu import pools

    from erp.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = REDIS_URL
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    # Drop what an earlier run may have left in this Redis database's default queue.
    import redis

    redis.Redis.from_url(REDIS_URL).delete("celery")
    with django_db_blocker.unblock(), start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.task_always_eager, app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


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
