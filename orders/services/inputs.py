"""Typed inputs of the order services, and the one place raw values become them.

``OrderInput`` / ``OrderLineInput`` carry values already converted and resolved: ``Decimal`` amounts,
``int`` quantities, stripped strings, and model instances for the customer, ship-to party, warehouse,
sales rep and products. A field the caller did not send is ``UNSET`` (an update changes only what is
given); ``None`` is an explicit "none" (no ship-to party, the product's list price, …).

``order_input_from_values`` builds them from what the API serializer validated, what the entry form
posted or what a Python caller passes (instances or primary keys, strings or numbers). It looks the
referenced rows up in one query per model and records what cannot be read or found as field errors in
the input's ``errors``, in the messages the services use, so that the service reports them together
with the business-rule errors in one answer. The services check business rules only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from erp.kernel.fetch import rows_by_pk
from masterdata.models import Party, Product, Warehouse
from orders.models import PaymentTerms


class _Unset:
    """A field the caller did not send (``bool(UNSET)`` is False)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

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
_HEADER_TEXTS = ("ship_to_address", "customer_po", "contract_ref", "notes")
_HEADER_KEYS = frozenset(HEADER_FIELDS)
_LINE_KEYS = frozenset((*LINE_FIELDS, "id", "line_no"))


@dataclass(frozen=True, slots=True)
class OrderLineInput:
    """One wanted line: with ``id`` a change to that existing line, without a new line.

    ``product`` is ``None`` when one was named but does not exist; ``unit_price`` / ``tax_rate``
    ``None`` mean the product's; ``discount_pct`` ``None`` means no discount; ``unit`` is ``UNSET``
    unless a non-blank unit was given. ``errors``: what could not be read, by field.
    """

    id: int | None = None
    product: Product | _Unset | None = UNSET
    quantity: int | _Unset | None = UNSET
    unit: str | _Unset = UNSET
    unit_price: Decimal | _Unset | None = UNSET
    discount_pct: Decimal | _Unset | None = UNSET
    tax_rate: Decimal | _Unset | None = UNSET
    requested_lot: str | _Unset = UNSET
    min_shelf_life_days: int | _Unset | None = UNSET
    min_shelf_life_pct: int | _Unset | None = UNSET
    errors: Mapping[str, list] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderInput:
    """An order's header fields and, when given, its full set of wanted lines (``lines is None``: the
    lines stay as they are). ``errors``: header fields that could not be read or found, and under
    ``"lines"`` a problem with the list itself."""

    customer: Party | _Unset | None = UNSET
    ship_to: Party | _Unset | None = UNSET
    ship_to_address: str | _Unset = UNSET
    warehouse: Warehouse | _Unset | None = UNSET
    requested_delivery_date: dt.date | _Unset | None = UNSET
    customer_po: str | _Unset = UNSET
    contract_ref: str | _Unset = UNSET
    payment_terms: str | _Unset = UNSET
    currency: str | _Unset = UNSET
    notes: str | _Unset = UNSET
    sales_rep: Any = UNSET  # the user model, None (no rep) or UNSET
    lines: tuple[OrderLineInput, ...] | None = None
    reason: str = ""
    errors: Mapping[str, list] = field(default_factory=dict)


# --- from raw values ------------------------------------------------------------------------------


def _pk(value) -> int | None:
    """A primary key from an instance or a number; None for none given, -1 for one that is no key."""
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _rows(model, values: list) -> dict[int, Any]:
    """Instances for a mix of instances and primary keys, in one query for the keys."""
    found: dict[int, Any] = {}
    ids = set()
    for value in values:
        if isinstance(value, model):
            found[value.pk] = value
        elif not hasattr(value, "pk"):  # a row of another model names nothing here
            pk = _pk(value)
            if pk is not None and pk != -1:
                ids.add(pk)
    ids -= found.keys()
    if ids:
        found.update(rows_by_pk(model, ids))  # every order save: no ORM query to build
    return found


