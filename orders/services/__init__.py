"""Every write to sales orders: create, update (header and nested lines), the lifecycle transitions and
the hold refresh.

Each service is one transaction that locks the order row (``orders.selectors.order_lock``), checks
that the acting user may change this order (its sales rep through a guardian object permission, or
``change_all_salesorder``), validates the whole input before writing anything, and records the acting
user and reason in the history. Create and update run the ``order.saved`` rules in the same
transaction (``rules_evaluate``), which raise, refresh or auto-resolve exception events; the order is
*held* while a blocking one is active, and every forward transition refuses while held, naming the
events.

By concern: ``inputs`` (the typed ``OrderInput`` / ``OrderLineInput`` and the one conversion from raw
values), ``entry`` (create and update, ``OrderSaveResult``), ``lines`` (building and deleting lines),
``transitions`` (submit, approve, cancel, close, downstream statuses), ``holds`` (the hold) and
``permissions`` (who may change or approve; the rep's object permissions). Everything public is
re-exported here: import from ``orders.services``.
"""

from orders.services.entry import (
    OrderSaveResult,
    order_create,
    order_create_from_input,
    order_update,
    order_update_from_input,
)
from orders.services.holds import order_hold_refresh, order_not_held_check
from orders.services.inputs import (
    HEADER_FIELDS,
    LINE_FIELDS,
    UNSET,
    OrderInput,
    OrderLineInput,
    order_input_from_values,
)
from orders.services.lines import LINE_COMPARED, LINE_NOT_INPUT, lines_delete_with_history, order_lines_build
from orders.services.permissions import (
    ORDER_REP_PERMISSIONS,
    order_can_approve,
    order_can_change,
    order_change_check,
    order_rep_grant,
    order_rep_revoke,
)
from orders.services.transitions import (
    APPROVABLE,
    CANCELLABLE,
    CLOSABLE,
    SUBMITTABLE,
    order_approve,
    order_cancel,
    order_close,
    order_submit,
)

__all__ = [
    "APPROVABLE",
    "CANCELLABLE",
    "CLOSABLE",
    "HEADER_FIELDS",
    "LINE_COMPARED",
    "LINE_FIELDS",
    "LINE_NOT_INPUT",
    "ORDER_REP_PERMISSIONS",
    "SUBMITTABLE",
    "UNSET",
    "OrderInput",
    "OrderLineInput",
    "OrderSaveResult",
    "lines_delete_with_history",
    "order_approve",
    "order_can_approve",
    "order_can_change",
    "order_cancel",
    "order_change_check",
    "order_close",
    "order_create",
    "order_create_from_input",
    "order_hold_refresh",
    "order_input_from_values",
    "order_lines_build",
    "order_not_held_check",
    "order_rep_grant",
    "order_rep_revoke",
    "order_submit",
    "order_update",
    "order_update_from_input",
]
