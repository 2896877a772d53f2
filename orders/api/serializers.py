from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.kernel.api_fields import VisiblePrimaryKeyRelatedField
from erp.kernel.serializers import CachedFieldsMixin
from masterdata.selectors import party_list_visible_to
from orders.models import PaymentTerms, SalesOrder, SalesOrderLine
from orders.selectors import event_line_no, order_open_events
from orders.services import OrderInput, OrderSaveResult, order_input_from_values


class OrderLineInputSerializer(CachedFieldsMixin, serializers.Serializer):
    """One line to create (no ``id``) or change (``id`` of an existing line). Lines left out on update
    are removed. Unit price and tax rate default to the product's."""

    id = serializers.IntegerField(required=False, help_text=_("An existing line to change."))
    product = serializers.IntegerField(required=False, help_text=_("Product id (required for a new line)."))
    quantity = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=20)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True, min_value=0)
    discount_pct = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4, required=False, allow_null=True, min_value=0)
    requested_lot = serializers.CharField(required=False, allow_blank=True, max_length=20)
    min_shelf_life_days = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    min_shelf_life_pct = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)

    def validate(self, attrs):
        if "id" not in attrs:
            errors = {}
            if "product" not in attrs:
                errors["product"] = [_("This field is required.")]
            if "quantity" not in attrs:
                errors["quantity"] = [_("This field is required.")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


def _ship_to_choices(*, user):
    return party_list_visible_to(user=user)


@extend_schema_field(OpenApiTypes.INT)
class _PartyIdField(VisiblePrimaryKeyRelatedField):
    """A party id the caller may see; a hidden id answers exactly like a missing one."""


SHIP_TO_UNKNOWN = _("Choose an existing party.")


class OrderInputSerializer(CachedFieldsMixin, serializers.Serializer):
    """An order with nested lines. On update (PUT/PATCH) ``lines``, when given, is the full new set."""

    customer = serializers.IntegerField(required=False)
    ship_to = _PartyIdField(
        queryset_for=_ship_to_choices,
        required=False,
        allow_null=True,
        help_text=_("Party id of the ship-to party: one you may see."),
        error_messages={"does_not_exist": SHIP_TO_UNKNOWN, "incorrect_type": SHIP_TO_UNKNOWN},
    )
    ship_to_address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    warehouse = serializers.IntegerField(required=False)
    requested_delivery_date = serializers.DateField(required=False, allow_null=True)
    customer_po = serializers.CharField(required=False, allow_blank=True, max_length=60)
    contract_ref = serializers.CharField(required=False, allow_blank=True, max_length=60)
    payment_terms = serializers.ChoiceField(choices=PaymentTerms.choices, required=False)
    currency = serializers.CharField(required=False, max_length=3)
    notes = serializers.CharField(required=False, allow_blank=True)
    sales_rep = serializers.IntegerField(required=False, allow_null=True)
    lines = OrderLineInputSerializer(many=True, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=100, write_only=True)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # One shape for line errors everywhere: a list aligned with the posted lines ({} = fine).
            detail = exc.detail
            lines = detail.get("lines") if isinstance(detail, dict) else None
            if isinstance(lines, dict) and all(str(k).isdigit() for k in lines):
                count = len(data.get("lines") or []) if hasattr(data, "get") else 0
                detail["lines"] = [lines.get(i, lines.get(str(i), {})) for i in range(count)]
            raise serializers.ValidationError(detail) from exc

    @staticmethod
    def order_input(validated: dict) -> OrderInput:
        """The services' typed input for validated data (references looked up, one query per model)."""
        header = dict(validated)
        lines = header.pop("lines", None)
        reason = header.pop("reason", "")
        return order_input_from_values(header, lines, reason=reason)

    def validate(self, attrs):
        if self.instance is None:
            errors = {}
            for name in ("customer", "warehouse", "lines"):
                if name not in attrs:
                    errors[name] = [_("This field is required.")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class TransitionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class OrderEventSerializer(CachedFieldsMixin, serializers.Serializer):
    """An open exception event on the order."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    rule = serializers.CharField(source="rule.code")
    severity = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    blocking = serializers.BooleanField()
    message = serializers.CharField()
    line_no = serializers.SerializerMethodField()
    raised_at = serializers.DateTimeField()
    sla_due_at = serializers.DateTimeField(allow_null=True)

    def get_line_no(self, event) -> int | None:
        return event_line_no(event)


class PartyRefSerializer(CachedFieldsMixin, serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class OrderLineOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)

    class Meta:
        model = SalesOrderLine
        fields = [
            "id",
            "line_no",
            "product",
            "sku",
            "product_name",
            "quantity",
            "unit",
            "unit_price",
            "discount_pct",
            "tax_rate",
            "net_amount",
            "tax_amount",
            "gross_amount",
            "requested_lot",
            "min_shelf_life_days",
            "min_shelf_life_pct",
            "allocated_quantity",
            "shipped_quantity",
        ]
        read_only_fields = fields

    DECIMALS = ("unit_price", "discount_pct", "tax_rate", "net_amount", "tax_amount", "gross_amount")

    def to_representation(self, line):
        """The fields above, read directly: every order answer carries its lines, and DRF's generic
        walk over 18 fields per line was the largest part of writing the answer. Decimals are
        formatted by their DRF fields, so the output is exactly the ModelSerializer's (tested)."""
        fields = self.fields
        product = line.product
        data = {
            "id": line.pk,
            "line_no": line.line_no,
            "product": line.product_id,
            "sku": product.sku,
            "product_name": product.display_name,
            "quantity": line.quantity,
            "unit": line.unit,
        }
        for name in self.DECIMALS:
            value = getattr(line, name)
            data[name] = None if value is None else fields[name].to_representation(value)
        data["requested_lot"] = line.requested_lot
        data["min_shelf_life_days"] = line.min_shelf_life_days
        data["min_shelf_life_pct"] = line.min_shelf_life_pct
        data["allocated_quantity"] = line.allocated_quantity
        data["shipped_quantity"] = line.shipped_quantity
        return data


class OrderOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    customer = PartyRefSerializer(read_only=True)
    ship_to = PartyRefSerializer(read_only=True, allow_null=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    sales_rep_username = serializers.CharField(source="sales_rep.username", read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    hold_summary = serializers.CharField(
        source="hold_reason", read_only=True, help_text="Why the order is held, in the request's language."
    )
    lines = serializers.SerializerMethodField()
    open_events = serializers.SerializerMethodField()

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "number",
            "status",
            "status_display",
            "is_held",
            "hold_summary",
            "customer",
            "ship_to",
            "ship_to_address",
            "warehouse",
            "warehouse_code",
            "requested_delivery_date",
            "customer_po",
            "contract_ref",
            "payment_terms",
            "currency",
            "net_amount",
            "tax_amount",
            "gross_amount",
            "sales_rep",
            "sales_rep_username",
            "notes",
            "cancel_reason",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "lines",
            "open_events",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        """The fields above, read directly (an order answer is written on every save); dates, times
        and amounts are formatted by their DRF fields, so the output is exactly the ModelSerializer's
        (tested). The list's subclass drops ``lines``.

        ``instance`` is an order, or the ``OrderSaveResult`` of the save just made: its lines and
        (when known) open events are answered without reading them back."""
        if isinstance(instance, OrderSaveResult):
            order, lines, events = instance.order, instance.lines, instance.open_events
        else:
            order, lines, events = instance, None, None
        fields = self.fields
        customer, ship_to, rep = order.customer, order.ship_to, order.sales_rep

        def formatted(name):
            value = getattr(order, name)
            return None if value is None else fields[name].to_representation(value)

        data = {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "status_display": order.get_status_display(),
            "is_held": order.is_held,
            "hold_summary": order.hold_reason,
            "customer": {"id": customer.pk, "code": customer.code, "name": customer.name},
            "ship_to": None if ship_to is None else {"id": ship_to.pk, "code": ship_to.code, "name": ship_to.name},
            "ship_to_address": order.ship_to_address,
            "warehouse": order.warehouse_id,
            "warehouse_code": order.warehouse.code,
            "requested_delivery_date": formatted("requested_delivery_date"),
            "customer_po": order.customer_po,
            "contract_ref": order.contract_ref,
            "payment_terms": order.payment_terms,
            "currency": order.currency,
            "net_amount": formatted("net_amount"),
            "tax_amount": formatted("tax_amount"),
            "gross_amount": formatted("gross_amount"),
            "sales_rep": order.sales_rep_id,
            "sales_rep_username": None if rep is None else rep.username,
            "notes": order.notes,
            "cancel_reason": order.cancel_reason,
            "created_at": formatted("created_at"),
            "updated_at": formatted("updated_at"),
            "submitted_at": formatted("submitted_at"),
            "approved_at": formatted("approved_at"),
        }
        if "lines" in fields:
            data["lines"] = self.get_lines(order) if lines is None else OrderLineOutputSerializer(lines, many=True).data
        data["open_events"] = (
            self.get_open_events(order) if events is None else OrderEventSerializer(events, many=True).data
        )
        return data

    @extend_schema_field(OrderLineOutputSerializer(many=True))
    def get_lines(self, order):
        lines = order.lines.all()
        if "lines" not in getattr(order, "_prefetched_objects_cache", {}):
            lines = lines.select_related("product").order_by("line_no")
        return OrderLineOutputSerializer(lines, many=True).data

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_open_events(self, order):
        return OrderEventSerializer(order_open_events(order), many=True).data


class OrderListSerializer(OrderOutputSerializer):
    """The list shows headers and open events; lines are on the detail."""

    class Meta(OrderOutputSerializer.Meta):
        fields = [f for f in OrderOutputSerializer.Meta.fields if f != "lines"]
        read_only_fields = fields
