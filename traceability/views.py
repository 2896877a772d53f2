"""Warehouse pages: scan-first receiving, lot page (where every unit went), order fulfilment, shipments.

Thin: each view reads through selectors and writes through services; domain errors become messages
or form errors.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erp.kernel.access import object_get_for, restrict
from erp.kernel.errors import DomainError, NotFoundOrForbidden, apply_to_form
from orders.models import SalesOrder
from orders.selectors import order_list_visible_to
from traceability import selectors, services
from traceability.exports import trace_csv_response
from traceability.forms import (
    CustomerReturnForm,
    DispatchForm,
    LogisticsEventForm,
    ReceiptForm,
    ScanForm,
    SignatureForm,
    SignForm,
)
from traceability.models import (
    Allocation,
    AllocationStatus,
    CustomerReturnLine,
    Excursion,
    Lot,
    LotStatus,
    ReceiptStatus,
    Shipment,
    ShipmentStatus,
)

RECENT_LINES = 50


def _hidden_is_missing(view):
    """A row the user may not see is a plain 404 page, like a row that does not exist."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFoundOrForbidden as exc:
            raise Http404 from exc

    return wrapper


@login_required
@permission_required("traceability.view_receipt", raise_exception=True)
def receipt_list(request):
    receipts = selectors.receipt_list_visible_to(user=request.user).order_by("-created_at", "-id")
    page = Paginator(receipts, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/receipt_list.html",
        {"page": page, "form": ReceiptForm(), "can_add": request.user.has_perm("traceability.add_receipt")},
    )


@login_required
@permission_required("traceability.add_receipt", raise_exception=True)
def receipt_new(request):
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = services.receipt_create(
                user=request.user,
                supplier=form.cleaned_data["supplier"],
                warehouse=form.cleaned_data["warehouse"],
                purchase_order_ref=form.cleaned_data["purchase_order_ref"],
                transport_temperature_ok=form.cleaned_data["transport_temperature_ok"] or None,
            )
        except DomainError as exc:
            apply_to_form(form, exc)
        else:
            return redirect("traceability:receipt_detail", pk=receipt.pk)
    return render(request, "traceability/receipt_form.html", {"form": form})


def _receipt_context(receipt):
    lines = receipt.lines.select_related("product").order_by("-line_no")
    totals = receipt.lines.aggregate(quantity=Sum("quantity"))
    return {
        "receipt": receipt,
        "lines": lines[:RECENT_LINES],
        "line_count": receipt.lines.count(),
        "quantity": totals["quantity"] or 0,
    }


@login_required
@permission_required("traceability.view_receipt", raise_exception=True)
@_hidden_is_missing
def receipt_detail(request, pk: int):
    """The scan-first receiving page: the cursor stays in the scan field, each scan becomes a line."""
    receipt = selectors.receipt_get(user=request.user, pk=pk)
    context = _receipt_context(receipt)
    context["form"] = ScanForm()
    context["can_scan"] = receipt.status == ReceiptStatus.OPEN and request.user.has_perm("traceability.add_receipt")
    return render(request, "traceability/receipt_detail.html", context)


@login_required
@require_POST
@permission_required("traceability.add_receipt", raise_exception=True)
@_hidden_is_missing
def receipt_scan_view(request, pk: int):
    """One scan: the answer is the line (green, or red with its reason) plus the updated counters."""
    receipt = selectors.receipt_get(user=request.user, pk=pk)
    raw = request.POST.get("raw", "")
    try:
        outcome = services.receipt_scan(receipt=receipt, user=request.user, raw=raw)
    except DomainError as exc:
        outcome = None
        error = str(exc.message)
    else:
        error = ""
    context = {"outcome": outcome, "error": error, "raw": raw, **_receipt_context(receipt)}
    if not request.htmx:
        if outcome is not None and not outcome.ok:
            messages.error(request, outcome.reason)
        elif error:
            messages.error(request, error)
        return redirect("traceability:receipt_detail", pk=pk)
    return render(request, "traceability/_scan_result.html", context)


@login_required
@require_POST
@permission_required("traceability.change_receipt", raise_exception=True)
@_hidden_is_missing
def receipt_complete_view(request, pk: int):
    receipt = selectors.receipt_get(user=request.user, pk=pk)
    services.receipt_complete(receipt=receipt, user=request.user)
    messages.success(request, _("Receipt %(number)s completed.") % {"number": receipt.number})
    return redirect("traceability:receipt_detail", pk=pk)


