"""Delegations API: list, and create a dated holiday cover within a department (docs/controls.md).
Never changed or deleted through the API; the service checks who may record one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from erp.kernel.api import BaseViewSet
from erp.kernel.people import person_name
from exceptions_center.models import Delegation, Department
from exceptions_center.services.delegations import delegation_create


class DelegationSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    delegator = serializers.CharField(source="delegator.username")
    delegator_name = serializers.SerializerMethodField()
    delegate = serializers.CharField(source="delegate.username")
    delegate_name = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = Delegation
        fields = [
            "id",
            "department",
            "delegator",
            "delegator_name",
            "delegate",
            "delegate_name",
            "valid_from",
            "valid_until",
            "reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_delegator_name(self, delegation) -> str:
        return person_name(delegation.delegator)

    def get_delegate_name(self, delegation) -> str:
        return person_name(delegation.delegate)


class DelegationInputSerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all())
    delegator = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    delegate = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    reason = serializers.CharField(max_length=300)


def delegation_create_from_api(*, user, **data) -> Delegation:
    return delegation_create(user=user, **data)


class DelegationViewSet(BaseViewSet):
    """Delegations (holiday cover): who acts for whom in which department, and when."""

    queryset = Delegation.objects.select_related("department", "delegator", "delegate", "created_by")
    serializer_class = DelegationSerializer
    input_serializer_class = DelegationInputSerializer
    filterset_fields = ["department__code", "delegator__username", "delegate__username"]
    ordering_fields = ["valid_from", "valid_until", "id"]
    code_field = None
    create_service = staticmethod(delegation_create_from_api)
    http_method_names = ["get", "post", "head", "options"]
