import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import OrderStatus, SalesOrder


class OrderFilterSet(django_filters.FilterSet):
    """Filters shared by the order list page and the API."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    is_held = django_filters.BooleanFilter(label=_("Held"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To"))
    delivery_after = django_filters.DateFilter(
        field_name="requested_delivery_date", lookup_expr="gte", label=_("Delivery from")
    )
    delivery_before = django_filters.DateFilter(
        field_name="requested_delivery_date", lookup_expr="lte", label=_("Delivery to")
    )

    class Meta:
        model = SalesOrder
        fields = ["customer", "sales_rep", "warehouse", "number", "customer_po"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value)
            | Q(customer_po__icontains=value)
            | Q(customer__code__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__name_en__icontains=value)
        )
