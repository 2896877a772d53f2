"""Browser forms for order entry. They collect and check input; saving goes through ``services``.

The lines are not a Django formset: rows are added and removed with htmx, each carries a ``line_key``
(its position on the page) and fields named ``lines-<key>-<field>``; ``lines_from_post`` turns them
into a list of dicts in page order, and ``OrderHeaderForm.order_input`` turns the whole post into the
services' typed ``OrderInput``.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from masterdata.models import Warehouse
from masterdata.selectors import party_list_visible_to
from orders.models import PaymentTerms
from orders.services.inputs import OrderInput, order_input_from_values

LINE_INPUTS = (
    "id",
    "product",
    "quantity",
    "unit_price",
    "discount_pct",
    "requested_lot",
    "min_shelf_life_days",
    "min_shelf_life_pct",
)


class OrderHeaderForm(forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    ship_to = forms.IntegerField(widget=forms.HiddenInput, required=False)
    warehouse = forms.ModelChoiceField(
        label=_("Ship from warehouse"), queryset=Warehouse.objects.filter(is_active=True), required=False
    )
    requested_delivery_date = forms.DateField(
        label=_("Requested delivery date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer_po = forms.CharField(label=_("Customer PO number"), max_length=60, required=False)
    contract_ref = forms.CharField(label=_("Contract reference"), max_length=60, required=False)
    payment_terms = forms.ChoiceField(
        label=_("Payment terms"), choices=PaymentTerms.choices, initial=PaymentTerms.NET90
    )
    ship_to_address = forms.CharField(label=_("Ship-to address"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=100,
        help_text=_("Optional; auditors see it in the change history."),
    )

    def __init__(self, *args, user=None, current_ship_to: int | None = None, **kwargs) -> None:
        self.user = user
        self.current_ship_to = current_ship_to
        super().__init__(*args, **kwargs)

    def clean_ship_to(self):
        """A ship-to party the user may see (or the order's current one); a hidden id gets exactly the
        error of a missing one, so the form cannot be used to probe for other reps' customers."""
        pk = self.cleaned_data.get("ship_to")
        if pk is None or pk == self.current_ship_to:
            return pk
        if self.user is None or not party_list_visible_to(user=self.user).filter(pk=pk).exists():
            raise forms.ValidationError(_("Choose an existing party."), code="does_not_exist")
        return pk

    def header_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        if data.get("warehouse") is None:
            data["warehouse"] = None
        return data

    def order_input(self, lines: list[dict]) -> OrderInput:
        """The services' typed input: this valid form's header and reason with the posted ``lines``
        (``line_dicts``), references looked up and numbers read (``order_input_from_values``)."""
        return order_input_from_values(self.header_data(), lines, reason=self.cleaned_data.get("reason", ""))


def lines_from_post(post) -> list[tuple[str, dict]]:
    """The posted line rows in page order as (key, raw values)."""
    rows = []
    for key in post.getlist("line_key"):
        values = {name: post.get(f"lines-{key}-{name}", "").strip() for name in LINE_INPUTS}
        rows.append((key, values))
    return rows


def line_dicts(rows: list[tuple[str, dict]]) -> list[dict]:
    """Service input from posted rows: blanks mean "the default" (list price, no discount)."""
    lines = []
    for _key, values in rows:
        line: dict = {}
        if values.get("id"):
            line["id"] = values["id"]
        line["product"] = values.get("product") or None
        line["quantity"] = values.get("quantity")
        line["unit_price"] = values.get("unit_price") or None
        line["discount_pct"] = values.get("discount_pct") or "0"
        line["requested_lot"] = values.get("requested_lot", "")
        # Blank: the customer's minimum applies (None clears an earlier override).
        line["min_shelf_life_days"] = values.get("min_shelf_life_days") or None
        line["min_shelf_life_pct"] = values.get("min_shelf_life_pct") or None
        lines.append(line)
    return lines
