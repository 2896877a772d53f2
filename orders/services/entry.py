"""Order entry: create and update an order with its lines, then run the ``order.saved`` rules.

``order_create_from_input`` / ``order_update_from_input`` take an ``OrderInput`` (typed, references
resolved; see ``inputs``) and return an ``OrderSaveResult``. ``order_create`` / ``order_update`` take
raw keyword values (Python callers: the demo data, scripts, tests), turn them into an ``OrderInput`` and
return the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.kernel.access import restrict, sees_all_rows
from erp.kernel.auth_backends import user_group_names
from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.history import acting_user, create_with_history, history_stamp
from erp.kernel.numbering import next_number
from exceptions_center.services import rules_evaluate
from masterdata.models import Party
from orders.models import EDITABLE_STATUSES, OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_lock
from orders.services.inputs import UNSET, OrderInput, order_input_from_values
from orders.services.lines import LINE_SAVED, LinesBuilt, lines_delete_with_history, order_lines_build
from orders.services.permissions import order_change_check, order_rep_grant, order_rep_revoke

# Header fields the model's field rules do not check: references are checked here, the rest is no input.
_HEADER_NOT_CLEANED = (
    "customer",
    "ship_to",
    "warehouse",
    "sales_rep",
    "created_by",
    "number",
    "status",
    "net_amount",
    "tax_amount",
    "gross_amount",
)


@dataclass(frozen=True, slots=True)
class OrderSaveResult:
    """What an order save produced: the order, its lines (by line number, each with its product) and,
    when known without a read, its open exception events (``None``: read them with
    ``orders.selectors.order_open_events``)."""

    order: SalesOrder
    lines: tuple[SalesOrderLine, ...]
    open_events: list | None

    @property
    def held(self) -> bool:
        return self.order.is_held


# --- header ---------------------------------------------------------------------------------------


def _header_apply(order: SalesOrder, data: OrderInput, *, user, creating: bool) -> dict[str, list]:
    """Set the given header fields on ``order`` (unsaved) and return the field errors: the input's own,
    then the business rules (a customer the user may sell to, an active warehouse, only managers
    reassign the rep, CNY only) and the model's field rules."""
    errors = {name: list(messages) for name, messages in data.errors.items() if name != "lines"}
    _customer_apply(order, data, user=user, creating=creating, errors=errors)
    _ship_to_apply(order, data, errors=errors)
    _warehouse_apply(order, data, creating=creating, errors=errors)
    _sales_rep_apply(order, data, user=user, errors=errors)
    for name in ("ship_to_address", "customer_po", "contract_ref", "notes", "requested_delivery_date", "payment_terms"):
        value = getattr(data, name)
        if value is not UNSET:
            setattr(order, name, value)
    if data.currency is not UNSET:
        order.currency = data.currency
        if order.currency != "CNY":
            errors["currency"] = [_("Only CNY orders are supported.")]
    try:
        order.clean_fields(exclude=[*_HEADER_NOT_CLEANED, *(f for f in errors if f not in _HEADER_NOT_CLEANED)])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    return errors


def _customer_apply(order: SalesOrder, data: OrderInput, *, user, creating: bool, errors) -> None:
    """An order needs a customer the user may sell to (a missing one reads like one not allowed)."""
    if "customer" in errors or (data.customer is UNSET and not creating):
        return
    customer = data.customer or None
    if customer is None:
        errors["customer"] = [_("Choose the customer.")]
    elif not (sees_all_rows(Party, user) or restrict(Party.objects.filter(pk=customer.pk), user).exists()):
        errors["customer"] = [_("Choose a customer you may sell to.")]
    else:
        order.customer = customer


def _ship_to_apply(order: SalesOrder, data: OrderInput, *, errors) -> None:
    """Shipping to the customer itself is the default (no ship-to party)."""
    if "ship_to" in errors or data.ship_to is UNSET:
        return
    ship_to = data.ship_to
    if ship_to is not None and order.customer_id is not None and ship_to.pk == order.customer_id:
        ship_to = None
    order.ship_to = ship_to


def _warehouse_apply(order: SalesOrder, data: OrderInput, *, creating: bool, errors) -> None:
    """An order ships from one active warehouse."""
    if "warehouse" in errors or (data.warehouse is UNSET and not creating):
        return
    warehouse = data.warehouse or None
    if warehouse is None:
        errors["warehouse"] = [_("Choose the warehouse to ship from.")]
    elif not warehouse.is_active:
        errors["warehouse"] = [_("Choose an active warehouse.")]
    else:
        order.warehouse = warehouse


def _sales_rep_apply(order: SalesOrder, data: OrderInput, *, user, errors) -> None:
    """Only sales managers assign an order to another rep, and only to an active user."""
    if data.sales_rep is UNSET:
        return
    rep = data.sales_rep
    if "sales_rep" not in errors and (rep.pk if rep is not None else None) == order.sales_rep_id:
        return
    if not (user.is_superuser or user.has_perm("orders.change_all_salesorder")):
        errors["sales_rep"] = [_("Only sales managers may assign orders to another rep.")]
    elif "sales_rep" in errors:
        return
    elif rep is None:
        order.sales_rep = None
    elif not rep.is_active:
        errors["sales_rep"] = [_("Choose an active user.")]
    else:
        order.sales_rep = rep


