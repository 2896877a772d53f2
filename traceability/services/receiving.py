"""Receiving by scan: each scan is parsed, checked against the product master and the expiry, and
either becomes a receipt line (lot / serial created or matched in QUARANTINE, stock posted, trace edge
written) or is refused with its reason, creating nothing.

Received stock is never allocatable before incoming inspection (DOMAIN.md §4): a new lot starts in
quarantine; units received into a lot that is already released (or on hold) are posted as *awaiting
release* on their balance (``StockBalance.quarantined``, serials QUARANTINE) until quality releases
them with ``lot_release``; the lot's stock that was released before stays available.

One scan (the warehouse page) and 10,000 scans (the API) go through the same checks; the bulk path
reads everything it needs in a fixed number of queries and writes with ``bulk_create_with_history``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from compliance.selectors import licence_number_for_party
from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user, history_stamp
from erp.kernel.numbering import next_number
from masterdata.models import DeviceClass, Party, Product, Tracking, Warehouse
from masterdata.validators import normalise_registration_number
from traceability.barcodes import ParsedScan, scan_parse
from traceability.conf import traceability_setting
from traceability.models import (
    EdgeKind,
    Issuer,
    Lot,
    LotStatus,
    MoveKind,
    ProductIdentifier,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
    SerialStatus,
    SerialUnit,
    TraceEdge,
)
from traceability.services._common import require_perm
from traceability.services.ledger import MoveSpec, stock_moves_post

# Inspection fields a caller may give per scan (from the delivery documents).
INSPECTION_FIELDS = ("registration_number", "registrant_licence", "manufacturer_name", "manufacturer_licence")


@dataclass
class ScanOutcome:
    """What happened to one scan: accepted (``line`` set) or refused with ``reason``."""

    index: int
    raw: str
    parsed: ParsedScan
    product: Product | None = None
    quantity: int = 1
    reason: str = ""
    reason_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    line: ReceiptLine | None = None

    @property
    def ok(self) -> bool:
        return not self.reason

    def refuse(self, code: str, reason) -> ScanOutcome:
        self.reason_code, self.reason = code, str(reason)
        return self

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "raw": self.raw,
            "ok": self.ok,
            "code": self.reason_code,
            "reason": self.reason,
            "warnings": self.parsed.warnings,
            "product": self.product.sku if self.product else None,
            "lot": self.parsed.lot,
            "serial": self.parsed.serial,
            "expiry_date": self.parsed.expiry_date.isoformat() if self.parsed.expiry_date else None,
            "line_id": self.line.pk if self.line else None,
        }


@dataclass
class ScanBatchResult:
    outcomes: list[ScanOutcome]

    @property
    def accepted(self) -> list[ScanOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def refused(self) -> list[ScanOutcome]:
        return [o for o in self.outcomes if not o.ok]


def _registration_numbers(products) -> dict[int, str]:
    """Registration/filing number per product, from the product master (DOMAIN.md §1): the incoming
    inspection record takes it from there, and a scan that names another number is refused."""
    return {p.pk: normalise_registration_number(p.registration_number) for p in products if p.registration_number}


def synthetic_lot_number(parsed: ParsedScan) -> str:
    """Serial-only labels carry no lot: their units are grouped by expiry in a lot named after it."""
    return f"~{parsed.expiry_date:%Y%m%d}" if parsed.expiry_date else "~NOEXPIRY"


@transaction.atomic
def receipt_create(
    *,
    user,
    supplier: Party,
    warehouse: Warehouse,
    purchase_date=None,
    purchase_order_ref: str = "",
    transport_temperature_ok: bool | None = None,
) -> Receipt:
    """Open a receipt from a supplier into a warehouse, numbered ``RC-YYYY-NNNNNN``; the supplier's
    name, address and contact are copied for the incoming-inspection record."""
    require_perm(user, "traceability.add_receipt", _("You may not receive goods."))
    receipt = Receipt(
        number=next_number("RC"),
        supplier=supplier,
        warehouse=warehouse,
        purchase_date=purchase_date or timezone.localdate(),
        purchase_order_ref=purchase_order_ref or "",
        supplier_name=supplier.name,
        supplier_address=supplier.address,
        supplier_contact=" ".join(x for x in (supplier.contact_name, supplier.contact_phone) if x),
        transport_temperature_ok=transport_temperature_ok,
        received_by=acting_user(user),
    )
    history_stamp(receipt, user=user, reason="created")
    receipt.save()
    return receipt


@transaction.atomic
def receipt_complete(*, receipt: Receipt, user) -> Receipt:
    """Close a receipt: no more scans can be added."""
    require_perm(user, "traceability.change_receipt")
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.status != ReceiptStatus.COMPLETED:
        receipt.status = ReceiptStatus.COMPLETED
        receipt.completed_at = timezone.now()
        history_stamp(receipt, user=user, reason="completed")
        receipt.save()
    return receipt


def receipt_scan(*, receipt: Receipt, user, raw: str, **inspection: str) -> ScanOutcome:
    """Receive one scan into an open receipt; a refused scan creates nothing and says why."""
    result = receipt_scans_receive(receipt=receipt, user=user, scans=[{"raw": raw, **inspection}], atomic=False)
    return result.outcomes[0]


@transaction.atomic
def receipt_scans_receive(*, receipt: Receipt, user, scans: list, atomic: bool = True) -> ScanBatchResult:
    """Receive many scans into an open receipt in bulk.

    ``scans`` are raw strings or dicts ``{"raw": ..., "registration_number": ..., ...}``. With
    ``atomic`` (the API default) any refused scan refuses the whole batch: ``DomainError`` code
    ``scans_refused`` lists each refused scan with its reason and nothing is written. Without it the
    good scans are received and the refused ones reported.
    """
    require_perm(user, "traceability.add_receipt", _("You may not receive goods."))
    receipt = Receipt.objects.select_for_update().select_related("supplier", "warehouse").get(pk=receipt.pk)
    if receipt.status != ReceiptStatus.OPEN:
        raise DomainError(_("This receipt is completed; open a new one."), code="receipt_closed")
    outcomes = _scans_check(receipt, scans)
    refused = [o for o in outcomes if not o.ok]
    if atomic and refused:
        raise DomainError(
            _("%(n)d of %(total)d scans were refused; nothing was received.")
            % {"n": len(refused), "total": len(outcomes)},
            code="scans_refused",
            details={"refused": [o.as_dict() for o in refused[:500]], "refused_count": len(refused)},
        )
    accepted = [o for o in outcomes if o.ok]
    if accepted:
        _scans_write(receipt, user, accepted)
    return ScanBatchResult(outcomes=outcomes)


def _scans_check(receipt: Receipt, scans: list) -> list[ScanOutcome]:
    """Parse and check every scan against the product master, existing lots and serials (fixed queries)."""
    outcomes = []
    for index, scan in enumerate(scans):
        item = {"raw": scan} if isinstance(scan, str) else dict(scan)
        raw = str(item.get("raw") or "")
        outcome = ScanOutcome(index=index, raw=raw, parsed=scan_parse(raw))
        outcome.extra = {k: str(item.get(k) or "")[:60] for k in INSPECTION_FIELDS}
        if not outcome.parsed.ok:
            outcome.refuse(outcome.parsed.reason_code, outcome.parsed.reason)
        outcomes.append(outcome)

    parsed_ok = [o for o in outcomes if o.ok]
    gtins = {o.parsed.gtin for o in parsed_ok if o.parsed.issuer == Issuer.GS1}
    other_dis = {(o.parsed.issuer, o.parsed.di) for o in parsed_ok if o.parsed.issuer != Issuer.GS1}
    products_by_gtin = (
        {p.udi_di: p for p in Product.objects.filter(udi_di__in=gtins).select_related("registrant")} if gtins else {}
    )
    products_by_di = {}
    if other_dis:
        for ident in ProductIdentifier.objects.filter(di__in={di for _i, di in other_dis}).select_related(
            "product__registrant"
        ):
            products_by_di[(ident.issuer, ident.di)] = ident.product
    for outcome in parsed_ok:
        p = outcome.parsed
        outcome.product = (
            products_by_gtin.get(p.gtin) if p.issuer == Issuer.GS1 else products_by_di.get((p.issuer, p.di))
        )

    products = {o.product.pk: o.product for o in parsed_ok if o.product}
    registrations = _registration_numbers(list(products.values())) if products else {}
    lot_numbers = {(o.product.pk, o.parsed.lot or synthetic_lot_number(o.parsed)) for o in parsed_ok if o.product}
    existing_lots = {}
    if lot_numbers:
        for lot in Lot.objects.filter(
            product_id__in={pid for pid, _n in lot_numbers}, lot_number__in={n for _p, n in lot_numbers}
        ):
            existing_lots[(lot.product_id, lot.lot_number)] = lot
    serial_keys = {(o.product.pk, o.parsed.serial) for o in parsed_ok if o.product and o.parsed.serial}
    existing_serials = set()
    if serial_keys:
        existing_serials = set(
            SerialUnit.objects.filter(
                product_id__in={pid for pid, _s in serial_keys}, serial__in={s for _p, s in serial_keys}
            ).values_list("product_id", "serial")
        )

    today = timezone.localdate()
    seen_serials: set = set()
    batch_lots: dict[tuple[int, str], ParsedScan] = {}
    for outcome in parsed_ok:
        _scan_check_one(
            outcome,
            receipt=receipt,
            today=today,
            registrations=registrations,
            existing_lots=existing_lots,
            existing_serials=existing_serials,
            seen_serials=seen_serials,
            batch_lots=batch_lots,
        )
    return outcomes


def _scan_check_one(
    outcome: ScanOutcome, *, receipt, today, registrations, existing_lots, existing_serials, seen_serials, batch_lots
) -> None:
    p, product = outcome.parsed, outcome.product
    if product is None:
        if p.issuer == Issuer.GS1:
            outcome.refuse("unknown_gtin", _("GTIN %(gtin)s is not in the product master.") % {"gtin": p.gtin})
        else:
            outcome.refuse("unknown_di", _("Device identifier %(di)s is not in the product master.") % {"di": p.di})
        return
    if not product.is_active:
        outcome.refuse("product_inactive", _("Product %(sku)s is inactive.") % {"sku": product.sku})
        return
    on_file = registrations.get(product.pk, "")
    given = normalise_registration_number(outcome.extra.get("registration_number", ""))
    if product.device_class in (DeviceClass.II, DeviceClass.III) and not on_file:
        outcome.refuse(
            "unregistered",
            _("%(sku)s is a class %(cls)s device with no registration number in the product master: unregistered.")
            % {"sku": product.sku, "cls": "II" if product.device_class == DeviceClass.II else "III"},
        )
        return
    if not product.registrant_id and (product.device_class != DeviceClass.I or not (on_file or given)):
        outcome.refuse(
            "unregistered",
            _("No registration on file for %(sku)s (no registrant in the product master).") % {"sku": product.sku},
        )
        return
    if on_file and given and given != on_file:
        outcome.refuse(
            "registration_mismatch",
            _("Registration number %(given)s does not match the product master (%(expected)s).")
            % {"given": given, "expected": on_file},
        )
        return
    registration = on_file or given
    outcome.extra["registration_number"] = registration
    if p.expiry_date is None:
        outcome.refuse("no_expiry", _("The label carries no expiry date."))
        return
    if p.expiry_date < today:
        outcome.refuse("expired", _("Expired on %(date)s: rejected.") % {"date": p.expiry_date.isoformat()})
        return
    if p.production_date and p.production_date > p.expiry_date:
        outcome.refuse("dates_inverted", _("The production date is after the expiry date."))
        return
    if p.production_date and p.production_date > today:
        outcome.refuse("produced_in_future", _("The production date is in the future."))
        return
    serialised = product.tracking in (Tracking.SERIAL, Tracking.BOTH)
    if serialised and not p.serial:
        if p.suggested_split and p.suggested_split.get("ai") == "21":
            outcome.refuse(
                "missing_separator",
                _("No separator between lot and serial: lot %(lot)s seems to contain serial %(serial)s. Rescan.")
                % {"lot": p.lot, "serial": p.suggested_split["value"]},
            )
        else:
            outcome.refuse(
                "no_serial", _("%(sku)s is serialised but the label has no serial number.") % {"sku": product.sku}
            )
        return
    if product.tracking in (Tracking.LOT, Tracking.BOTH) and not p.lot:
        outcome.refuse("no_lot", _("The label has no lot number."))
        return
    if (
        product.is_cold_chain
        and traceability_setting("COLD_CHAIN_NEEDS_TRANSPORT_RECORD")
        and receipt.transport_temperature_ok is not True
    ):
        outcome.refuse(
            "cold_chain_record",
            _("Cold-chain product: the transport temperature record must be checked and in range first."),
        )
        return
    lot_number = p.lot or synthetic_lot_number(p)
    lot = existing_lots.get((product.pk, lot_number))
    if lot is not None:
        if lot.expiry_date and lot.expiry_date != p.expiry_date:
            outcome.refuse(
                "lot_expiry_mismatch",
                _("Lot %(lot)s is on file with expiry %(on_file)s, the label says %(label)s.")
                % {"lot": lot_number, "on_file": lot.expiry_date.isoformat(), "label": p.expiry_date.isoformat()},
            )
            return
        if lot.status in (LotStatus.RECALLED, LotStatus.REJECTED):
            outcome.refuse(
                "lot_blocked", _("Lot %(lot)s is %(status)s.") % {"lot": lot_number, "status": lot.get_status_display()}
            )
            return
    else:
        first = batch_lots.setdefault((product.pk, lot_number), p)
        if first.expiry_date != p.expiry_date:
            outcome.refuse(
                "lot_expiry_mismatch",
                _("Lot %(lot)s was scanned with two expiry dates.") % {"lot": lot_number},
            )
            return
    if serialised:
        key = (product.pk, p.serial)
        if key in existing_serials:
            outcome.refuse("serial_exists", _("Serial %(serial)s was already received.") % {"serial": p.serial})
            return
        if key in seen_serials:
            outcome.refuse("serial_duplicate", _("Serial %(serial)s was scanned twice.") % {"serial": p.serial})
            return
        seen_serials.add(key)
        outcome.quantity = 1
    else:
        outcome.quantity = p.count or 1
    outcome.extra["lot_number"] = lot_number
    outcome.extra["lot"] = lot


def _scans_write(receipt: Receipt, user, accepted: list[ScanOutcome]) -> None:
    """Create missing lots (quarantine), receipt lines, serial units, stock moves and trace edges.

    Units of a known lot that is no longer in quarantine are posted as awaiting release: the lot's
    release covered the units inspected then, not these.
    """
    history_user = acting_user(user)
    now = timezone.now()
    known = sorted({o.extra["lot"].pk for o in accepted if o.extra["lot"] is not None})
    # Read the known lots' status under lock (a release cannot slip between this and the posting).
    pending_lots = (
        dict(
            Lot.objects.select_for_update()
            .filter(pk__in=known)
            .exclude(status=LotStatus.QUARANTINE)
            .order_by("id")
            .values_list("id", "status")
        )
        if known
        else {}
    )
    new_lots: dict[tuple[int, str], Lot] = {}
    for o in accepted:
        key = (o.product.pk, o.extra["lot_number"])
        if o.extra["lot"] is None and key not in new_lots:
            p = o.parsed
            new_lots[key] = Lot(
                product=o.product,
                lot_number=o.extra["lot_number"],
                production_date=p.production_date,
                expiry_date=p.expiry_date,
                supplier=receipt.supplier,
                registrant=o.product.registrant,
                status=LotStatus.QUARANTINE,
                issuer=p.issuer,
                udi_raw=o.raw,
                udi_ai=p.raw_ai,
            )
    if new_lots:
        bulk_create_with_history(
            list(new_lots.values()), Lot, default_user=history_user, default_change_reason=f"received {receipt.number}"
        )
    for o in accepted:
        if o.extra["lot"] is None:
            o.extra["lot"] = new_lots[(o.product.pk, o.extra["lot_number"])]

    start = (ReceiptLine.objects.filter(receipt=receipt).aggregate(n=Max("line_no"))["n"] or 0) + 1
    # One inspection line per scan, except serialised units of one lot scanned together: they share one
    # line (same record fields, quantity = units); each unit keeps its own raw scan on its SerialUnit.
    lines: list[ReceiptLine] = []
    grouped: dict[tuple[int, str, str], ReceiptLine] = {}
    for o in accepted:
        p, product = o.parsed, o.product
        serialised = product.tracking in (Tracking.SERIAL, Tracking.BOTH)
        key = (product.pk, o.extra["lot_number"], o.extra.get("registration_number", ""))
        if serialised and key in grouped:
            o.line = grouped[key]
            o.line.quantity += o.quantity
            o.line.serial = ""
            continue
        registrant = product.registrant
        registrant_licence = licence_number_for_party(party=registrant) if registrant else ""
        warnings = list(p.warnings)
        if o.extra["lot"].pk in pending_lots:
            warnings.append(
                str(
                    _("Lot %(lot)s is already %(status)s: these units await inspection until quality releases them.")
                    % {"lot": o.extra["lot_number"], "status": LotStatus(pending_lots[o.extra["lot"].pk]).label}
                )
            )
        o.line = ReceiptLine(
            receipt=receipt,
            line_no=start + len(lines),
            product=product,
            lot=o.extra["lot"],
            serial=p.serial,
            quantity=o.quantity,
            product_name=product.name_zh,
            model_spec=product.model_spec,
            registration_number=o.extra.get("registration_number", ""),
            registrant_name=registrant.name if registrant else "",
            registrant_licence=o.extra.get("registrant_licence") or registrant_licence,
            manufacturer_name=o.extra.get("manufacturer_name") or (registrant.name if registrant else ""),
            # Without a named contract manufacturer the registrant made it: its licence is the maker's.
            manufacturer_licence=o.extra.get("manufacturer_licence")
            or ("" if o.extra.get("manufacturer_name") else registrant_licence),
            lot_number=o.extra["lot_number"],
            production_date=p.production_date,
            expiry_date=p.expiry_date,
            purchase_date=receipt.purchase_date,
            supplier_name=receipt.supplier_name,
            supplier_address=receipt.supplier_address,
            supplier_contact=receipt.supplier_contact,
            raw_scan=o.raw,
            issuer=p.issuer,
            raw_ai=p.raw_ai,
            warnings=warnings,
            created_at=now,
        )
        lines.append(o.line)
        if serialised:
            grouped[key] = o.line
    reason = f"received {receipt.number}"
    bulk_create_with_history(
        lines, ReceiptLine, batch_size=2000, default_user=history_user, default_change_reason=reason
    )

    serials = []
    for o in accepted:
        if o.product.tracking in (Tracking.SERIAL, Tracking.BOTH):
            o.extra["serial_unit"] = SerialUnit(
                product=o.product,
                serial=o.parsed.serial,
                lot=o.extra["lot"],
                status=SerialStatus.QUARANTINE if o.extra["lot"].pk in pending_lots else SerialStatus.IN_STOCK,
                warehouse=receipt.warehouse,
                receipt_line=o.line,
                udi_raw=o.raw,
                created_at=now,
            )
            serials.append(o.extra["serial_unit"])
    if serials:
        bulk_create_with_history(
            serials, SerialUnit, batch_size=2000, default_user=history_user, default_change_reason=reason
        )

    moves = [
        MoveSpec(
            kind=MoveKind.RECEIPT,
            product_id=o.product.pk,
            lot_id=o.extra["lot"].pk,
            warehouse_id=receipt.warehouse_id,
            on_hand_delta=o.quantity,
            quarantined_delta=o.quantity if o.extra["lot"].pk in pending_lots else 0,
            serial_id=o.extra["serial_unit"].pk if "serial_unit" in o.extra else None,
        )
        for o in accepted
    ]
    stock_moves_post(
        moves=moves, document_type="receipt", document_id=receipt.pk, document_ref=receipt.number, user=user
    )
    # One receipt edge per lot and batch: the backward trace of a lot is one indexed read.
    per_lot: dict[int, list] = defaultdict(lambda: [0, None, None])
    for o in accepted:
        entry = per_lot[o.extra["lot"].pk]
        entry[0] += o.quantity
        entry[1] = o.product.pk
        entry[2] = entry[2] or o.line
    TraceEdge.objects.bulk_create(
        [
            TraceEdge(
                kind=EdgeKind.RECEIPT,
                product_id=product_id,
                lot_id=lot_id,
                party_id=receipt.supplier_id,
                warehouse_id=receipt.warehouse_id,
                quantity=quantity,
                receipt=receipt,
                receipt_line=first_line,
                document_ref=receipt.number,
                occurred_at=now,
            )
            for lot_id, (quantity, product_id, first_line) in per_lot.items()
        ]
    )


@transaction.atomic
def receipt_create_with_scans(
    *, user, supplier: Party, warehouse: Warehouse, scans: list | None = None, inspection: dict | None = None, **header
) -> Receipt:
    """Open a receipt and receive all its scans in one transaction (the API's one-request receipt);
    any refused scan refuses the whole receipt (``scans_refused``) and nothing is written."""
    receipt = receipt_create(user=user, supplier=supplier, warehouse=warehouse, **header)
    defaults = {k: v for k, v in (inspection or {}).items() if k in INSPECTION_FIELDS}
    if scans:
        items = [{**defaults, "raw": s} if isinstance(s, str) else {**defaults, **s} for s in scans]
        receipt_scans_receive(receipt=receipt, user=user, scans=items)
    return receipt
