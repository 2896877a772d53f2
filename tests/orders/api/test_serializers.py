"""The order answer's hand-written line representation is exactly DRF's ModelSerializer's."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from orders.api.serializers import OrderLineOutputSerializer
from tests.masterdata.factories import ProductFactory
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
