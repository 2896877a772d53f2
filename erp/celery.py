"""The Celery app. Tasks live in each app's ``tasks.py``; the beat schedule is in settings.

Without ``REDIS_URL`` tasks run eagerly, in-process, right after the transaction that queued them
commits (services queue with ``transaction.on_commit``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

app = Celery("erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