def _decimal(value, errors: dict, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(_("Enter a number."))
        return None


def _whole(value, errors: dict, name: str) -> int | _Unset | None:
    """A whole number, None for blank; a value that is no whole number is an error (and UNSET)."""
    if value is None or value == "":
        return None
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return UNSET


def _quantity(value, errors: dict) -> int | _Unset:
    if type(value) is int:
        return value
    try:
        number = int(value)
        if Decimal(str(value)) != number:
            raise ValueError
    except (TypeError, ValueError, InvalidOperation):
        errors["quantity"] = [_("Enter a whole number.")]
        return UNSET
    return number


def _line(raw, products: dict[int, Product]) -> OrderLineInput:
    if not isinstance(raw, Mapping):
        return OrderLineInput(errors={"__all__": [_("Each line must be an object.")]})
    errors: dict[str, list] = {}
    if not _LINE_KEYS.issuperset(raw):
        for name in sorted(set(raw) - _LINE_KEYS):
            errors[name] = [_("Unknown field.")]
    values: dict[str, Any] = {}
    line_id = _pk(raw.get("id"))
    if line_id == -1:
        errors["id"] = [_("This line is not on the order.")]
        line_id = None
    if "product" in raw:
        values["product"] = products.get(_pk(raw["product"]))
    if "quantity" in raw:
        values["quantity"] = _quantity(raw["quantity"], errors)
    if raw.get("unit"):
        values["unit"] = str(raw["unit"]).strip()
    for name in ("unit_price", "discount_pct", "tax_rate"):
        if name in raw:
            values[name] = _decimal(raw[name], errors, name)
    if "requested_lot" in raw:
        values["requested_lot"] = (raw["requested_lot"] or "").strip()
    for name in ("min_shelf_life_days", "min_shelf_life_pct"):
        if name in raw:
            values[name] = _whole(raw[name], errors, name)
    return OrderLineInput(id=line_id, errors=errors, **values)


def _lines(lines, errors: dict) -> tuple[OrderLineInput, ...] | None:
    if lines is None:
        return None
    if not isinstance(lines, list | tuple):
        errors["lines"] = [_("Lines must be a list.")]
        return ()
    products = _rows(Product, [line.get("product") for line in lines if isinstance(line, Mapping)])
    return tuple(_line(raw, products) for raw in lines)


def _header(header: Mapping[str, Any], errors: dict) -> dict[str, Any]:
    """Header values: references resolved (customer and ship-to in one query), texts stripped."""
    if not _HEADER_KEYS.issuperset(header):
        for name in sorted(set(header) - _HEADER_KEYS):
            errors[name] = [_("Unknown field.")]
    values: dict[str, Any] = {}
    parties = _rows(Party, [header.get("customer"), header.get("ship_to")])
    for name, message in (
        ("customer", _("Choose a customer you may sell to.")),
        ("ship_to", _("Choose an existing party.")),
    ):
        if name in header:
            pk = _pk(header[name])
            values[name] = None if pk is None else parties.get(pk)
            if pk is not None and values[name] is None:
                errors[name] = [message]
    if "warehouse" in header:
        value = header["warehouse"]
        pk = _pk(value)
        values["warehouse"] = None if pk is None else _rows(Warehouse, [value]).get(pk)
        if pk is not None and values["warehouse"] is None:
            errors["warehouse"] = [_("Choose an active warehouse.")]
    if "sales_rep" in header:
        value = header["sales_rep"]
        pk = _pk(value)
        values["sales_rep"] = None if pk is None else _rows(get_user_model(), [value]).get(pk)
        if pk is not None and values["sales_rep"] is None:
            errors["sales_rep"] = [_("Choose an active user.")]
    for name in _HEADER_TEXTS:
        if name in header:
            values[name] = str(header[name] or "").strip()
    if "requested_delivery_date" in header:
        values["requested_delivery_date"] = header["requested_delivery_date"] or None
    if "payment_terms" in header:
        values["payment_terms"] = header["payment_terms"] or PaymentTerms.NET90
    if "currency" in header:
        values["currency"] = str(header["currency"] or "CNY").upper()
    return values


def order_input_from_values(header: Mapping[str, Any], lines=None, *, reason: str = "") -> OrderInput:
    """The typed input for these raw header values and lines (``lines=None``: lines not given).

    Instances or primary keys are accepted for references; strings or numbers for amounts and
    quantities. Nothing is refused here: what cannot be read is in ``errors`` (see the module text).
    """
    errors: dict[str, list] = {}
    values = _header(header, errors)
    typed_lines = _lines(lines, errors)
    return OrderInput(**values, lines=typed_lines, reason=reason or "", errors=errors)
