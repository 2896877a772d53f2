"""The facts snapshot of an event as a readable card: labelled fields per section, lists as tables.

Rules see money as integer fen and dates as timestamps (STACK.md); people read yuan and dates. Known
fact names get translated labels; unknown ones are humanised, so new providers need no change here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from erp.kernel.i18n import is_english
from exceptions_center.ports import fact_value_labels

SECTION_LABELS = {
    "order": _("Order"),
    "customer": _("Customer"),
    "ship_to": _("Ship-to party"),
    "warehouse": _("Warehouse"),
    "item": _("Line concerned"),
    "params": _("Rule parameters"),
    "lines": _("Lines"),
    "product": _("Product"),
    "stock": _("Stock"),
    "shipment": _("Shipment"),
    "lot": _("Lot"),
}

FIELD_LABELS = {
    "number": _("Number"),
    "status": _("Status"),
    "currency": _("Currency"),
    "customer_po": _("Customer PO"),
    "contract_ref": _("Contract"),
    "payment_terms": _("Payment terms"),
    "net_fen": _("Net"),
    "tax_fen": _("Tax"),
    "gross_fen": _("Gross"),
    "line_count": _("Lines"),
    "requested_delivery_date": _("Requested delivery"),
    "days_to_delivery": _("Days to delivery"),
    "created_at": _("Created"),
    "submitted": _("Submitted"),
    "is_new": _("New order"),
    "price_changed_after_submit": _("Price changed after submit"),
    "duplicate_count": _("Similar orders in 24 h"),
    "line_no": _("Line"),
    "sku": _("SKU"),
    "quantity": _("Quantity"),
    "unit_price_fen": _("Unit price"),
    "list_price_fen": _("List price"),
    "discount_pct": _("Discount %"),
    "below_list_pct": _("Below list %"),
    "requested_lot": _("Requested lot"),
    "min_shelf_life_days": _("Min. shelf life (days)"),
    "min_shelf_life_pct": _("Min. shelf life %"),
    "code": _("Code"),
    "name": _("Name"),
    "kind": _("Kind"),
    "is_active": _("Active"),
    "uscc": _("USCC"),
    "has_uscc": _("Has USCC"),
    "has_address": _("Has address"),
    "has_contact": _("Has contact"),
    "region_code": _("Region"),
    "province_code": _("Province"),
    "is_hospital": _("Hospital"),
    "is_military": _("Military"),
    "is_public": _("Public"),
    "bed_count": _("Beds"),
    "is_cold_storage": _("Cold storage"),
    "device_class": _("Device class"),
    "catalogue_code": _("Catalogue code"),
    "is_cold_chain": _("Cold chain"),
    "is_implant": _("Implant"),
    "is_serialised": _("Serialised"),
    "shelf_life_days": _("Shelf life (days)"),
    "storage_min_c": _("Storage min °C"),
    "storage_max_c": _("Storage max °C"),
    "udi_di": _("UDI-DI"),
    "class2_filing_exempt": _("Class II filing exempt"),
    # stock facts (traceability)
    "available": _("Available"),
    "available_not_near_expiry": _("Available, not near expiry"),
    "near_expiry_available": _("Available, near expiry"),
    "allocated": _("Allocated"),
    "shortage": _("Shortage"),
    "other_warehouses_available": _("Available in other warehouses"),
    "requested_lot_available": _("Requested lot available"),
    "suggestion": _("Suggestion"),
    "warehouse_code": _("Warehouse"),
    "expired_lot_count": _("Expired lots"),
    "expired_quantity": _("Expired quantity"),
    "expired_lots": _("Expired lots (SKU/lot×qty)"),
    "scanned_at": _("Scanned at"),
    "near_expiry_days": _("Near-expiry threshold (days)"),
    # rule parameters
    "max_below_list_pct": _("Allowed below list %"),
    "threshold_fen": _("Approval threshold"),
    "cold_chain_min_days": _("Cold-chain minimum lead time (days)"),
}


@cache
def _choice_labels() -> dict[str, dict[str, str]]:
    """Labels of the coded values rules see (``status: "draft"`` → 草稿), by fact name, from the apps
    plugged into ``exceptions_center.fact_value_labels`` (an app left out: its raw codes show)."""
    labels: dict[str, dict[str, str]] = {}
    for provide in fact_value_labels.implementations():
        for name, choices in provide().items():
            labels.setdefault(name, {}).update(choices)
    return labels


def _localised_pairs(value: dict) -> dict:
    """Keep only the current language of ``x_zh`` / ``x_en`` pairs, under the name ``x``."""
    suffix = "_en" if is_english() else "_zh"
    out: dict = {}
    for key, inner in value.items():
        if key.endswith(("_zh", "_en")) and f"{key[:-3]}_zh" in value and f"{key[:-3]}_en" in value:
            if key.endswith(suffix):
                out[key[:-3]] = inner
            continue
        out[key] = inner
    return out


# Technical keys a person does not need on the card.
HIDDEN_KEYS = {"id", "product_id", "key"}
MAX_TABLE_COLUMNS = 9


def _label(key: str):
    return FIELD_LABELS.get(key) or SECTION_LABELS.get(key) or key.replace("_", " ").capitalize()


def format_value(key: str, value: Any) -> str:
    """One fact value as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if key.endswith("_fen") and isinstance(value, int | float):
        return "¥" + formats.number_format(Decimal(int(value)) / 100, 2, use_l10n=True, force_grouping=True)
    if isinstance(value, float):
        return formats.number_format(value, 2 if abs(value) < 1000 else 0)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        parsed = parse_datetime(value)
        if parsed is not None:
            value = parsed
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        if (local.hour, local.minute, local.second) == (0, 0, 0):
            return formats.date_format(local, "Y-m-d")
        return formats.date_format(local, "Y-m-d H:i")
    if isinstance(value, list):
        return ", ".join(format_value(key, v) for v in value) or "—"
    if isinstance(value, dict):
        value = _localised_pairs(value)
        return ", ".join(f"{_label(k)}: {format_value(k, v)}" for k, v in value.items() if k not in HIDDEN_KEYS)
    if isinstance(value, str):
        label = _choice_labels().get(key, {}).get(value)
        if label is not None:
            return str(label)
    return str(value)


