"""Order lines: building the wanted lines from typed input (business rules only) and deleting removed
lines with their history.

A wanted line with ``id`` changes that existing line; without ``id`` it is a new line; an existing line
not wanted any more is removed by the caller. Unit price and tax rate default to the product's list
price and tax rate (also when an existing line gets another product). Each step below sets what its
input gives and records its field errors; a line with errors is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.kernel.history import history_stamp
from orders.models import SalesOrder, SalesOrderLine
from orders.services.inputs import LINE_FIELDS, UNSET, OrderLineInput

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
# Fields written when existing lines change.
LINE_SAVED = (*LINE_FIELDS, "net_amount", "tax_amount", "gross_amount")

Errors = dict[str, list]


@dataclass(slots=True)
class LinesBuilt:
    """The outcome of ``order_lines_build``: ``lines`` are the kept, changed and new lines in input
    order (amounts computed); ``errors`` one dict per wanted line (``{}``: fine), or a single
    ``{"__all__": [...]}`` for the list as a whole."""

    lines: list[SalesOrderLine] = field(default_factory=list)
    new: list[SalesOrderLine] = field(default_factory=list)
    changed: list[SalesOrderLine] = field(default_factory=list)
    errors: list[Errors] = field(default_factory=list)


def order_lines_build(
    order: SalesOrder,
    wanted: tuple[OrderLineInput, ...],
    *,
    existing: dict[int, SalesOrderLine],
    list_errors: list | None = None,
) -> LinesBuilt:
    """Validate the wanted lines against the order's ``existing`` ones (by id) and build them unsaved.

    An order needs at least one line; a line id must be one of the order's, once. New lines are
    numbered after the highest existing line number.
    """
    if list_errors:
        return LinesBuilt(errors=[{"__all__": list(list_errors)}])
    if not wanted:
        return LinesBuilt(errors=[{"__all__": [_("An order needs at least one line.")]}])
    built = LinesBuilt()
    seen_ids: set[int] = set()
    next_no = max((line.line_no for line in existing.values()), default=0) + 1
    for item in wanted:
        errors: Errors = {name: list(messages) for name, messages in item.errors.items()}
        target = (
            None if "__all__" in errors or "id" in errors else _line_target(order, item, existing, seen_ids, errors)
        )
        built.errors.append(errors)
        if target is None:
            continue
        line, before = target
        product_changed = _line_product_apply(line, item, is_new=before is None, errors=errors)
        _line_quantity_apply(line, item, is_new=before is None, errors=errors)
        _line_prices_apply(line, item, defaults=before is None or product_changed, errors=errors)
        _line_requirements_apply(line, item, errors=errors)
        _line_validate(line, errors=errors)
        if errors:
            continue
        line.compute_amounts()
        if before is None:
            line.line_no = next_no
            next_no += 1
            built.new.append(line)
        elif any(getattr(line, name) != value for name, value in before.items()):
            built.changed.append(line)
        built.lines.append(line)
    return built


def _line_target(order, item: OrderLineInput, existing, seen_ids: set[int], errors: Errors):
    """The line to change (with its compared values before) or a new one; None for an id not on the order."""
    if item.id is None:
        return SalesOrderLine(order=order, line_no=0), None
    line = existing.get(item.id)
    if line is None or item.id in seen_ids:
        errors["id"] = [_("This line is not on the order.")]
        return None
    seen_ids.add(item.id)
    return line, {name: getattr(line, name) for name in LINE_COMPARED}


def _line_product_apply(line: SalesOrderLine, item: OrderLineInput, *, is_new: bool, errors: Errors) -> bool:
    """A new line needs a product; another product brings its unit. True when the product changed."""
    if item.product is UNSET and not is_new:
        return False
    product = None if item.product is UNSET else item.product
    if product is None:
        errors["product"] = [_("Choose a product.")]
        return False
    if not is_new and product.pk == line.product_id:
        return False
    line.product = product
    if item.unit is UNSET:
        line.unit = product.unit
    return True


def _line_quantity_apply(line: SalesOrderLine, item: OrderLineInput, *, is_new: bool, errors: Errors) -> None:
    """A whole number of at least 1 (a new line needs one)."""
    if "quantity" in errors:
        return
    if item.quantity is UNSET or item.quantity is None:
        if is_new:
            errors["quantity"] = [_("Enter a whole number.")]
        return
    if item.quantity < 1:
        errors["quantity"] = [_("The quantity must be at least 1.")]
    line.quantity = item.quantity


def _line_prices_apply(line: SalesOrderLine, item: OrderLineInput, *, defaults: bool, errors: Errors) -> None:
    """Unit, prices and discount as given; unit price and tax rate from the product where none is given
    and the line is new or has a new product (``defaults``)."""
    if item.unit is not UNSET:
        line.unit = item.unit
    for name, product_field in (("unit_price", "list_price"), ("tax_rate", "tax_rate")):
        value = getattr(item, name)
        if value is UNSET:
            if not defaults:
                continue
            value = None
        if value is None and name not in errors:
            value = getattr(line.product, product_field) if line.product_id else None
        if value is not None:
            setattr(line, name, value)
    if item.discount_pct is not UNSET:
        line.discount_pct = item.discount_pct if item.discount_pct is not None else Decimal("0")


def _line_requirements_apply(line: SalesOrderLine, item: OrderLineInput, *, errors: Errors) -> None:
    """The requested lot (a GS1 lot: no spaces, ASCII) and the minimum shelf life."""
    if item.requested_lot is not UNSET:
        lot = item.requested_lot
        if lot and (" " in lot or not lot.isascii()):
            errors.setdefault("requested_lot", []).append(_("A GS1 lot has no spaces and no Chinese characters."))
        line.requested_lot = lot
    for name in ("min_shelf_life_days", "min_shelf_life_pct"):
        value = getattr(item, name)
        if value is not UNSET:
            setattr(line, name, value)


def _line_validate(line: SalesOrderLine, *, errors: Errors) -> None:
    """The tax rate is a fraction; the model's own field rules (ranges, lengths) hold."""
    if line.tax_rate is not None and line.tax_rate >= 1:
        errors.setdefault("tax_rate", []).append(_("Enter the tax rate as a fraction, e.g. 0.13 for 13 %."))
    exclude = ["order", "line_no", "product", *LINE_NOT_INPUT, *errors]
    if line.product_id is None:
        exclude += ["unit_price", "tax_rate", "unit"]
    try:
        line.clean_fields(exclude=exclude)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)


def lines_delete_with_history(lines: list[SalesOrderLine], *, user, reason: str) -> None:
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
