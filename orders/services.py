"""Every write to sales orders: create, update (header and nested lines), the lifecycle transitions and
the hold refresh.

Each service is one transaction that locks the order row, checks that the acting user may change this
order (its sales rep through a guardian object permission, or ``change_all_salesorder``), validates the
whole input before writing anything, and records the acting user and reason in the history. Create and
update run the ``order.saved`` rules in the same transaction (``rules_evaluate``), which raise,
refresh or auto-resolve exception events; the order is *held* while a blocking one is active, and
every forward transition refuses while held, naming the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.kernel.auth_backends import user_group_names
from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.fetch import rows_by_pk
from erp.kernel.history import acting_user, create_with_history, history_stamp
from erp.kernel.messages import both, stored_text
from erp.kernel.numbering import next_number
from masterdata.models import Party, Product, Warehouse
from orders import texts
from orders.models import (
    EDITABLE_STATUSES,
    OrderStatus,
    PaymentTerms,
    SalesOrder,
    SalesOrderLine,
    SalesOrderUserObjectPermission,
)

ORDER_REP_PERMISSIONS = ("view_salesorder", "change_salesorder")

HEADER_FIELDS = (
    "customer",
    "ship_to",
    "ship_to_address",
    "warehouse",
    "requested_delivery_date",
    "customer_po",
    "contract_ref",
    "payment_terms",
    "currency",
    "notes",
    "sales_rep",
)
LINE_FIELDS = (
    "product",
    "quantity",
    "unit",
    "unit_price",
    "discount_pct",
    "tax_rate",
    "requested_lot",
    "min_shelf_life_days",
    "min_shelf_life_pct",
)
# Line fields no input sets (computed, or kept by later steps): not validated as input.
LINE_NOT_INPUT = (
    "id",
    "net_amount",
    "tax_amount",
    "gross_amount",
    "submitted_unit_price",
    "submitted_discount_pct",
    "allocated_quantity",
    "shipped_quantity",
)
# Lines whose values are compared to decide whether a line changed (and needs a history row).
LINE_COMPARED = ("product_id", *LINE_FIELDS[1:])

# From where each transition may start.
SUBMITTABLE = (OrderStatus.DRAFT,)
APPROVABLE = (OrderStatus.SUBMITTED,)
CANCELLABLE = (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.APPROVED)
# An approved order may be short-closed (nothing more will be delivered); delivered/invoiced ones close
# normally. Allocated or shipped stock must be released or delivered first (later issues).
CLOSABLE = (OrderStatus.APPROVED, OrderStatus.DELIVERED, OrderStatus.INVOICED)
# Statuses the traceability and finance services may set through ``order_status_set``.
DOWNSTREAM_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
)


# --- helpers ------------------------------------------------------------------------------------


def _with_history(instance, *, user, reason: str) -> None:
    history_stamp(instance, user=user, reason=reason)


def _order_lock(order: SalesOrder) -> SalesOrder:
    """Lock the order row for the rest of the transaction and return the fresh row."""
    return (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer", "ship_to", "warehouse")
        .get(pk=order.pk)
    )


def order_can_change(*, user, order: SalesOrder) -> bool:
    """A user may change an order when they hold ``change_all_salesorder`` or are granted it on this order
    (the sales rep's object permission)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.has_perm("orders.change_all_salesorder"):
        return True
    return user.has_perm("orders.change_salesorder") and user.has_perm("orders.change_salesorder", order)


def order_can_approve(*, user, order: SalesOrder) -> bool:
    """Approving needs ``approve_salesorder`` (sales managers) and sight of the order."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.has_perm("orders.approve_salesorder"):
        return False
    return user.has_perm("orders.view_all_salesorder") or user.has_perm("orders.view_salesorder", order)


def _check_change(user, order: SalesOrder) -> None:
    if not order_can_change(user=user, order=order):
        raise PermissionDenied(_("You may not change this order."))


def _check_status(order: SalesOrder, allowed: Iterable[str], action) -> None:
    if order.status not in allowed:
        raise DomainError(
            _("A %(status)s order cannot be %(action)s.") % {"status": order.get_status_display(), "action": action},
            code="invalid_transition",
            details={"status": order.status},
        )


def _check_not_held(order: SalesOrder) -> None:
    """Refuse a forward step while a blocking exception event is active, naming the events."""
    if not order.is_held:
        return
    from exceptions_center.selectors import exception_events_active_blocking

    events = list(exception_events_active_blocking(source=order).order_by("raised_at", "id"))
    if not events:
        return
    names = "; ".join(f"{e.number} {e.message}" for e in events)
    raise DomainError(
        _("The order is held by open exception events: %(events)s") % {"events": names},
        code="order_held",
        details={
            "events": [
                {"number": e.number, "rule": e.rule.code, "severity": e.severity, "message": e.message} for e in events
            ]
        },
    )


def _grant_rep(order: SalesOrder, rep) -> None:
    """Give the order's sales rep view/change object permissions (direct FK table, two queries)."""
    if rep is None:
        return
    perms = Permission.objects.filter(content_type__app_label="orders", codename__in=ORDER_REP_PERMISSIONS)
    SalesOrderUserObjectPermission.objects.bulk_create(
        [SalesOrderUserObjectPermission(user=rep, permission=p, content_object=order) for p in perms],
        ignore_conflicts=True,
    )


def _revoke_rep(order: SalesOrder, rep_id: int) -> None:
    SalesOrderUserObjectPermission.objects.filter(
        content_object=order, user_id=rep_id, permission__codename__in=ORDER_REP_PERMISSIONS
    ).delete()


def _to_decimal(value, errors: dict, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(_("Enter a number."))
        return None


def _resolve(model, values: list) -> dict[int, Any]:
    """Instances for a mix of instances and primary keys, in one query for the keys."""
    ids = {v for v in values if v is not None and not isinstance(v, model)}
    found: dict[int, Any] = {v.pk: v for v in values if isinstance(v, model)}
    clean_ids = set()
    for v in ids:
        try:
            clean_ids.add(int(v))
        except (TypeError, ValueError):
            continue
    if clean_ids:
        found.update(rows_by_pk(model, clean_ids))  # every order save: no ORM query to build
    return found


def _as_pk(value) -> int | None:
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- header ---------------------------------------------------------------------------------


def _header_apply(order: SalesOrder, header: dict, *, user, creating: bool) -> dict[str, list]:
    """Set header fields on ``order`` (unsaved changes) and return field errors."""
    from erp.kernel.access import restrict, sees_all_rows

    errors: dict[str, list] = {}
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        for name in sorted(unknown):
            errors[name] = [_("Unknown field.")]
    parties = _resolve(Party, [header.get("customer"), header.get("ship_to")])

    if "customer" in header or creating:
        customer_pk = _as_pk(header.get("customer"))
        customer = parties.get(customer_pk)
        if customer_pk is None:
            errors["customer"] = [_("Choose the customer.")]
        elif customer is None or not (
            sees_all_rows(Party, user) or restrict(Party.objects.filter(pk=customer.pk), user).exists()
        ):
            errors["customer"] = [_("Choose a customer you may sell to.")]
        else:
            order.customer = customer
    if "ship_to" in header:
        ship_to_pk = _as_pk(header.get("ship_to"))
        if ship_to_pk is None:
            order.ship_to = None
        elif ship_to_pk not in parties:
            errors["ship_to"] = [_("Choose an existing party.")]
        elif order.customer_id is not None and ship_to_pk == order.customer_id:
            order.ship_to = None  # shipping to the customer itself is the default
        else:
            order.ship_to = parties[ship_to_pk]
    if "warehouse" in header or creating:
        warehouse_pk = _as_pk(header.get("warehouse"))
        warehouse = _resolve(Warehouse, [header.get("warehouse")]).get(warehouse_pk) if warehouse_pk else None
        if warehouse_pk is None:
            errors["warehouse"] = [_("Choose the warehouse to ship from.")]
        elif warehouse is None or not warehouse.is_active:
            errors["warehouse"] = [_("Choose an active warehouse.")]
        else:
            order.warehouse = warehouse
    if "sales_rep" in header:
        rep = header["sales_rep"]
        rep_pk = _as_pk(rep)
        if rep_pk != order.sales_rep_id:
            if not (user.is_superuser or user.has_perm("orders.change_all_salesorder")):
                errors["sales_rep"] = [_("Only sales managers may assign orders to another rep.")]
            elif rep_pk is None:
                order.sales_rep = None
            else:
                from django.contrib.auth import get_user_model

                found = _resolve(get_user_model(), [rep]).get(rep_pk)
                if found is None or not found.is_active:
                    errors["sales_rep"] = [_("Choose an active user.")]
                else:
                    order.sales_rep = found
    for name in ("ship_to_address", "customer_po", "contract_ref", "notes"):
        if name in header:
            setattr(order, name, (header[name] or "").strip())
    if "requested_delivery_date" in header:
        order.requested_delivery_date = header["requested_delivery_date"] or None
    if "payment_terms" in header:
        order.payment_terms = header["payment_terms"] or PaymentTerms.NET90
    if "currency" in header:
        order.currency = (header["currency"] or "CNY").upper()
        if order.currency != "CNY":
            errors["currency"] = [_("Only CNY orders are supported.")]

    exclude = [
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
    ]
    try:
        order.clean_fields(exclude=exclude + [f for f in errors if f not in exclude])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    return errors


# --- lines ---------------------------------------------------------------------------------


def _lines_build(
    order: SalesOrder, lines: list[dict], existing: dict[int, SalesOrderLine]
) -> tuple[list[SalesOrderLine], list[SalesOrderLine], list[SalesOrderLine], list[dict]]:
    """Validate the wanted lines; return (kept-or-changed, new, changed, per-line errors).

    A line dict with ``id`` updates that existing line; without ``id`` it is a new line. Unit price and
    tax rate default to the product's list price and tax rate.
    """
    if not isinstance(lines, list | tuple):
        return [], [], [], [{"__all__": [_("Lines must be a list.")]}]
    products = _resolve(Product, [line.get("product") for line in lines if isinstance(line, dict)])
    result: list[SalesOrderLine] = []
    new: list[SalesOrderLine] = []
    changed: list[SalesOrderLine] = []
    errors: list[dict] = []
    seen_ids: set[int] = set()
    next_no = max((line.line_no for line in existing.values()), default=0) + 1
    for raw in lines:
        line_errors: dict[str, list] = {}
        if not isinstance(raw, dict):
            errors.append({"__all__": [_("Each line must be an object.")]})
            continue
        unknown = set(raw) - set(LINE_FIELDS) - {"id", "line_no"}
        for name in sorted(unknown):
            line_errors[name] = [_("Unknown field.")]
        line_id = _as_pk(raw.get("id"))
        if line_id is not None:
            line = existing.get(line_id)
            if line is None or line_id in seen_ids:
                line_errors["id"] = [_("This line is not on the order.")]
                errors.append(line_errors)
                continue
            seen_ids.add(line_id)
            before = {name: getattr(line, name) for name in LINE_COMPARED}
        else:
            line = SalesOrderLine(order=order, line_no=0)
            before = None

        if "product" in raw or before is None:
            product = products.get(_as_pk(raw.get("product")))
            if product is None:
                line_errors["product"] = [_("Choose a product.")]
            elif before is None or product.pk != line.product_id:
                line.product = product
                # A new product brings its own defaults unless the caller gave them.
                raw = {"unit_price": None, "tax_rate": None, **raw}
                if not raw.get("unit"):
                    line.unit = product.unit
        if "quantity" in raw or before is None:
            quantity = raw.get("quantity")
            try:
                quantity_int = int(quantity)
                if Decimal(str(quantity)) != quantity_int:
                    raise ValueError
            except (TypeError, ValueError, InvalidOperation):
                line_errors["quantity"] = [_("Enter a whole number.")]
            else:
                if quantity_int < 1:
                    line_errors["quantity"] = [_("The quantity must be at least 1.")]
                line.quantity = quantity_int
        if "unit" in raw and raw.get("unit"):
            line.unit = str(raw["unit"]).strip()
        for name, default in (("unit_price", "list_price"), ("tax_rate", "tax_rate")):
            if name in raw or before is None:
                value = _to_decimal(raw.get(name), line_errors, name)
                if value is None and name not in line_errors:
                    value = getattr(line.product, default) if line.product_id else None
                if value is not None:
                    setattr(line, name, value)
        if "discount_pct" in raw:
            value = _to_decimal(raw.get("discount_pct"), line_errors, "discount_pct")
            line.discount_pct = value if value is not None else Decimal("0")
        if "requested_lot" in raw:
            lot = (raw.get("requested_lot") or "").strip()
            if lot and (" " in lot or not lot.isascii()):
                line_errors.setdefault("requested_lot", []).append(
                    _("A GS1 lot has no spaces and no Chinese characters.")
                )
            line.requested_lot = lot
        for name in ("min_shelf_life_days", "min_shelf_life_pct"):
            if name in raw:
                value = raw.get(name)
                try:
                    setattr(line, name, None if value in (None, "") else int(value))
                except (TypeError, ValueError):
                    line_errors.setdefault(name, []).append(_("Enter a whole number."))
        if line.tax_rate is not None and line.tax_rate >= 1:
            line_errors.setdefault("tax_rate", []).append(_("Enter the tax rate as a fraction, e.g. 0.13 for 13 %."))
        exclude = ["order", "line_no", "product", *LINE_NOT_INPUT, *line_errors]
        if line.product_id is None:
            exclude += ["unit_price", "tax_rate", "unit"]
        try:
            line.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                line_errors.setdefault(name, []).extend(messages)
        errors.append(line_errors)
        if line_errors:
            continue
        line.compute_amounts()
        if before is None:
            line.line_no = next_no
            next_no += 1
            new.append(line)
        elif any(getattr(line, name) != value for name, value in before.items()):
            changed.append(line)
        result.append(line)
    if not lines:
        return [], [], [], [{"__all__": [_("An order needs at least one line.")]}]
    return result, new, changed, errors


def _lines_delete_with_history(lines: list[SalesOrderLine], *, user, reason: str) -> None:
    """Delete removed lines in a fixed number of queries, each with its "-" history row.

    ``Model.delete()`` (and ``QuerySet.delete()``, as simple-history listens to ``post_delete``) costs
    a history insert and a delete per line. Instead the collector checks what protects the lines (stock
    allocated or shipped for them: ``ProtectedError``), the history rows are inserted in bulk as
    simple-history would write them, and one DELETE removes the rows. Nothing cascades from a line
    (``tests/orders/test_services.py`` holds that line), so that DELETE is the whole deletion.
    """
    if not lines:
        return
    using = router.db_for_write(SalesOrderLine)
    Collector(using=using, origin=lines).collect(lines)
    history_model = SalesOrderLine.history.model
    now = timezone.now()
    rows = []
    for line in lines:
        history_stamp(line, user=user, reason=reason)
        rows.append(
            history_model(
                history_date=now,
                history_user=line._history_user,
                history_change_reason=line._change_reason,
                history_type="-",
                **{field.attname: getattr(line, field.attname) for field in history_model.tracked_fields},
            )
        )
    history_model.objects.bulk_create(rows)
    # _raw_delete: the DELETE without the per-row signals whose only listener would write the history
    # rows written above a second time.
    SalesOrderLine.objects.filter(pk__in=[line.pk for line in lines])._raw_delete(using)


def _raise_if_errors(header_errors: dict, line_errors: list[dict]) -> None:
    fields: dict[str, Any] = dict(header_errors)
    if any(line_errors):
        if len(line_errors) == 1 and "__all__" in line_errors[0] and set(line_errors[0]) == {"__all__"}:
            fields["lines"] = line_errors[0]["__all__"]
        else:
            fields["lines"] = line_errors
    if fields:
        raise DomainError(_("Please correct the errors below."), code="validation_error", fields=fields)


# --- rules and hold -----------------------------------------------------------------------------


def _rules_run(order: SalesOrder, *, lines: list[SalesOrderLine], is_new: bool, user) -> None:
    """Run the ``order.saved`` rules in this transaction (they recompute the hold at the end)."""
    from exceptions_center.services import rules_evaluate

    for line in lines:
        line.order = order  # the facts read the order from the lines without a query
    # rules_evaluate ends by recomputing the hold (source_hold_refresh -> order_hold_refresh).
    result = rules_evaluate(
        event="order.saved",
        source=order,
        context={"is_new": is_new, "lines": lines, "user_id": getattr(acting_user(user), "pk", None)},
        new_source=is_new,
    )
    order.saved_lines = lines  # the API answers with them without reading them back
    if not result.active:
        order.open_events = []  # nothing open (nor routed on commit): the answer needs no query


def order_hold_refresh(*, source: SalesOrder, active=None) -> SalesOrder:
    """Set ``is_held`` and ``hold_summary`` from the order's active blocking exception events.

    Called by the order services after the rules ran and by the exception center whenever an event
    leaves or re-enters an active status. Caller is inside the writing transaction. ``active``: every
    active event on the order, when the caller has them (the rules engine after syncing), else read.
    """
    from exceptions_center.selectors import exception_events_active_blocking

    if active is None:
        events = list(exception_events_active_blocking(source=source).order_by("raised_at", "id"))
    else:
        events = sorted((e for e in active if e.blocking), key=lambda e: (e.raised_at, e.pk))
    is_held = bool(events)
    summary = "; ".join(f"{e.number} {e.message_zh}" for e in events)
    if len(summary) > 300:
        summary = summary[:299] + "…"
    # Read in the reader's language: the events' numbers with both copies of their messages.
    summary_text = (
        stored_text(
            texts.HOLD_SUMMARY,
            events=[
                stored_text(texts.HOLD_EVENT, number=e.number, message=both(e.message_zh, e.message_en)) for e in events
            ],
        )
        if events
        else {}
    )
    if source.is_held != is_held or source.hold_summary != summary or source.hold_summary_text != summary_text:
        source.is_held = is_held
        source.hold_summary = summary
        source.hold_summary_text = summary_text
        # The hold shows in the history (and so in the order timeline) as a system change.
        # A long list of events is cut to the history column; hold_summary keeps the full list.
        reason = "hold: " + ", ".join(e.number for e in events) if is_held else "hold released"
        history_stamp(source, user=None, reason=reason)
        source.save(update_fields=["is_held", "hold_summary", "hold_summary_text", "updated_at"])
    return source


# --- services ---------------------------------------------------------------------------------


@transaction.atomic
def order_create(*, user, lines: list[dict], reason: str = "", **header: Any) -> SalesOrder:
    """Create a draft order with its lines, numbered ``SO-YYYY-NNNNNN`` without gaps, and run the rules.

    The sales rep (the entering rep, else the customer's rep) gets view/change object permissions.
    Bad input raises ``DomainError`` with field errors (line errors by position) and writes nothing.
    """
    if user is None or not user.is_authenticated or not user.has_perm("orders.add_salesorder"):
        raise PermissionDenied(_("You may not enter orders."))
    order = SalesOrder(status=OrderStatus.DRAFT, created_by=user)
    header_errors = _header_apply(order, header, user=user, creating=True)
    built, new, _changed, line_errors = _lines_build(order, lines, existing={})
    _raise_if_errors(header_errors, line_errors)
    if order.sales_rep_id is None:
        acting_is_rep = not user.has_perm("orders.change_all_salesorder") and "sales" in user_group_names(user)
        order.sales_rep = user if acting_is_rep else order.customer.sales_rep
    order.number = next_number("SO")
    order.recompute_totals(built)
    # The order, its lines and their "created" history rows: two statements (create_with_history).
    create_with_history([order], SalesOrder, user=user, reason=reason or "created")
    for line in new:
        line.order = order
    create_with_history(new, SalesOrderLine, user=user, reason=reason or "created")
    _grant_rep(order, order.sales_rep)
    _rules_run(order, lines=built, is_new=True, user=user)
    return order


@transaction.atomic
def order_update(
    *, order: SalesOrder, user, lines: list[dict] | None = None, reason: str = "", **header: Any
) -> SalesOrder:
    """Change an editable (draft or submitted) order: header fields and, when ``lines`` is given, the
    full set of lines (with ``id``: changed; without: added; missing: removed). Runs the rules again.
    """
    order = _order_lock(order)
    _check_change(user, order)
    if order.status not in EDITABLE_STATUSES:
        raise DomainError(
            _("A %(status)s order can no longer be changed.") % {"status": order.get_status_display()},
            code="order_not_editable",
        )
    previous_rep_id = order.sales_rep_id
    header_errors = _header_apply(order, header, user=user, creating=False)
    existing = {line.pk: line for line in order.lines.select_related("product")}
    if lines is None:
        built, new, changed, line_errors = list(existing.values()), [], [], []
        built.sort(key=lambda line: line.line_no)
    else:
        built, new, changed, line_errors = _lines_build(order, lines, existing=existing)
    _raise_if_errors(header_errors, line_errors)
    removed = [line for pk, line in existing.items() if pk not in {b.pk for b in built}]
    change_reason = reason or "updated"
    _lines_delete_with_history(removed, user=user, reason=change_reason)
    if changed:
        bulk_update_with_history(
            changed,
            SalesOrderLine,
            [*LINE_FIELDS, "net_amount", "tax_amount", "gross_amount"],
            default_user=acting_user(user),
            default_change_reason=change_reason,
        )
    if new:
        bulk_create_with_history(
            new, SalesOrderLine, default_user=acting_user(user), default_change_reason=change_reason
        )
    built.sort(key=lambda line: line.line_no)
    order.recompute_totals(built)
    _with_history(order, user=user, reason=change_reason)
    order.save()
    if order.sales_rep_id != previous_rep_id:
        if previous_rep_id:
            _revoke_rep(order, previous_rep_id)
        _grant_rep(order, order.sales_rep)
    _rules_run(order, lines=built, is_new=False, user=user)
    return order


@transaction.atomic
def order_submit(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """Submit a draft for approval; its line prices are recorded as the agreed ones. Refused while held."""
    order = _order_lock(order)
    _check_change(user, order)
    _check_status(order, SUBMITTABLE, _("submitted"))
    _check_not_held(order)
    lines = list(order.lines.all())
    for line in lines:
        line.submitted_unit_price = line.unit_price
        line.submitted_discount_pct = line.discount_pct
    bulk_update_with_history(
        lines,
        SalesOrderLine,
        ["submitted_unit_price", "submitted_discount_pct"],
        default_user=acting_user(user),
        default_change_reason=reason or "submitted",
    )
    order.status = OrderStatus.SUBMITTED
    order.submitted_at = timezone.now()
    _with_history(order, user=user, reason=reason or "submitted")
    order.save()
    return order


@transaction.atomic
def order_approve(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """A sales manager (``approve_salesorder``) approves a submitted order. Refused while held."""
    order = _order_lock(order)
    if not order_can_approve(user=user, order=order):
        raise PermissionDenied(_("Only sales managers may approve orders."))
    _check_status(order, APPROVABLE, _("approved"))
    _check_not_held(order)
    order.status = OrderStatus.APPROVED
    order.approved_at = timezone.now()
    _with_history(order, user=user, reason=reason or "approved")
    order.save()
    # Approval reserves stock at once (traceability, FEFO); what cannot be reserved stays a shortage.
    from traceability.services import order_allocate_on_approval

    return order_allocate_on_approval(order=order, user=user).order


@transaction.atomic
def order_cancel(*, order: SalesOrder, user, reason: str) -> SalesOrder:
    """Cancel an order that has not been allocated yet; a reason is required. Allowed while held
    (cancelling is one way to deal with a held order): its still-active exception events close with
    the reason logged, their open tasks and approval steps with them, and the hold is released."""
    order = _order_lock(order)
    _check_change(user, order)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Say why the order is cancelled."), code="validation_error", fields={"reason": [_("Enter a reason.")]}
        )
    _check_status(order, CANCELLABLE, _("cancelled"))
    order.status = OrderStatus.CANCELLED
    order.cancel_reason = reason[:300]
    _with_history(order, user=user, reason=reason[:100])
    order.save()
    # Its still-active exception events have nothing left to hold: close them (and their open work),
    # which also recomputes the hold once.
    from exceptions_center.services import exception_events_close_for_source

    exception_events_close_for_source(source=order, user=user, reason=stored_text(texts.ORDER_CANCELLED, reason=reason))
    return order


@transaction.atomic
def order_close(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """Close an approved (short-close), delivered or invoiced order. Refused while held."""
    order = _order_lock(order)
    _check_change(user, order)
    _check_status(order, CLOSABLE, _("closed"))
    _check_not_held(order)
    order.status = OrderStatus.CLOSED
    _with_history(order, user=user, reason=reason or "closed")
    order.save()
    return order


@transaction.atomic
def order_status_set(*, order: SalesOrder, status: str, user, reason: str = "") -> SalesOrder:
    """Set a downstream status (allocated, shipped, delivered, invoiced) from the traceability and
    finance services. Refused while held; the caller has already checked its own permission."""
    if status not in DOWNSTREAM_STATUSES:
        raise DomainError(_("This status cannot be set directly."), code="invalid_transition")
    order = _order_lock(order)
    if order.status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.CLOSED, OrderStatus.CANCELLED):
        raise DomainError(
            _("A %(status)s order cannot move on.") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    _check_not_held(order)
    order.status = status
    _with_history(order, user=user, reason=reason or f"status {status}")
    order.save()
    return order
