"""Thin Celery entry points of traceability: load by id, call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="traceability.recall_scope_job_run", acks_late=True)
def recall_scope_job_run_task(job_id: int) -> None:
    """Compute a large recall scope in the background (``services.recall_scope_job_run``)."""
    from traceability.services import recall_scope_job_run

    recall_scope_job_run(job_id=job_id)


@shared_task(name="traceability.stock_scan", acks_late=True)
def stock_scan_task() -> None:
    """Periodic scan: expired stock on hand per warehouse and overdue shipments (``services.stock_scan``)."""
    from traceability.services import stock_scan

    stock_scan()


@shared_task(name="traceability.temperature_records_scan", acks_late=True)
def temperature_records_scan_task() -> None:
    """Periodic scan: cold-chain shipments and cold stores whose temperature records stopped
    (``services.temperature_records_scan``; idempotent, so a retried or overlapping run is harmless)."""
    from traceability.services import temperature_records_scan

    temperature_records_scan()
