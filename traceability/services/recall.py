"""Recall scope: small scopes answer at once, large ones run as a background job with progress."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user
from traceability.conf import traceability_setting
from traceability.models import RecallScopeJob, RecallScopeStatus, TraceEdge
from traceability.services._common import require_perm


def _criteria_clean(criteria: dict) -> dict:
    cleaned = {
        "lot_ids": sorted({int(x) for x in criteria.get("lot_ids") or []}),
        "serial_ids": sorted({int(x) for x in criteria.get("serial_ids") or []}),
        "product_id": int(criteria["product_id"]) if criteria.get("product_id") else None,
        "produced_from": str(criteria["produced_from"]) if criteria.get("produced_from") else None,
        "produced_to": str(criteria["produced_to"]) if criteria.get("produced_to") else None,
    }
    if not (cleaned["lot_ids"] or cleaned["serial_ids"] or cleaned["product_id"]):
        raise DomainError(
            _("Name lots, serials, or a product (with a production-date range)."),
            code="validation_error",
            fields={"__all__": [_("Nothing to scope.")]},
        )
    return cleaned


def recall_scope_request(*, user, criteria: dict) -> dict | RecallScopeJob:
    """Compute a recall scope now when it is small (few lots and trace edges), else queue a
    ``RecallScopeJob`` (computed by a Celery task after commit) and return it."""
    from traceability.selectors import recall_scope, recall_scope_lot_ids

    require_perm(user, "traceability.view_all_recallscopejob", _("You may not run recall scopes."))
    criteria = _criteria_clean(criteria)
    lot_ids = recall_scope_lot_ids(criteria=criteria)
    small = len(lot_ids) <= traceability_setting("RECALL_SYNC_MAX_LOTS") and (
        TraceEdge.objects.filter(lot_id__in=lot_ids).count() <= traceability_setting("RECALL_SYNC_MAX_EDGES")
    )
    if small:
        return recall_scope(criteria=criteria)
    return recall_scope_job_create(user=user, criteria=criteria, lot_count=len(lot_ids))


@transaction.atomic
def recall_scope_job_create(*, user, criteria: dict, lot_count: int = 0) -> RecallScopeJob:
    """Queue a recall-scope job; the task is sent after commit."""
    from traceability.tasks import recall_scope_job_run_task

    job = RecallScopeJob.objects.create(criteria=criteria, lot_count=lot_count, requested_by=acting_user(user))
    transaction.on_commit(lambda: recall_scope_job_run_task.delay(job.pk))
    return job


def recall_scope_job_run(*, job_id: int) -> RecallScopeJob:
    """Compute a queued job's scope, saving progress as it goes (idempotent: a finished job is kept)."""
    from traceability.selectors import recall_scope

    job = RecallScopeJob.objects.get(pk=job_id)
    if job.status == RecallScopeStatus.DONE:
        return job
    RecallScopeJob.objects.filter(pk=job.pk).update(status=RecallScopeStatus.RUNNING, progress=0)

    def progress(percent: int) -> None:
        RecallScopeJob.objects.filter(pk=job.pk).update(progress=min(percent, 99))

    try:
        result = recall_scope(criteria=job.criteria, progress=progress)
    except Exception as exc:
        RecallScopeJob.objects.filter(pk=job.pk).update(
            status=RecallScopeStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    RecallScopeJob.objects.filter(pk=job.pk).update(
        status=RecallScopeStatus.DONE,
        progress=100,
        result=result,
        lot_count=result["lot_count"],
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
