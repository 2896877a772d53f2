"""Filters of the exception queues, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from exceptions_center.models import ACTIVE_STATUSES, Category, Department, EventStatus, ExceptionEvent, Severity


@extend_schema_field(OpenApiTypes.STR)
class DepartmentFilter(django_filters.ModelChoiceFilter):
    """A department by its code (``compliance``, ``quality``…)."""


STATUS_CHOICES = [("active", _("Active (open, in progress, rejected)")), ("closed", _("Closed")), *EventStatus.choices]


class ExceptionEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", label=_("Status"))
    department = DepartmentFilter(
        queryset=Department.objects.all(),
        to_field_name="code",
        method="filter_department",
        label=_("Department"),
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        field_name="assignees",
        label=_("Assignee"),
    )
    overdue = django_filters.BooleanFilter(
        field_name="is_overdue",
        label=_("Overdue"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )
    rule = django_filters.CharFilter(field_name="rule__code", label=_("Rule code"))
    source = django_filters.CharFilter(field_name="source_label", label=_("Source (e.g. order number)"))

    class Meta:
        model = ExceptionEvent
        fields = ["q", "category", "severity", "status", "department", "assignee", "overdue", "rule", "source"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value)
            | Q(source_label__icontains=value)
            | Q(message_zh__icontains=value)
            | Q(message_en__icontains=value)
            | Q(rule__code__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if value == "closed":
            return queryset.exclude(status__in=ACTIVE_STATUSES)
        return queryset.filter(status=value)

    def filter_department(self, queryset, name, value):
        from exceptions_center.selectors import exception_events_in_departments_q

        return queryset.filter(exception_events_in_departments_q([value.pk]))
