import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from masterdata.models import Party, Product, Warehouse


class PartyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Party
        fields = ["kind", "is_active", "region_code", "province", "sales_rep", "code", "uscc", "licence_number"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name__icontains=value)
            | Q(name_en__icontains=value)
            | Q(uscc=value.upper())
            | Q(licence_number=value.strip())
        )


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Product
        fields = [
            "device_class",
            "tracking",
            "is_active",
            "is_implant",
            "registrant",
            "sku",
            "udi_di",
            "catalogue_code",
        ]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(sku__icontains=value)
            | Q(name_zh__icontains=value)
            | Q(name_en__icontains=value)
            | Q(udi_di=value.zfill(14) if value.isdigit() else value)
        )


class WarehouseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Warehouse
        fields = ["is_cold_storage", "is_active", "region_code", "province", "code"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(name_en__icontains=value))
