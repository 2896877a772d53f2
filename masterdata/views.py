"""Browser pages for parties, products and warehouses: thin layers over ``selectors`` (reads, row-level
scoping) and ``services`` (every write). A row the user may not see answers 404, like a missing one."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from erp import audit
from erp.kernel.errors import DomainError, NotFoundOrForbidden, apply_to_form
from masterdata import selectors, services
from masterdata.filters import PartyFilterSet, ProductFilterSet, WarehouseFilterSet
from masterdata.forms import PartyForm, ProductForm, WarehouseForm

PAGE_SIZE = 25
HISTORY_ON_DETAIL = 10


def _requires(perm: str):
    """Login first (anonymous users go to the login page), then the model permission (403 if missing)."""

    def decorator(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def _object_or_404(getter: Callable, **kwargs):
    try:
        return getter(**kwargs)
    except NotFoundOrForbidden as exc:
        raise Http404 from exc


def _friendly_filters(form) -> None:
    """Empty choices read "All" instead of dashes or "Unknown"."""
    from django import forms

    for field in form.fields.values():
        if isinstance(field.widget, forms.NullBooleanSelect):
            field.widget.choices = [("unknown", _("All")), ("true", _("Yes")), ("false", _("No"))]
        elif hasattr(field, "empty_label"):  # model choices and django-filter's ChoiceField
            field.empty_label = _("All")
            field.widget.choices = field.choices
        elif isinstance(field, forms.ChoiceField):
            field.choices = [("", _("All")), *[c for c in cast(list, field.choices) if c[0] != ""]]


def _list_page(request, *, model_name, queryset, filterset_class, filter_fields, sort_fields, default_sort, extra):
    """Search, filter, sort and paginate one list; htmx requests get only the results partial."""
    filterset = filterset_class(request.GET or None, queryset=queryset)
    rows = queryset.none() if filterset.is_bound and not filterset.is_valid() else filterset.qs
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in sort_fields:
        sort = default_sort
    rows = rows.order_by(sort, "pk")
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(request.GET.get(name) not in (None, "", "unknown") for name in filterset.form.fields)
    _friendly_filters(filterset.form)
    context = {
        "filter_form": filterset.form,
        "filter_fields": [filterset.form[name] for name in filter_fields],
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "filtered": filtered,
        "default_sort": default_sort,
        **extra,
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, f"masterdata/_{model_name}_results.html", context)
    return render(request, f"masterdata/{model_name}_list.html", context)


def _save_form(request, form, *, service: Callable, **service_kwargs):
    """Run a service with the form's data; domain and validation errors land next to their fields."""
    data = dict(form.cleaned_data)
    reason = data.pop("reason", "") or ""
    try:
        return service(user=request.user, reason=reason, **service_kwargs, **data)
    except ValidationError as exc:
        apply_to_form(form, DomainError.from_validation_error(exc))
    except DomainError as exc:
        apply_to_form(form, exc)
    return None


def _form_page(request, *, form, template, service, success_message, context, **service_kwargs):
    if request.method == "POST" and form.is_valid():
        saved = _save_form(request, form, service=service, **service_kwargs)
        if saved is not None:
            messages.success(request, success_message % {"object": saved})
            return redirect(saved_url(saved))
    return render(request, template, {"form": form, **context}, status=400 if form.errors else 200)


def saved_url(instance) -> str:
    from django.urls import reverse

    return reverse(f"masterdata:{instance._meta.model_name}_detail", args=[instance.pk])


def _detail_page(request, *, instance, template, change_perm: str, can_change: bool):
    entries, more = audit.object_history(instance, limit=HISTORY_ON_DETAIL)
    return render(
        request,
        template,
        {
            "object": instance,
            "history_entries": entries,
            "history_more": more,
            "can_change": can_change and request.user.has_perm(change_perm),
            "history_model_key": audit.model_key(type(instance)),
            "history_object_code": getattr(instance, "code", None) or getattr(instance, "sku", ""),
        },
    )


# --- Parties ---------------------------------------------------------------------------------------


@_requires("masterdata.view_party")
def party_list(request):
    """Parties the user may see; a sales rep sees only the ones assigned to them."""
    return _list_page(
        request,
        model_name="party",
        queryset=selectors.party_list_visible_to(user=request.user),
        filterset_class=PartyFilterSet,
        filter_fields=["q", "kind", "province", "is_active"],
        sort_fields={"code", "name", "kind", "region_code", "created_at"},
        default_sort="code",
        extra={
            "can_add": request.user.has_perm("masterdata.add_party"),
            "scoped": not request.user.has_perm("masterdata.view_all_party"),
        },
    )


