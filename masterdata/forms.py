"""Browser forms for master data. They only collect and check input: saving goes through ``services``."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from masterdata import selectors
from masterdata.models import Party, Product, Warehouse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ReasonMixin(forms.Form):
    """An optional reason for the change, kept in the object's history for auditors.

    ``sections`` groups the fields under headings on the page; fields not listed come last.
    """

    sections: list[tuple[StrOrPromise, list[str]]] = []

    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=100,
        help_text=_("Optional; auditors see it in the change history."),
    )

    def grouped_fields(self) -> list[tuple[StrOrPromise, list]]:
        placed: set[str] = set()
        groups: list[tuple[StrOrPromise, list]] = []
        for title, names in self.sections:
            bound = [self[name] for name in names if name in self.fields]
            placed.update(names)
            if bound:
                groups.append((title, bound))
        rest = [self[name] for name in self.fields if name not in placed and name != "reason"]
        if rest:
            groups.append(("", rest))
        groups.append((_("Audit"), [self["reason"]]))
        return groups


class PartyForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = Party
        fields = [
            "code",
            "name",
            "name_en",
            "kind",
            "uscc",
            "licence_number",
            "region_code",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bed_count",
            "is_public",
            "is_military",
            "min_shelf_life_days",
            "min_shelf_life_pct",
            "is_active",
            "sales_rep",
        ]
        widgets = {"contact_phone": forms.TextInput(attrs={"type": "tel"})}

    sections = [
        (_("Identity"), ["code", "kind", "name", "name_en", "uscc", "licence_number", "is_active"]),
        (_("Location"), ["region_code", "address"]),
        (_("Contact"), ["contact_name", "contact_phone", "contact_email"]),
        (_("Hospital"), ["bed_count", "is_public", "is_military"]),
        (_("Delivery"), ["min_shelf_life_days", "min_shelf_life_pct", "sales_rep"]),
    ]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user.has_perm("masterdata.change_all_party"):
            cast(forms.ModelChoiceField, self.fields["sales_rep"]).queryset = selectors.sales_rep_candidates()
        else:
            # A sales rep works on their own parties; reassigning them is a manager's decision.
            del self.fields["sales_rep"]


class ProductForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "sku",
            "name_zh",
            "name_en",
            "model_spec",
            "registrant",
            "udi_di",
            "device_class",
            "catalogue_code",
            "registration_number",
            "tracking",
            "storage_min_c",
            "storage_max_c",
            "shelf_life_days",
            "unit",
            "list_price",
            "tax_rate",
            "is_implant",
            "class2_filing_exempt",
            "is_active",
        ]
        widgets = {"udi_di": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})}

    sections = [
        (_("Identity"), ["sku", "is_active", "name_zh", "name_en", "model_spec", "registrant"]),
        (
            _("Regulatory"),
            ["udi_di", "device_class", "catalogue_code", "registration_number", "class2_filing_exempt", "is_implant"],
        ),
        (_("Handling"), ["tracking", "unit", "storage_min_c", "storage_max_c", "shelf_life_days"]),
        (_("Price"), ["list_price", "tax_rate"]),
    ]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["registrant"]).queryset = selectors.registrant_list_visible_to(
            user=user
        )


class WarehouseForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "name_en", "region_code", "address", "is_cold_storage", "is_active"]

    sections = [
        (_("Identity"), ["code", "is_active", "name", "name_en"]),
        (_("Location"), ["region_code", "address", "is_cold_storage"]),
    ]
