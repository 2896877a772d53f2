import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField, MultipleChoiceField

from erp.kernel.people import person_name
from orders.models import OrderStatus, SalesOrder
from orders.selectors import order_sales_rep_choices


class AnyOfChoiceField(MultipleChoiceField):
    """Several choices, where an empty value (the "All" option of a dropdown) means any."""

    def clean(self, value):
        return super().clean([v for v in value if v not in ("", None)] if value else value)


class AnyOfChoiceFilter(django_filters.MultipleChoiceFilter):
    field_class = AnyOfChoiceField


class SalesRepChoiceField(ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class SalesRepFilter(django_filters.ModelChoiceFilter):
    field_class = SalesRepChoiceField


def _customer_named(value: str) -> Q:
    """Orders whose customer's code or (Chinese or English) name contains ``value``."""
    return (
        Q(customer__code__icontains=value) | Q(customer__name__icontains=value) | Q(customer__name_en__icontains=value)
    )


class OrderFilterSet(django_filters.FilterSet):
    """Filters shared by the order list page and the API."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = AnyOfChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
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
        return queryset.filter(Q(number__icontains=value) | Q(customer_po__icontains=value) | _customer_named(value))


class OrderListFilterSet(OrderFilterSet):
    """The order list page's filters: the customer by a typed code or name (a dropdown of every party
    does not scale), the rep among the sales staff only."""

    customer_q = django_filters.CharFilter(method="search_customer", label=_("Customer"))
    sales_rep = SalesRepFilter(queryset=order_sales_rep_choices(), label=_("Sales rep"))

    def search_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(_customer_named(value) | Q(customer__uscc=value.upper()))