def _fields(value: dict, prefix=None) -> list[tuple[str, str]]:
    """A dict as (label, value) rows; a nested dict becomes rows labelled "Product · SKU"."""
    rows: list[tuple[str, str]] = []
    for key, inner in _localised_pairs(value).items():
        if key in HIDDEN_KEYS:
            continue
        label = f"{prefix} · {_label(key)}" if prefix else _label(key)
        if isinstance(inner, dict) and prefix is None:
            rows.extend(_fields(inner, prefix=_label(key)))
        else:
            rows.append((label, format_value(key, inner)))
    return rows


def _flatten(row: dict, prefix: str = "") -> dict[str, Any]:
    """One level of nesting in a table row becomes columns (``product.sku`` → "Product SKU")."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if key in HIDDEN_KEYS:
            continue
        if isinstance(value, dict) and not prefix:
            for inner_key, inner in _flatten(value, prefix=key).items():
                flat[inner_key] = inner
        elif not isinstance(value, list | dict):
            flat[f"{prefix}.{key}" if prefix else key] = value
    return flat


def _table(title, rows: list[dict]) -> dict:
    flat_rows = [_flatten(r) for r in rows]
    columns: list[str] = []
    for row in flat_rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    columns = columns[:MAX_TABLE_COLUMNS]
    return {
        "title": title,
        "columns": [
            (f"{_label(c.split('.')[0])} · {_label(c.split('.')[1])}" if "." in c else _label(c)) for c in columns
        ],
        "rows": [[format_value(c.split(".")[-1], r.get(c)) for c in columns] for r in flat_rows],
    }


def facts_card(snapshot: dict | None) -> list[dict]:
    """Sections ``{title, fields: [(label, value)], tables: [{title, columns, rows}]}`` for a snapshot."""
    sections: list[dict] = []
    if not isinstance(snapshot, dict):
        return sections
    for key, value in snapshot.items():
        if key in ("now", "today"):
            continue
        section = {"key": key, "title": _label(key), "fields": [], "tables": []}
        if isinstance(value, dict):
            scalars = {}
            for inner_key, inner in value.items():
                if isinstance(inner, list) and inner and all(isinstance(i, dict) for i in inner):
                    section["tables"].append(_table(_label(inner_key), inner))
                else:
                    scalars[inner_key] = inner
            section["fields"].extend(_fields(scalars))
        elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            section["tables"].append(_table(_label(key), value))
        else:
            section["fields"].append((_label(key), format_value(key, value)))
        if section["fields"] or section["tables"]:
            sections.append(section)
    return sections
