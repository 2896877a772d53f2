import re

from django import forms
from django.utils.translation import gettext_lazy as _

from masterdata.models import Party, PartyKind, Warehouse
from traceability.models import ShipmentStatus


class ReceiptForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=Party.objects.filter(
            is_active=True, kind__in=[PartyKind.SUPPLIER, PartyKind.MANUFACTURER, PartyKind.DISTRIBUTOR]
        ).order_by("code"),
    )
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.filter(is_active=True))
    purchase_order_ref = forms.CharField(label=_("Purchase order"), max_length=60, required=False)
    transport_temperature_ok = forms.BooleanField(
        label=_("Cold chain: transport temperature record checked and in range"), required=False
    )


class ScanForm(forms.Form):
    raw = forms.CharField(label=_("Scan"), max_length=500, strip=False)


class SignatureForm(forms.Form):
    password = forms.CharField(label=_("Your password (electronic signature)"), widget=forms.PasswordInput)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class DispatchForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=80)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=60)
    expected_arrival_at = forms.DateTimeField(
        label=_("Expected arrival"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class LogisticsEventForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (s.value, s.label) for s in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION)
        ],
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class SignForm(forms.Form):
    signed_by = forms.CharField(label=_("Signed by"), max_length=100)
    discrepancy_note = forms.CharField(label=_("Discrepancy (leave empty if none)"), max_length=300, required=False)


class CustomerReturnForm(forms.Form):
    """One shipment line coming back from the customer (the shipment page's return form)."""

    shipment_line = forms.TypedChoiceField(label=_("Line"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    serials = forms.CharField(
        label=_("Serial numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Serialised products: one per line or separated by commas."),
    )
    warehouse = forms.ModelChoiceField(label=_("Into warehouse"), queryset=Warehouse.objects.filter(is_active=True))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, lines=(), returnable=None, **kwargs):
        super().__init__(*args, **kwargs)
        returnable = returnable or {}
        self.fields["shipment_line"].choices = [
            (
                line.pk,
                _("%(lot)s · %(name)s (%(left)d can come back)")
                % {"lot": line.lot_number, "name": line.product_name, "left": returnable.get(line.pk, 0)},
            )
            for line in lines
            if returnable.get(line.pk, 0) > 0
        ]

    def serial_list(self) -> list[str]:
        return [s for s in re.split(r"[\s,;，；]+", self.cleaned_data.get("serials") or "") if s]
