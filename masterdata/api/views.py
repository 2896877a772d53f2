from rest_framework import viewsets

from erp.kernel.api import BaseViewSet, NumericLookupMixin
from masterdata import services
from masterdata.api.serializers import PartySerializer, ProductSerializer, RegionSerializer, WarehouseSerializer
from masterdata.filters import PartyFilterSet, ProductFilterSet, WarehouseFilterSet
from masterdata.models import Party, Product, Region, Warehouse


class PartyViewSet(BaseViewSet):
    queryset = Party.objects.select_related("province")
    serializer_class = PartySerializer
    filterset_class = PartyFilterSet
    ordering_fields = ["code", "name", "created_at"]
    create_service = staticmethod(services.party_create)
    update_service = staticmethod(services.party_update)


class ProductViewSet(BaseViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    code_field = "sku"
    ordering_fields = ["sku", "name_zh", "created_at"]
    create_service = staticmethod(services.product_create)
    update_service = staticmethod(services.product_update)


class WarehouseViewSet(BaseViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilterSet
    create_service = staticmethod(services.warehouse_create)
    update_service = staticmethod(services.warehouse_update)


class RegionViewSet(NumericLookupMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    pagination_class = None
    filterset_fields = ["code"]
