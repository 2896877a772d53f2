"""Every write of traceability, one module per concern, re-exported here.

- ``receiving``: receipts built by scanning (single scans and 10,000-scan batches)
- ``ledger``: append-only stock moves and balances under row locks
- ``lots``: lot release (signed), hold, reject, recall
- ``allocation``: FEFO reservation for orders, release of reservations
- ``shipments``: pick, dispatch, logistics events, proof of delivery
- ``coldchain``: temperature readings, excursions and gaps
- ``recall``: recall scope, at once or as a background job
- ``returns``: customer returns against a shipment (into the returns zone, awaiting release)
- ``scans``: periodic stock scans (expired stock on hand)
- ``stock``: transfers between warehouses, inventory adjustments, scrapping
"""

from traceability.services.allocation import (
    AllocationResult,
    order_allocate,
    order_allocate_on_approval,
    order_deallocate,
)
from traceability.services.coldchain import (
    excursion_acknowledge,
    excursions_detect,
    temperature_readings_record,
    temperature_records_scan,
)
from traceability.services.ledger import MoveSpec, balances_lock, stock_moves_post
from traceability.services.lots import lot_release, lot_status_set, lots_hold
from traceability.services.recall import recall_scope_job_create, recall_scope_job_run, recall_scope_request
from traceability.services.receiving import (
    receipt_complete,
    receipt_create,
    receipt_create_with_scans,
    receipt_scan,
    receipt_scans_receive,
)
from traceability.services.returns import RETURNABLE_SHIPMENT_STATUSES, shipment_return
from traceability.services.scans import shipments_overdue_scan, stock_expiry_scan, stock_scan
from traceability.services.shipments import shipment_create, shipment_dispatch, shipment_event_record, shipment_sign
from traceability.services.stock import stock_adjust, stock_scrap, stock_transfer

__all__ = [
    "RETURNABLE_SHIPMENT_STATUSES",
    "AllocationResult",
    "MoveSpec",
    "balances_lock",
    "excursion_acknowledge",
    "excursions_detect",
    "lot_release",
    "lot_status_set",
    "lots_hold",
    "order_allocate",
    "order_allocate_on_approval",
    "order_deallocate",
    "recall_scope_job_create",
    "recall_scope_job_run",
    "recall_scope_request",
    "receipt_complete",
    "receipt_create",
    "receipt_create_with_scans",
    "receipt_scan",
    "receipt_scans_receive",
    "shipment_create",
    "shipment_dispatch",
    "shipment_event_record",
    "shipment_return",
    "shipment_sign",
    "shipments_overdue_scan",
    "stock_adjust",
    "stock_expiry_scan",
    "stock_moves_post",
    "stock_scan",
    "stock_scrap",
    "stock_transfer",
    "temperature_readings_record",
    "temperature_records_scan",
]
