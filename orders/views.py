"""Browser pages for sales orders: the one-page order entry (htmx customer and product search, lines
added and removed, live totals), the order page (hold banner, lines with their problems, transitions,
timeline) and the list. Thin layers over ``selectors`` (reads, row-level scoping) and ``services``."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from erp.kernel.errors import DomainError, NotFoundOrForbidden
from erp.kernel.money import CENT, line_net_amount, money
from exceptions_center.models import RuleRouteStep
from masterdata.models import Party, Product
from masterdata.selectors import party_list_visible_to
from masterdata.validators import normalise_gtin
from orders import selectors, services
from orders.filters import OrderListFilterSet
from orders.forms import OrderHeaderForm, line_dicts, lines_from_post
from orders.models import EDITABLE_STATUSES, SalesOrder

PAGE_SIZE = 25
SEARCH_LIMIT = 8
SORT_FIELDS = ("number", "created_at", "requested_delivery_date", "gross_amount", "status", "customer__code")


def _requires(perm: str):
    def decorator(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def _order_or_404(request, pk: int, action: str = "view") -> SalesOrder:
    try:
        return selectors.order_get(user=request.user, pk=pk, action=action)
    except NotFoundOrForbidden as exc:
        raise Http404 from exc


# --- list -----------------------------------------------------------------------------------------


@_requires("orders.view_salesorder")
def order_list(request):
    """My orders for a rep (row-level scoping), every order for managers and back office.

    Empty filter values mean "any"; a value that cannot be read (a malformed date, an unknown status)
    lists nothing and says which filter is wrong."""
    queryset = selectors.order_list_visible_to(user=request.user)
    filterset = OrderListFilterSet(request.GET or None, queryset=queryset)
    form = filterset.form
    filter_errors = []
    if not filterset.is_bound or filterset.is_valid():
        rows = filterset.qs
    else:
        rows = queryset.none()
        filter_errors = [
            _("%(filter)s: %(problem)s") % {"filter": form.fields[name].label, "problem": " ".join(messages_)}
            if name in form.fields
            else " ".join(messages_)
            for name, messages_ in form.errors.items()
        ]
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in SORT_FIELDS:
        sort = "-created_at"
    page_obj = Paginator(rows.order_by(sort, "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    sees_all = request.user.has_perm("orders.view_all_salesorder")
    filter_names = ["q", "status", "is_held", "customer_q", "created_after", "created_before"]
    if sees_all:
        filter_names.insert(4, "sales_rep")
    filtered = any(request.GET.get(name) not in (None, "", "unknown") for name in form.fields)
    form.fields["is_held"].widget.choices = [("unknown", _("All")), ("true", _("Held")), ("false", _("Not held"))]
    form.fields["sales_rep"].empty_label = _("All")
    context = {
        "filter_form": form,
        "filter_fields": [form[name] for name in filter_names],
        "filter_errors": filter_errors,
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "filtered": filtered,
        "default_sort": "-created_at",
        "can_add": request.user.has_perm("orders.add_salesorder"),
        "sees_all": sees_all,
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "orders/_salesorder_results.html", context)
    return render(request, "orders/salesorder_list.html", context)


# --- detail and transitions ---------------------------------------------------------------------


def _hold_context(order: SalesOrder) -> dict:
    header_events, events_by_line = selectors.order_events_by_line(order)
    acting = selectors.order_acting_departments(order)
    open_events = selectors.order_open_events(order)
    missing = [e for e in open_events if e.pk not in acting]
    if missing:
        route: dict[int, list[str]] = {}
        for step in RuleRouteStep.objects.filter(rule_id__in={e.rule_id for e in missing}).select_related("department"):
            route.setdefault(step.rule_id, []).append(str(step.department))
        for event in missing:
            acting[event.pk] = route.get(event.rule_id, [])
    for event in open_events:
        event.acting = acting.get(event.pk, [])
    return {
        "open_events": open_events,
        "blocking_events": [e for e in open_events if e.blocking],
        "header_events": header_events,
        "events_by_line": events_by_line,
    }


@_requires("orders.view_salesorder")
def order_detail(request, pk: int):
    order = _order_or_404(request, pk)
    lines = list(order.lines.all())
    hold = _hold_context(order)
    for line in lines:
        line.problems = hold["events_by_line"].get(line.line_no, [])
    can_change = services.order_can_change(user=request.user, order=order)
    context = {
        "order": order,
        "lines": lines,
        "timeline": selectors.order_timeline(order),
        "can_edit": can_change and order.status in EDITABLE_STATUSES,
        "can_submit": can_change and order.status in services.SUBMITTABLE,
        "can_approve": order.status in services.APPROVABLE
        and services.order_can_approve(user=request.user, order=order),
        "can_cancel": can_change and order.status in services.CANCELLABLE,
        "can_close": can_change and order.status in services.CLOSABLE,
        **hold,
    }
    return render(request, "orders/salesorder_detail.html", context)


def _transition(service, success: str):
    @_requires("orders.view_salesorder")
    @require_POST
    def view(request, pk: int):
        order = _order_or_404(request, pk)
        kwargs = {"reason": request.POST.get("reason", "")}
        try:
            order = service(order=order, user=request.user, **kwargs)
        except DomainError as exc:
            text = str(exc.message)
            if exc.fields:
                text += " " + " ".join(str(m) for msgs in exc.fields.values() for m in msgs)
            messages.error(request, text)
        else:
            messages.success(request, str(success) % {"number": order.number})
        return redirect("orders:order_detail", pk=pk)

    return view


order_submit = _transition(services.order_submit, gettext_lazy("Order %(number)s submitted for approval."))
order_approve = _transition(services.order_approve, gettext_lazy("Order %(number)s approved."))
order_cancel = _transition(services.order_cancel, gettext_lazy("Order %(number)s cancelled."))
order_close = _transition(services.order_close, gettext_lazy("Order %(number)s closed."))


# --- entry (create / edit) ------------------------------------------------------------------------


class Row:
    """One line row on the entry page (posted, or from an existing line)."""

    def __init__(self, key: str, values: dict, product: Product | None, errors: dict | None = None):
        self.key = key
        self.values = values
        self.product = product
        self.errors = errors or {}
        self.problems: list = []
        self.amount = _row_amount(values, product)

    @property
    def all_errors(self) -> list[str]:
        return [str(m) for msgs in self.errors.values() for m in msgs]


def _dec(value, default: Decimal | None = None) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else default
    except (InvalidOperation, ValueError):
        return default


def _row_amount(values: dict, product: Product | None) -> Decimal | None:
    """Net amount of a row as the services compute it (for live totals before saving)."""
    if product is None:
        return None
    quantity = _dec(values.get("quantity"))
    price = _dec(values.get("unit_price"), product.list_price)
    discount = _dec(values.get("discount_pct"), Decimal("0"))
    if quantity is None or price is None or discount is None:
        return None
    return line_net_amount(quantity, price, discount)


def _rows_from_post(request, errors: list | None = None) -> list[Row]:
    raw_rows = lines_from_post(request.POST)
    products = Product.objects.in_bulk([int(v["product"]) for _k, v in raw_rows if v.get("product", "").isdigit()])
    rows = []
    for index, (key, values) in enumerate(raw_rows):
        product = products.get(int(values["product"])) if values.get("product", "").isdigit() else None
        row_errors = errors[index] if errors and index < len(errors) and isinstance(errors[index], dict) else {}
        rows.append(Row(key, values, product, row_errors))
    return rows


def _rows_from_order(order: SalesOrder) -> list[Row]:
    rows = []
    for line in order.lines.all():
        values = {
            "id": str(line.pk),
            "product": str(line.product_id),
            "quantity": str(line.quantity),
            "unit_price": f"{line.unit_price.normalize():f}",
            "discount_pct": f"{line.discount_pct.normalize():f}",
            "requested_lot": line.requested_lot,
            "min_shelf_life_days": "" if line.min_shelf_life_days is None else str(line.min_shelf_life_days),
            "min_shelf_life_pct": "" if line.min_shelf_life_pct is None else str(line.min_shelf_life_pct),
        }
        row = Row(str(line.line_no), values, line.product)
        row.line_no = line.line_no
        rows.append(row)
    return rows


def _totals(rows: list[Row]) -> dict:
    net = sum((row.amount or Decimal("0") for row in rows), Decimal("0"))
    tax = sum(
        (money((row.amount or Decimal("0")) * row.product.tax_rate) for row in rows if row.product),
        Decimal("0"),
    )
    return {"net": net.quantize(CENT), "tax": tax.quantize(CENT), "gross": (net + tax).quantize(CENT)}


def _party_or_none(user, pk) -> Party | None:
    if not pk:
        return None
    return party_list_visible_to(user=user).filter(pk=pk).first()


def _ship_to_shown(user, pk, order: SalesOrder | None) -> Party | None:
    """The ship-to party to show on the entry page: the order's own, or one the user may see (never a
    party named by a posted id the user may not see)."""
    if order is not None and order.ship_to_id is not None and str(pk) == str(order.ship_to_id):
        return order.ship_to
    return _party_or_none(user, pk) if str(pk or "").isdigit() else None


def _entry_page(request, *, order: SalesOrder | None):
    """Render and save the entry page; on success go to the order page, which shows the hold at once."""
    editing = order is not None
    if request.method == "POST":
        form = OrderHeaderForm(request.POST, user=request.user, current_ship_to=order.ship_to_id if editing else None)
        line_errors: list = []
        if form.is_valid():
            data = form.order_input(line_dicts(lines_from_post(request.POST)))
            try:
                if editing:
                    result = services.order_update_from_input(order=order, user=request.user, data=data)
                else:
                    result = services.order_create_from_input(user=request.user, data=data)
            except ValidationError as exc:
                exc = DomainError.from_validation_error(exc)
                _form_errors(form, exc.fields, line_errors)
            except DomainError as exc:
                if not exc.fields:
                    form.add_error(None, str(exc.message))
                _form_errors(form, exc.fields, line_errors)
            else:
                saved = result.order
                open_events = result.open_events
                if open_events is None:
                    open_events = selectors.order_open_events(saved)
                if open_events:
                    messages.warning(
                        request,
                        _("Order %(number)s saved: %(count)s exception event(s) raised.")
                        % {"number": saved.number, "count": len(open_events)},
                    )
                else:
                    messages.success(request, _("Order %(number)s saved.") % {"number": saved.number})
                return redirect("orders:order_detail", pk=saved.pk)
        rows = _rows_from_post(request, line_errors)
        status = 400
    else:
        if editing:
            form = OrderHeaderForm(
                initial={
                    "customer": order.customer_id,
                    "ship_to": order.ship_to_id,
                    "warehouse": order.warehouse_id,
                    "requested_delivery_date": order.requested_delivery_date,
                    "customer_po": order.customer_po,
                    "contract_ref": order.contract_ref,
                    "payment_terms": order.payment_terms,
                    "ship_to_address": order.ship_to_address,
                    "notes": order.notes,
                }
            )
            rows = _rows_from_order(order)
        else:
            form = OrderHeaderForm()
            rows = []
        status = 200
    customer_pk = form["customer"].value()
    ship_to_pk = form["ship_to"].value()
    context = {
        "form": form,
        "order": order,
        "rows": rows,
        "totals": _totals(rows),
        "customer": _party_or_none(request.user, customer_pk),
        "ship_to": _ship_to_shown(request.user, ship_to_pk, order),
        "lines_error": form.errors.get("lines"),
    }
    if editing:
        hold = _hold_context(order)
        for row in rows:
            row.problems = hold["events_by_line"].get(getattr(row, "line_no", None), [])
        context.update(hold)
    return render(request, "orders/salesorder_form.html", context, status=status)


def _form_errors(form, fields: dict, line_errors: list) -> None:
    for name, messages_ in fields.items():
        if name == "lines":
            if messages_ and all(isinstance(m, dict) for m in messages_):
                line_errors.extend(messages_)
            else:
                form.add_error(None, " ".join(str(m) for m in messages_))
            continue
        target = name if name in form.fields else None
        for message in messages_:
            form.add_error(target, str(message))


@_requires("orders.add_salesorder")
def order_create(request):
    return _entry_page(request, order=None)


@_requires("orders.change_salesorder")
def order_update(request, pk: int):
    order = _order_or_404(request, pk, action="change")
    if order.status not in EDITABLE_STATUSES:
        text = _("A %(status)s order can no longer be changed.") % {"status": order.get_status_display()}
        messages.error(request, text)
        return redirect("orders:order_detail", pk=pk)
    return _entry_page(request, order=order)


# --- htmx partials --------------------------------------------------------------------------------


@_requires("orders.add_salesorder")
def customer_search(request):
    """Autocomplete over the parties the user may sell to (code, name, USCC)."""
    field = "ship_to" if request.GET.get("field") == "ship_to" else "customer"
    q = request.GET.get(f"{field}_q", request.GET.get("q", "")).strip()
    parties = []
    if q:
        parties = list(
            party_list_visible_to(user=request.user)
            .filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(name_en__icontains=q) | Q(uscc=q.upper()))
            .order_by("-is_active", "code")[:SEARCH_LIMIT]
        )
    return render(request, "orders/_party_results.html", {"parties": parties, "field": field, "q": q})


@_requires("orders.add_salesorder")
def customer_pick(request, pk: int):
    field = "ship_to" if request.GET.get("field") == "ship_to" else "customer"
    party = _party_or_none(request.user, pk)
    if party is None:
        raise Http404
    return render(request, "orders/_party_chosen.html", {"party": party, "field": field})


@_requires("orders.add_salesorder")
def customer_clear(request):
    field = "ship_to" if request.GET.get("field") == "ship_to" else "customer"
    return render(request, "orders/_party_chosen.html", {"party": None, "field": field})


def _scan_to_gtin_and_lot(text: str) -> tuple[str | None, str]:
    """A scanned GS1 string (DataMatrix/GS1-128) or a bare GTIN: the GTIN-14 and the lot if any."""
    text = text.strip()
    if text.isdigit() and len(text) in (8, 12, 13, 14):
        return normalise_gtin(text), ""
    if not (text.startswith("]") or text.startswith("(01)") or (text.startswith("01") and len(text) > 16)):
        return None, ""
    try:
        import biip

        result = biip.parse(text)
    except Exception:  # a scanner string we cannot read is just "no match"
        return None, ""
    message = result.gs1_message
    if message is None and text.startswith("("):
        from biip.gs1_messages import GS1Message

        try:
            message = GS1Message.parse_hri(text)
        except Exception:
            message = None
    if message is None:
        gtin = result.gtin
        return (gtin.as_gtin_14() if gtin else None), ""
    gtin_element = message.element_strings.get(ai="01")
    lot_element = message.element_strings.get(ai="10")
    gtin = gtin_element.value if gtin_element else None
    return gtin, (lot_element.value if lot_element else "")


def _product_matches(q: str):
    gtin, _lot = _scan_to_gtin_and_lot(q)
    if gtin:
        return list(Product.objects.filter(udi_di=gtin)[:SEARCH_LIMIT]), True
    exact = list(Product.objects.filter(sku__iexact=q)[:1])
    if exact:
        return exact, True
    found = Product.objects.filter(Q(sku__icontains=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q)).order_by(
        "-is_active", "sku"
    )[:SEARCH_LIMIT]
    return list(found), False


@_requires("orders.add_salesorder")
def product_search(request):
    """Products by SKU, name or scanned GTIN / GS1 barcode."""
    q = request.GET.get("product_q", "").strip()
    products, exact = _product_matches(q) if q else ([], False)
    return render(request, "orders/_product_results.html", {"products": products, "q": q, "exact": exact})


@_requires("orders.add_salesorder")
def line_row(request):
    """A new line row for the product picked (or scanned: Enter in the search adds the exact match)."""
    product = None
    lot = ""
    if request.GET.get("product", "").isdigit():
        product = Product.objects.filter(pk=request.GET["product"]).first()
    elif request.GET.get("product_q"):
        q = request.GET["product_q"].strip()
        _gtin, lot = _scan_to_gtin_and_lot(q)
        products, exact = _product_matches(q)
        if len(products) == 1 and exact:
            product = products[0]
    if product is None:
        context = {"products": [], "q": request.GET.get("product_q", ""), "not_found": True}
        response = render(request, "orders/_product_results.html", context)
        response["HX-Retarget"] = "#product-results"
        response["HX-Reswap"] = "innerHTML"
        return response
    values = {"id": "", "product": str(product.pk), "quantity": "1", "unit_price": "", "discount_pct": ""}
    values["requested_lot"] = lot
    row = Row(uuid.uuid4().hex[:8], values, product)
    response = render(request, "orders/_line_row.html", {"row": row, "new": True})
    response["HX-Trigger-After-Swap"] = "lines-changed"
    return response


@_requires("orders.add_salesorder")
def order_totals(request):
    """Live totals (and each row's net amount, swapped out of band) while the lines are edited."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    rows = _rows_from_post(request)
    return render(request, "orders/_totals.html", {"rows": rows, "totals": _totals(rows), "oob": True})


def order_url(order: SalesOrder) -> str:
    return reverse("orders:order_detail", args=[order.pk])
