"""Rule API: the catalogue (list, detail, create, update — validated like the admin), ``validate`` for a
draft or a changed rule, and ``dry-run`` against one order. Nothing but create/update writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.kernel.api import BaseViewSet
from erp.kernel.api_errors import ErrorSerializer
from erp.kernel.errors import DomainError, NotFoundOrForbidden
from exceptions_center.facts_catalogue import facts_catalogue as catalogue_entries
from exceptions_center.facts_registry import fact_providers, no_provider_message, provided_events
from exceptions_center.models import Department, Rule, RuleReevaluation, TriggerEvent
from exceptions_center.ports import trigger_sources
from exceptions_center.services import rules as rule_services
from exceptions_center.services.reevaluation import rule_reevaluation_latest

RULE_FIELDS = [
    "code",
    "name_zh",
    "name_en",
    "description",
    "category",
    "event",
    "iterate_over",
    "condition",
    "detail_key",
    "params",
    "message_zh",
    "message_en",
    "severity",
    "blocking",
    "low_action",
    "sla_hours",
    "enabled",
]


class RuleSerializer(serializers.ModelSerializer):
    route = serializers.SerializerMethodField(help_text=_("Department codes of the handling route, in order."))
    owner_department = serializers.SerializerMethodField(
        help_text=_("Code of the department that decides the rule's events (its own, else its category's).")
    )

    class Meta:
        model = Rule
        fields = ["id", *RULE_FIELDS, "owner_department", "shipped", "route", "created_at", "updated_at"]
        read_only_fields = fields

    def get_route(self, rule: Rule) -> list[str]:
        return [step.department.code for step in rule.route_steps.all()]

    def get_owner_department(self, rule: Rule) -> str:
        return rule.owner_department_code


class RuleReevaluationSerializer(serializers.ModelSerializer):
    """The progress and result of re-evaluating the open documents after a rule change."""

    class Meta:
        model = RuleReevaluation
        fields = [
            "id",
            "rule_version",
            "status",
            "total",
            "done",
            "raised",
            "resolved",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields


class RuleDetailSerializer(RuleSerializer):
    """One rule with its latest re-evaluation (null when none ran)."""

    reevaluation = serializers.SerializerMethodField()

    class Meta(RuleSerializer.Meta):
        fields = [*RuleSerializer.Meta.fields, "reevaluation"]
        read_only_fields = fields

    @extend_schema_field(RuleReevaluationSerializer(allow_null=True))
    def get_reevaluation(self, rule: Rule) -> dict | None:
        latest = rule_reevaluation_latest(rule=rule)
        return RuleReevaluationSerializer(latest).data if latest else None


class FactEntrySerializer(serializers.Serializer):
    event = serializers.CharField()
    path = serializers.CharField(help_text=_("``[]`` marks the items of a list: order.lines[].sku"))
    type = serializers.CharField(help_text=_("CEL type: int, double, string, bool, timestamp, list, map, null"))
    example = serializers.CharField()
    description_zh = serializers.CharField()
    description_en = serializers.CharField()
    app = serializers.CharField(help_text=_("The application that provides the fact."))


class RuleInputSerializer(serializers.ModelSerializer):
    owner_department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Code of the department that decides the rule's events; empty: the category's default."),
    )
    route = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all()),
        required=False,
        help_text=_("Department codes, in order (parallel for high severity, approvers for medium)."),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        write_only=True,
        help_text=_("Why you change the rule (required; or the X-Change-Reason header)."),
    )
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        style={"input_type": "password"},
        help_text=_("Your password: disabling a shipped compliance rule needs your electronic signature."),
    )
    # A plain string (checked by the service) rather than a second "meaning" enum in the schema.
    meaning = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=16,
        write_only=True,
        help_text=_(
            "The meaning of your signature when disabling a shipped compliance rule: approval or responsibility."
        ),
    )

    class Meta:
        model = Rule
        fields = [*RULE_FIELDS, "owner_department", "route", "reason", "password", "meaning"]

    def validate_event(self, value: str) -> str:
        """Only an event some app provides facts for: a rule on another would never run."""
        if not fact_providers(value):
            raise serializers.ValidationError(no_provider_message(value))
        return value


class RuleDryRunSerializer(serializers.Serializer):
    order = serializers.CharField(help_text=_("The order's id or number (SO-2026-000123)."))


class RuleDryRunResultSerializer(serializers.Serializer):
    rule = serializers.CharField()
    order = serializers.CharField()
    events = serializers.ListField(child=serializers.DictField())


class RuleValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], list | None, str]:
    data = dict(data)
    route = data.pop("route", None)
    reason = data.pop("reason", "")
    data.pop("password", None)
    data.pop("meaning", None)
    return data, route, reason


def _signature(data: dict[str, Any]) -> dict[str, str]:
    return {"password": data.get("password") or "", "meaning": data.get("meaning") or ""}


def rule_create_from_api(*, user, **data) -> Rule:
    fields, route, reason = _split(data)
    return rule_services.rule_save(rule=Rule(**fields), user=user, reason=reason, route=route, **_signature(data))


@transaction.atomic
def rule_update_from_api(*, instance: Rule, user, **data) -> Rule:
    fields, route, reason = _split(data)
    rule = Rule.objects.select_for_update().get(pk=instance.pk)
    for name, value in fields.items():
        setattr(rule, name, value)
    return rule_services.rule_save(rule=rule, user=user, reason=reason, route=route, **_signature(data))


class RuleViewSet(BaseViewSet):
    """The rule catalogue. Writes are validated like in the admin: an expression that does not compile,
    names an unknown fact or fails on the sample facts is refused with its line and column."""

    queryset = Rule.objects.select_related("owner_department").prefetch_related("route_steps__department")
    serializer_class = RuleSerializer
    input_serializer_class = RuleInputSerializer
    filterset_fields = ["event", "category", "severity", "enabled", "blocking"]
    search_fields = ["code", "name_zh", "name_en", "condition"]
    ordering_fields = ["code", "event", "severity", "updated_at"]
    create_service = staticmethod(rule_create_from_api)
    update_service = staticmethod(rule_update_from_api)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RuleDetailSerializer
        if self.action == "dry_run":
            return RuleDryRunSerializer
        if self.action in ("validate_draft", "validate_changes"):
            return RuleInputSerializer
        return super().get_serializer_class()

    def _draft(self, data: dict, instance: Rule | None = None) -> Rule:
        fields, _route, _reason = _split(data)
        rule = Rule(**{name: getattr(instance, name) for name in RULE_FIELDS}) if instance else Rule()
        if instance:
            rule.pk, rule.updated_at = instance.pk, instance.updated_at
        for name, value in fields.items():
            setattr(rule, name, value)
        return rule

    def _validate(self, rule: Rule) -> Response:
        self._call(rule_services.rule_validate, rule=rule)
        return Response({"valid": True})

    @extend_schema(
        operation_id="exceptions_rules_validate_draft",
        request=RuleInputSerializer,
        responses={200: RuleValidationResultSerializer, 400: ErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="validate")
    def validate_draft(self, request):
        """Check a draft rule without saving it: 200 ``{"valid": true}`` or 400 with field errors."""
        serializer = RuleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._validate(self._draft(serializer.validated_data))

    @extend_schema(
        operation_id="exceptions_rules_validate_changes",
        request=RuleInputSerializer,
        responses={200: RuleValidationResultSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="validate")
    def validate_changes(self, request, pk=None):
        """Check a saved rule with the given fields changed, without saving."""
        instance = self.get_object()
        serializer = RuleInputSerializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._validate(self._draft(serializer.validated_data, instance))

    @extend_schema(
        request=RuleDryRunSerializer,
        responses={200: RuleDryRunResultSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """What the saved rule would raise on one order now (by id or number). Writes nothing."""
        rule = self.get_object()
        serializer = RuleDryRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = serializer.validated_data["order"].strip()
        sources = trigger_sources.get(TriggerEvent.ORDER_SAVED)
        order = sources.find(user=request.user, key=key) if sources else None
        if order is None:
            raise NotFoundOrForbidden()
        if rule.event != "order.saved":
            raise DomainError(_("This rule does not run on orders."), code="rule_not_for_orders")
        events = rule_services.rule_dry_run(rule=rule, source=order, context={"dry_run": True})
        return Response({"rule": rule.code, "order": order.number, "events": events}, status=status.HTTP_200_OK)

    @extend_schema(
        parameters=[
            OpenApiParameter("event", str, description=_("A trigger event, e.g. order.saved; all when omitted."))
        ],
        responses={200: FactEntrySerializer(many=True), 400: ErrorSerializer},
    )
    @action(detail=False, methods=["get"], url_path="facts-catalogue")
    def facts_catalogue(self, request):
        """The facts rules may read, per provided event: path, CEL type, example, meaning (zh/en), app.
        Generated from the registered fact providers."""
        event = request.query_params.get("event") or None
        if event is not None and event not in provided_events():
            raise DomainError(no_provider_message(event), code="event_not_provided")
        return Response([entry.as_dict() for entry in catalogue_entries(event)])
