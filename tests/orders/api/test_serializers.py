"""The order answer's hand-written representations (order, list row, line) are exactly DRF's."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from orders.api.serializers import OrderLineOutputSerializer, OrderListSerializer, OrderOutputSerializer
from tests.masterdata.factories import PartyFactory, ProductFactory
from tests.orders.factories import SalesOrderFactory, SalesOrderLineFactory


class GenericLineSerializer(serializers.ModelSerializer):
    """What OrderLineOutputSerializer was before its to_representation: DRF's generic walk."""

    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.display_name", read_only=True)

    class Meta:
        model = OrderLineOutputSerializer.Meta.model
        fields = OrderLineOutputSerializer.Meta.fields
        read_only_fields = fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"unit_price": Decimal("12.5"), "discount_pct": Decimal("0"), "requested_lot": "L1", "min_shelf_life_days": 90},
        {"unit_price": Decimal("0.0001"), "tax_rate": Decimal("0.13"), "min_shelf_life_pct": 50},
    ],
)
def test_line_representation_equals_the_generic_model_serializer(values):
    order = SalesOrderFactory()
    line = SalesOrderLineFactory(order=order, line_no=1, product=ProductFactory(), **values)
    line.compute_amounts()  # amounts as computed in memory (not read back from the database)
    for instance in (line, type(line).objects.select_related("product").get(pk=line.pk)):
        fast, generic = OrderLineOutputSerializer(instance).data, GenericLineSerializer(instance).data
        assert fast == generic
        assert list(fast) == list(generic)


@pytest.mark.django_db
@pytest.mark.parametrize("serializer_class", [OrderOutputSerializer, OrderListSerializer])
def test_order_representation_equals_the_generic_model_serializer(serializer_class, make_user):
    class Generic(serializer_class):
        def to_representation(self, instance):
            return serializers.Serializer.to_representation(self, instance)

    rep = make_user("sales")
    plain = SalesOrderFactory()
    full = SalesOrderFactory(
        ship_to=PartyFactory(),
        sales_rep=rep,
        customer_po="PO-1",
        notes="加急",
        requested_delivery_date=dt.date(2027, 1, 5),
        submitted_at=timezone.now(),
        approved_at=timezone.now(),
        net_amount=Decimal("100.5"),
        tax_amount=Decimal("13.07"),
        gross_amount=Decimal("113.57"),
    )
    SalesOrderLineFactory(order=full, line_no=1, product=ProductFactory())
    for order in (plain, full):
        for instance in (order, type(order).objects.get(pk=order.pk)):
            fast, generic = serializer_class(instance).data, Generic(instance).data
            assert fast == generic
            assert list(fast) == list(generic)
