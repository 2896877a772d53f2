"""Lots, serials, receipts, the stock ledger, allocations, shipments, cold chain and trace edges.

Every unit is traceable from the supplier's receipt to the customer who got it. The ledger
(``StockMove``) is append-only; ``StockBalance`` is its running total per (warehouse, product, lot),
kept in the same transaction and guarded by CHECK constraints so stock never goes negative.
``TraceEdge`` rows are written when moves post, so trace reads never walk the ledger.

The models live in one module per concern and are re-exported here, so ``traceability.models.X`` keeps
working: ``lots``, ``receipts``, ``stock`` (ledger and balances), ``shipments`` (allocations, shipments,
proof of delivery), ``returns``, ``cold_chain`` and ``trace``.
"""

from traceability.models.cold_chain import (
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    TemperatureReading,
)
from traceability.models.lots import (
    PENDING_SERIAL_STATUSES,
    Issuer,
    Lot,
    LotStatus,
    ProductIdentifier,
    SerialStatus,
    SerialUnit,
    required_shelf_life_days,
)
from traceability.models.receipts import (
    Receipt,
    ReceiptLine,
    ReceiptStatus,
)
from traceability.models.returns import (
    CustomerReturn,
    CustomerReturnLine,
)
from traceability.models.shipments import (
    SHIPMENT_FLOW,
    Allocation,
    AllocationStatus,
    LogisticsEvent,
    ProofOfDelivery,
    Shipment,
    ShipmentLine,
    ShipmentSerial,
    ShipmentStatus,
)
from traceability.models.stock import (
    AppendOnlyError,
    MoveKind,
    StockBalance,
    StockMove,
    StockOperation,
)
from traceability.models.trace import (
    EdgeKind,
    RecallScopeJob,
    RecallScopeStatus,
    TraceEdge,
)

__all__ = [
    "PENDING_SERIAL_STATUSES",
    "SHIPMENT_FLOW",
    "Allocation",
    "AllocationStatus",
    "AppendOnlyError",
    "CustomerReturn",
    "CustomerReturnLine",
    "EdgeKind",
    "Excursion",
    "ExcursionKind",
    "ExcursionStatus",
    "Issuer",
    "LogisticsEvent",
    "Lot",
    "LotStatus",
    "MoveKind",
    "ProductIdentifier",
    "ProofOfDelivery",
    "RecallScopeJob",
    "RecallScopeStatus",
    "Receipt",
    "ReceiptLine",
    "ReceiptStatus",
    "SerialStatus",
    "SerialUnit",
    "Shipment",
    "ShipmentLine",
    "ShipmentSerial",
    "ShipmentStatus",
    "StockBalance",
    "StockMove",
    "StockOperation",
    "TemperatureReading",
    "TraceEdge",
    "required_shelf_life_days",
]