@_requires("masterdata.view_party")
def party_detail(request, pk: int):
    party = _object_or_404(selectors.party_get, user=request.user, pk=pk)
    can_change = selectors.party_list_visible_to(user=request.user, action="change").filter(pk=party.pk).exists()
    return _detail_page(
        request,
        instance=party,
        template="masterdata/party_detail.html",
        change_perm="masterdata.change_party",
        can_change=can_change,
    )


@_requires("masterdata.add_party")
def party_create(request):
    form = PartyForm(request.POST or None, user=request.user)
    return _form_page(
        request,
        form=form,
        template="masterdata/party_form.html",
        service=services.party_create,
        success_message=_("Party %(object)s was created."),
        context={"title": _("New party"), "cancel_url": "masterdata:party_list"},
    )


@_requires("masterdata.change_party")
def party_update(request, pk: int):
    party = _object_or_404(selectors.party_get, user=request.user, pk=pk, action="change")
    label = str(party)
    form = PartyForm(request.POST or None, instance=party, user=request.user)
    return _form_page(
        request,
        form=form,
        template="masterdata/party_form.html",
        service=services.party_update,
        success_message=_("Party %(object)s was saved."),
        context={"title": _("Edit %(object)s") % {"object": label}, "object_pk": party.pk, "object_label": label},
        instance=party,
    )


# --- Products ---------------------------------------------------------------------------------------


@_requires("masterdata.view_product")
def product_list(request):
    return _list_page(
        request,
        model_name="product",
        queryset=selectors.product_list_visible_to(user=request.user),
        filterset_class=ProductFilterSet,
        filter_fields=["q", "device_class", "tracking", "is_implant", "is_active"],
        sort_fields={"sku", "name_zh", "device_class", "list_price", "created_at"},
        default_sort="sku",
        extra={"can_add": request.user.has_perm("masterdata.add_product")},
    )


@_requires("masterdata.view_product")
def product_detail(request, pk: int):
    product = _object_or_404(selectors.product_get, user=request.user, pk=pk)
    return _detail_page(
        request,
        instance=product,
        template="masterdata/product_detail.html",
        change_perm="masterdata.change_product",
        can_change=True,
    )


@_requires("masterdata.add_product")
def product_create(request):
    form = ProductForm(request.POST or None, user=request.user)
    return _form_page(
        request,
        form=form,
        template="masterdata/product_form.html",
        service=services.product_create,
        success_message=_("Product %(object)s was created."),
        context={"title": _("New product"), "cancel_url": "masterdata:product_list"},
    )


@_requires("masterdata.change_product")
def product_update(request, pk: int):
    product = _object_or_404(selectors.product_get, user=request.user, pk=pk, action="change")
    label = str(product)
    form = ProductForm(request.POST or None, instance=product, user=request.user)
    return _form_page(
        request,
        form=form,
        template="masterdata/product_form.html",
        service=services.product_update,
        success_message=_("Product %(object)s was saved."),
        context={"title": _("Edit %(object)s") % {"object": label}, "object_pk": product.pk, "object_label": label},
        instance=product,
    )


# --- Warehouses -------------------------------------------------------------------------------------


@_requires("masterdata.view_warehouse")
def warehouse_list(request):
    return _list_page(
        request,
        model_name="warehouse",
        queryset=selectors.warehouse_list_visible_to(user=request.user),
        filterset_class=WarehouseFilterSet,
        filter_fields=["q", "province", "is_cold_storage", "is_active"],
        sort_fields={"code", "name", "region_code"},
        default_sort="code",
        extra={"can_add": request.user.has_perm("masterdata.add_warehouse")},
    )


@_requires("masterdata.view_warehouse")
def warehouse_detail(request, pk: int):
    warehouse = _object_or_404(selectors.warehouse_get, user=request.user, pk=pk)
    return _detail_page(
        request,
        instance=warehouse,
        template="masterdata/warehouse_detail.html",
        change_perm="masterdata.change_warehouse",
        can_change=True,
    )


@_requires("masterdata.add_warehouse")
def warehouse_create(request):
    form = WarehouseForm(request.POST or None)
    return _form_page(
        request,
        form=form,
        template="masterdata/warehouse_form.html",
        service=services.warehouse_create,
        success_message=_("Warehouse %(object)s was created."),
        context={"title": _("New warehouse"), "cancel_url": "masterdata:warehouse_list"},
    )


@_requires("masterdata.change_warehouse")
def warehouse_update(request, pk: int):
    warehouse = _object_or_404(selectors.warehouse_get, user=request.user, pk=pk, action="change")
    label = str(warehouse)
    form = WarehouseForm(request.POST or None, instance=warehouse)
    return _form_page(
        request,
        form=form,
        template="masterdata/warehouse_form.html",
        service=services.warehouse_update,
        success_message=_("Warehouse %(object)s was saved."),
        context={
            "title": _("Edit %(object)s") % {"object": label},
            "object_pk": warehouse.pk,
            "object_label": label,
        },
        instance=warehouse,
    )