def _raise_if_errors(header_errors: dict, line_errors: list[dict]) -> None:
    fields: dict[str, Any] = dict(header_errors)
    if any(line_errors):
        if len(line_errors) == 1 and "__all__" in line_errors[0] and set(line_errors[0]) == {"__all__"}:
            fields["lines"] = line_errors[0]["__all__"]
        else:
            fields["lines"] = line_errors
    if fields:
        raise DomainError(_("Please correct the errors below."), code="validation_error", fields=fields)


# --- rules ----------------------------------------------------------------------------------------


def _rules_run(order: SalesOrder, *, lines: list[SalesOrderLine], is_new: bool, user) -> OrderSaveResult:
    """Run the ``order.saved`` rules in this transaction (they recompute the hold at the end)."""
    for line in lines:
        line.order = order  # the facts read the order from the lines without a query
    # rules_evaluate ends by recomputing the hold (source_hold_refresh -> order_hold_refresh).
    result = rules_evaluate(
        event="order.saved",
        source=order,
        context={"is_new": is_new, "lines": lines, "user_id": getattr(acting_user(user), "pk", None)},
        new_source=is_new,
    )
    # Nothing open (nor routed on commit): the answer needs no query for the events.
    open_events = None if result.active else []
    return OrderSaveResult(order=order, lines=tuple(sorted(lines, key=_line_no)), open_events=open_events)


def _line_no(line: SalesOrderLine) -> int:
    return line.line_no


# --- services -------------------------------------------------------------------------------------


@transaction.atomic
def order_create_from_input(*, user, data: OrderInput) -> OrderSaveResult:
    """Create a draft order with its lines, numbered ``SO-YYYY-NNNNNN`` without gaps, and run the rules.

    The sales rep (the entering rep, else the customer's rep) gets view/change object permissions.
    Bad input raises ``DomainError`` with field errors (line errors by position) and writes nothing.
    """
    if user is None or not user.is_authenticated or not user.has_perm("orders.add_salesorder"):
        raise PermissionDenied(_("You may not enter orders."))
    order = SalesOrder(status=OrderStatus.DRAFT, created_by=user)
    header_errors = _header_apply(order, data, user=user, creating=True)
    built = order_lines_build(order, data.lines or (), existing={}, list_errors=data.errors.get("lines"))
    _raise_if_errors(header_errors, built.errors)
    if order.sales_rep_id is None:
        acting_is_rep = not user.has_perm("orders.change_all_salesorder") and "sales" in user_group_names(user)
        order.sales_rep = user if acting_is_rep else order.customer.sales_rep
    order.number = next_number("SO")
    order.recompute_totals(built.lines)
    # The order, its lines and their "created" history rows: two statements (create_with_history).
    create_with_history([order], SalesOrder, user=user, reason=data.reason or "created")
    for line in built.new:
        line.order = order
    create_with_history(built.new, SalesOrderLine, user=user, reason=data.reason or "created")
    order_rep_grant(order, order.sales_rep)
    return _rules_run(order, lines=built.lines, is_new=True, user=user)


@transaction.atomic
def order_update_from_input(*, order: SalesOrder, user, data: OrderInput) -> OrderSaveResult:
    """Change an editable (draft or submitted) order: the given header fields and, when ``data.lines``
    is given, the full set of lines (with ``id``: changed; without: added; missing: removed). Runs the
    rules again. Moving the order to another rep moves the rep's object permissions with it.
    """
    order = order_lock(order.pk)
    order_change_check(user, order)
    if order.status not in EDITABLE_STATUSES:
        raise DomainError(
            _("A %(status)s order can no longer be changed.") % {"status": order.get_status_display()},
            code="order_not_editable",
        )
    previous_rep_id = order.sales_rep_id
    header_errors = _header_apply(order, data, user=user, creating=False)
    existing = {line.pk: line for line in order.lines.select_related("product")}
    if data.lines is None:
        built = LinesBuilt(lines=list(existing.values()))
    else:
        built = order_lines_build(order, data.lines, existing=existing, list_errors=data.errors.get("lines"))
    _raise_if_errors(header_errors, built.errors)
    kept = {line.pk for line in built.lines}
    removed = [line for pk, line in existing.items() if pk not in kept]
    change_reason = data.reason or "updated"
    lines_delete_with_history(removed, user=user, reason=change_reason)
    if built.changed:
        bulk_update_with_history(
            built.changed,
            SalesOrderLine,
            list(LINE_SAVED),
            default_user=acting_user(user),
            default_change_reason=change_reason,
        )
    if built.new:
        bulk_create_with_history(
            built.new, SalesOrderLine, default_user=acting_user(user), default_change_reason=change_reason
        )
    lines = sorted(built.lines, key=_line_no)
    order.recompute_totals(lines)
    history_stamp(order, user=user, reason=change_reason)
    order.save()
    if order.sales_rep_id != previous_rep_id:
        if previous_rep_id:
            order_rep_revoke(order, previous_rep_id)
        order_rep_grant(order, order.sales_rep)
    return _rules_run(order, lines=lines, is_new=False, user=user)


def order_create(*, user, lines: list[dict], reason: str = "", **header: Any) -> SalesOrder:
    """``order_create_from_input`` for raw keyword values (instances or primary keys, strings or
    numbers, as ``order_input_from_values`` reads them); returns the new order."""
    data = order_input_from_values(header, lines, reason=reason)
    return order_create_from_input(user=user, data=data).order


def order_update(
    *, order: SalesOrder, user, lines: list[dict] | None = None, reason: str = "", **header: Any
) -> SalesOrder:
    """``order_update_from_input`` for raw keyword values; returns the changed order."""
    data = order_input_from_values(header, lines, reason=reason)
    return order_update_from_input(order=order, user=user, data=data).order