@login_required
@permission_required("traceability.view_lot", raise_exception=True)
def lot_list(request):
    lots = selectors.lot_list_visible_to(user=request.user)
    q = request.GET.get("q", "").strip()
    if q:
        lots = lots.filter(Q(lot_number__icontains=q) | Q(product__sku__icontains=q) | Q(product__name_zh__icontains=q))
    status = request.GET.get("status", "")
    if status in LotStatus.values:
        lots = lots.filter(status=status)
    page = Paginator(lots.order_by("-created_at", "-id"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/lot_list.html",
        {"page": page, "q": q, "status": status, "statuses": LotStatus.choices},
    )


@login_required
@permission_required("traceability.view_lot", raise_exception=True)
@_hidden_is_missing
def lot_detail(request, pk: int):
    """Where every unit of the lot went (customers, shipments) and what is still in stock where."""
    lot = selectors.lot_get(user=request.user, pk=pk)
    forward = selectors.trace_forward(lot=lot, user=request.user)
    pending = sum(s["quarantined"] for s in forward["stock"])
    releasable = lot.status in (LotStatus.QUARANTINE, LotStatus.ON_HOLD) or (
        lot.status == LotStatus.RELEASED and pending > 0
    )
    return render(
        request,
        "traceability/lot_detail.html",
        {
            "lot": lot,
            "forward": forward,
            "stock_total": sum(s["on_hand"] for s in forward["stock"]),
            "pending_total": pending,
            "backward": selectors.trace_backward(lot=lot),
            "signature_form": SignatureForm(),
            "excursions": restrict(lot.excursions.all(), request.user, "view"),
            "can_acknowledge_excursion": request.user.has_perm("traceability.acknowledge_excursion"),
            "can_release": request.user.has_perm("traceability.release_lot") and releasable,
            "status_class": {
                LotStatus.RELEASED: "badge-ok",
                LotStatus.QUARANTINE: "badge-medium",
                LotStatus.ON_HOLD: "badge-medium",
            }.get(lot.status, "badge-high"),
        },
    )


@login_required
@permission_required("traceability.view_lot", raise_exception=True)
@_hidden_is_missing
def lot_trace_csv(request, pk: int):
    lot = selectors.lot_get(user=request.user, pk=pk)
    return trace_csv_response(lot=lot, filename=f"trace-{lot.lot_number}.csv", user=request.user)


@login_required
@require_POST
@permission_required("traceability.release_lot", raise_exception=True)
@_hidden_is_missing
def lot_release_view(request, pk: int):
    lot = selectors.lot_get(user=request.user, pk=pk)
    form = SignatureForm(request.POST)
    if form.is_valid():
        try:
            services.lot_release(
                lot=lot, user=request.user, password=form.cleaned_data["password"], reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Lot %(lot)s released.") % {"lot": lot.lot_number})
    else:
        messages.error(request, _("Enter your password to sign."))
    return redirect("traceability:lot_detail", pk=pk)


def _order_for(request, order_pk: int) -> SalesOrder:

    return object_get_for(order_list_visible_to(user=request.user), request.user, "view", pk=order_pk)


@login_required
@permission_required("traceability.view_allocation", raise_exception=True)
@_hidden_is_missing
def order_fulfil(request, order_pk: int):
    """Allocate an order FEFO, pick it into a shipment and hand it to the carrier."""
    order = _order_for(request, order_pk)
    dispatch_form = DispatchForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "allocate":
                result = services.order_allocate(order=order, user=request.user)
                if result.shortages:
                    messages.warning(
                        request,
                        "; ".join(
                            _("line %(line)d %(sku)s: %(missing)d short (%(reason)s)")
                            % {"line": s.line_no, "sku": s.sku, "missing": s.missing, "reason": s.reason}
                            for s in result.shortages
                        ),
                    )
                else:
                    messages.success(request, _("Order fully allocated."))
            elif action == "ship":
                dispatch_form = DispatchForm(request.POST)
                if dispatch_form.is_valid():
                    shipment = services.shipment_create(order=order, user=request.user)
                    services.shipment_dispatch(
                        shipment=shipment,
                        user=request.user,
                        carrier=dispatch_form.cleaned_data["carrier"],
                        tracking_number=dispatch_form.cleaned_data["tracking_number"],
                        expected_arrival_at=dispatch_form.cleaned_data["expected_arrival_at"],
                    )
                    messages.success(request, _("Shipment %(number)s dispatched.") % {"number": shipment.number})
                    return redirect("traceability:shipment_detail", pk=shipment.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if action == "allocate":
                return redirect("traceability:order_fulfil", order_pk=order.pk)
        order.refresh_from_db()
    lines = list(order.lines.select_related("product").order_by("line_no"))
    allocations = (
        Allocation.objects.filter(order_line__order=order)
        .select_related("lot", "order_line")
        .order_by("order_line__line_no", "lot__expiry_date")
    )
    return render(
        request,
        "traceability/order_fulfil.html",
        {
            "order": order,
            "lines": lines,
            "allocations": allocations,
            "has_unshipped": allocations.filter(status=AllocationStatus.ACTIVE).exists(),
            "shipments": order.shipments.order_by("-created_at"),
            "dispatch_form": dispatch_form,
            "can_change": request.user.has_perm("traceability.add_shipment"),
        },
    )


@login_required
@permission_required("traceability.view_shipment", raise_exception=True)
@_hidden_is_missing
def shipment_detail(request, pk: int):
    shipment = selectors.shipment_get(user=request.user, pk=pk)
    event_form, sign_form = LogisticsEventForm(), SignForm()
    can_return = (
        request.user.has_perm("traceability.add_customerreturn")
        and shipment.status in services.RETURNABLE_SHIPMENT_STATUSES
    )
    shipment_lines = list(shipment.lines.select_related("lot").prefetch_related("serials__serial_unit").order_by("id"))
    returned = selectors.shipment_returned_quantities(shipment=shipment)
    returnable = {line.pk: line.quantity - returned.get(line.pk, 0) for line in shipment_lines}
    for line in shipment_lines:
        line.returned_quantity = returned.get(line.pk, 0)
    return_form = CustomerReturnForm(
        lines=shipment_lines, returnable=returnable, initial={"warehouse": shipment.warehouse_id}
    )
    if request.method == "POST" and request.POST.get("action") == "return" and can_return:
        return_form = CustomerReturnForm(request.POST, lines=shipment_lines, returnable=returnable)
        if return_form.is_valid():
            try:
                customer_return = services.shipment_return(
                    shipment=shipment,
                    user=request.user,
                    warehouse=return_form.cleaned_data["warehouse"],
                    reason=return_form.cleaned_data["reason"],
                    lines=[
                        {
                            "shipment_line": return_form.cleaned_data["shipment_line"],
                            "quantity": return_form.cleaned_data["quantity"],
                            "serials": return_form.serial_list(),
                        }
                    ],
                )
            except DomainError as exc:
                apply_to_form(return_form, exc)
            else:
                messages.success(
                    request,
                    _("Return %(number)s received: the units wait in the returns zone until quality releases them.")
                    % {"number": customer_return.number},
                )
                return redirect("traceability:shipment_detail", pk=pk)
    elif request.method == "POST" and request.user.has_perm("traceability.change_shipment"):
        action = request.POST.get("action")
        try:
            if action == "event":
                event_form = LogisticsEventForm(request.POST)
                if event_form.is_valid():
                    services.shipment_event_record(
                        shipment=shipment,
                        user=request.user,
                        occurred_at=timezone.now(),
                        source="manual",
                        **event_form.cleaned_data,
                    )
                    return redirect("traceability:shipment_detail", pk=pk)
            elif action == "sign":
                sign_form = SignForm(request.POST)
                if sign_form.is_valid():
                    note = sign_form.cleaned_data["discrepancy_note"]
                    first_line = shipment.lines.order_by("id").first()
                    services.shipment_sign(
                        shipment=shipment,
                        user=request.user,
                        signed_by=sign_form.cleaned_data["signed_by"],
                        discrepancies=[{"shipment_line": first_line.pk, "note": note}] if note and first_line else [],
                    )
                    return redirect("traceability:shipment_detail", pk=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    shipment = get_object_or_404(Shipment.objects.select_related("order", "customer", "warehouse"), pk=shipment.pk)
    return render(
        request,
        "traceability/shipment_detail.html",
        {
            "shipment": shipment,
            "lines": shipment_lines,
            "return_form": return_form,
            "can_return": can_return and any(left > 0 for left in returnable.values()),
            "customer_returns": shipment.customer_returns.select_related("warehouse")
            .prefetch_related(Prefetch("lines", queryset=CustomerReturnLine.objects.select_related("lot")))
            .order_by("-created_at", "-id"),
            "events": shipment.events.order_by("occurred_at", "id"),
            "excursions": shipment.excursions.all(),
            "can_acknowledge_excursion": request.user.has_perm("traceability.acknowledge_excursion"),
            "pod": getattr(shipment, "proof_of_delivery", None) if hasattr(shipment, "proof_of_delivery") else None,
            "event_form": event_form,
            "sign_form": sign_form,
            "can_change": request.user.has_perm("traceability.change_shipment")
            and shipment.status not in (ShipmentStatus.PICKED, ShipmentStatus.SIGNED),
            "lots": Lot.objects.filter(shipment_lines__shipment=shipment).distinct(),
        },
    )


@login_required
@require_POST
@permission_required("traceability.acknowledge_excursion", raise_exception=True)
@_hidden_is_missing
def excursion_acknowledge_view(request, pk: int):
    """Acknowledge a temperature excursion with a comment (closes it when it has ended)."""
    excursion = object_get_for(Excursion.objects.all(), request.user, "view", pk=pk)
    try:
        excursion = services.excursion_acknowledge(
            excursion=excursion, user=request.user, comment=request.POST.get("comment", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if excursion.status == "closed":
            messages.success(request, _("Excursion closed."))
        else:
            messages.success(request, _("Excursion acknowledged; it stays open until it has ended."))
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    if excursion.shipment_id:
        return redirect("traceability:shipment_detail", pk=excursion.shipment_id)
    return redirect("traceability:lot_list")
