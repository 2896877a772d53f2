"""Admin for master data: writes go through ``services`` (history user, reason, rep permissions), the
history view is read only (no revert), rows are deactivated rather than deleted, and the historical
models themselves are not registered, so no admin page can edit or delete a history row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from erp.kernel.admin import HistoryReadOnlyMixin
from masterdata import services
from masterdata.models import Party, Product, Region, Warehouse


class ReasonAdminForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=100,
        help_text=_("Optional; auditors see it in the change history."),
    )


class ReadOnlyHistoryAdmin(HistoryReadOnlyMixin, SimpleHistoryAdmin):
    """Saves through the app's services and shows history without any way to revert or edit it."""

    form = ReasonAdminForm
    create_service: Any = None  # the app's service functions, set by each admin below
    update_service: Any = None

    def save_model(self, request, obj, form, change):
        model_fields = {f.name for f in obj._meta.concrete_fields if f.editable}
        data = {name: value for name, value in form.cleaned_data.items() if name in model_fields}
        reason = form.cleaned_data.get("reason", "")
        if change:
            saved = self.update_service(instance=obj, user=request.user, reason=reason, **data)
        else:
            saved = self.create_service(user=request.user, reason=reason, **data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # Records are kept for the retention period: deactivate instead of deleting.
        return False


@admin.register(Party)
class PartyAdmin(ReadOnlyHistoryAdmin):
    create_service = staticmethod(services.party_create)
    update_service = staticmethod(services.party_update)
    list_display = ("code", "name", "name_en", "kind", "province", "sales_rep", "is_active")
    list_filter = ("kind", "is_active", "is_military", "is_public", "province")
    search_fields = ("code", "name", "name_en", "uscc", "licence_number")
    list_select_related = ("province", "sales_rep")
    autocomplete_fields = ("sales_rep",)
    readonly_fields = ("province", "created_at", "updated_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "kind", "uscc", "licence_number", "is_active")}),
        (_("Location"), {"fields": ("region_code", "province", "address")}),
        (_("Contact"), {"fields": ("contact_name", "contact_phone", "contact_email")}),
        (_("Hospital"), {"fields": ("bed_count", "is_public", "is_military")}),
        (_("Shelf life required at delivery"), {"fields": ("min_shelf_life_days", "min_shelf_life_pct")}),
        (_("Sales"), {"fields": ("sales_rep",)}),
        (_("Audit"), {"fields": ("reason", "created_at", "updated_at")}),
    )


@admin.register(Product)
class ProductAdmin(ReadOnlyHistoryAdmin):
    create_service = staticmethod(services.product_create)
    update_service = staticmethod(services.product_update)
    list_display = ("sku", "name_zh", "name_en", "udi_di", "device_class", "catalogue_code", "tracking", "is_active")
    list_filter = ("device_class", "tracking", "is_implant", "class2_filing_exempt", "is_active")
    search_fields = ("sku", "name_zh", "name_en", "udi_di", "catalogue_code")
    list_select_related = ("registrant",)
    autocomplete_fields = ("registrant",)
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("sku", "name_zh", "name_en", "model_spec", "registrant", "is_active")}),
        (
            _("Regulatory"),
            {"fields": ("udi_di", "device_class", "catalogue_code", "class2_filing_exempt", "is_implant")},
        ),
        (_("Handling"), {"fields": ("tracking", "storage_min_c", "storage_max_c", "shelf_life_days", "unit")}),
        (_("Price"), {"fields": ("list_price", "tax_rate")}),
        (_("Audit"), {"fields": ("reason", "created_at", "updated_at")}),
    )


@admin.register(Warehouse)
class WarehouseAdmin(ReadOnlyHistoryAdmin):
    create_service = staticmethod(services.warehouse_create)
    update_service = staticmethod(services.warehouse_update)
    list_display = ("code", "name", "name_en", "province", "is_cold_storage", "is_active")
    list_filter = ("is_cold_storage", "is_active", "province")
    search_fields = ("code", "name", "name_en", "address")
    list_select_related = ("province",)
    readonly_fields = ("province",)
    fields = ("code", "name", "name_en", "region_code", "province", "address", "is_cold_storage", "is_active", "reason")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Regions are reference data loaded by a migration: readable, not editable."""

    list_display = ("code", "name_zh", "name_en", "abbreviation")
    search_fields = ("code", "name_zh", "name_en", "abbreviation")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
