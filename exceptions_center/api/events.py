"""Exception events API: list and filter (as the queues), detail with tasks, steps and log, lookup by
number, and the handling actions as POSTs. Notifications of the caller: list and mark read.

Thin over ``selectors`` and ``services.handling``: the services check who may act (403 otherwise)
and every error comes back in the one error shape.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.kernel import policy
from erp.kernel.api import NumericLookupMixin
from erp.kernel.api_errors import ErrorSerializer
from erp.kernel.parsers import FormParser, JSONParser, MultiPartParser
from erp.kernel.people import person_name
from erp.kernel.serializers import AttachmentSerializer
from erp.models import SignatureMeaning
from exceptions_center import selectors
from exceptions_center.filters import ExceptionEventFilterSet
from exceptions_center.models import ApprovalStep, EventLogEntry, ExceptionEvent, HandlingTask, Notification
from exceptions_center.services import handling, notifications

# --- serializers --------------------------------------------------------------------------------------


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return person_name(user)


class HandlingTaskSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.__str__")
    assignee = UserBriefSerializer(allow_null=True)
    closed_by = UserBriefSerializer(allow_null=True)
    comment = serializers.CharField(
        source="comment_display", read_only=True, help_text="In the request's language when the system wrote it."
    )

    class Meta:
        model = HandlingTask
        fields = ["id", "department", "department_name", "status", "assignee", "closed_at", "closed_by", "comment"]


class ApprovalStepSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.__str__")
    decided_by = UserBriefSerializer(allow_null=True)
    decided_for = UserBriefSerializer(allow_null=True)

    class Meta:
        model = ApprovalStep
        fields = [
            "id",
            "position",
            "department",
            "department_name",
            "status",
            "decided_by",
            "decided_for",
            "decided_at",
            "comment",
        ]


class EventLogEntrySerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(allow_null=True)
    comment = serializers.CharField(
        source="comment_display", read_only=True, help_text="In the request's language when the system wrote it."
    )

    class Meta:
        model = EventLogEntry
        fields = ["id", "at", "actor", "action", "comment", "attachment", "data"]

    attachment = AttachmentSerializer(allow_null=True, read_only=True)


class ExceptionEventSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")
    source_type = serializers.SerializerMethodField()
    message = serializers.CharField(read_only=True)
    assignees = UserBriefSerializer(many=True)

    class Meta:
        model = ExceptionEvent
        fields = [
            "id",
            "number",
            "rule",
            "category",
            "severity",
            "status",
            "blocking",
            "source_type",
            "source_id",
            "source_label",
            "message",
            "message_zh",
            "message_en",
            "raised_at",
            "last_seen_at",
            "sla_due_at",
            "is_overdue",
            "closed_at",
            "assignees",
            "version",
        ]

    def get_source_type(self, event) -> str:
        return f"{event.source_type.app_label}.{event.source_type.model}"


class ExceptionEventDetailSerializer(ExceptionEventSerializer):
    closed_by = UserBriefSerializer(allow_null=True)
    resolution = serializers.CharField(
        source="resolution_display", read_only=True, help_text="In the request's language when the system wrote it."
    )
    tasks = HandlingTaskSerializer(many=True)
    steps = ApprovalStepSerializer(many=True)
    log = EventLogEntrySerializer(many=True)

    class Meta(ExceptionEventSerializer.Meta):
        fields = [
            *ExceptionEventSerializer.Meta.fields,
            "facts_snapshot",
            "resolution",
            "closed_by",
            "tasks",
            "steps",
            "log",
        ]


class ActingInputSerializer(serializers.Serializer):
    """Administrators act only on behalf of a named person, with a reason (docs/controls.md)."""

    on_behalf_of = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Administrators only: the id of the person you act for (recorded with your reason).",
    )
    reason = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why you act on behalf of someone (required with `on_behalf_of`).",
    )


class AssignInputSerializer(ActingInputSerializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))


class CommentInputSerializer(ActingInputSerializer):
    comment = serializers.CharField(max_length=4000)


class AttachInputSerializer(ActingInputSerializer):
    attachment = serializers.FileField()
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReasonInputSerializer(ActingInputSerializer):
    reason = serializers.CharField(max_length=4000)


class WaiveInputSerializer(ActingInputSerializer):
    reason = serializers.CharField(max_length=4000)
    password = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True, style={"input_type": "password"}
    )
    meaning = serializers.ChoiceField(
        choices=[c for c in SignatureMeaning.choices if c[0] in handling.WAIVE_MEANINGS],
        required=False,
        default=SignatureMeaning.WAIVER,
    )
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The event `version` you reviewed. Required for compliance and quality events (the signature "
        "is bound to it); a version that is no longer current is refused (`stale_version`).",
    )

    def validate(self, attrs):
        event = self.context.get("event")
        if attrs.get("version") is None and event is not None and event.needs_signature_to_waive:
            raise serializers.ValidationError(
                {"version": [_("Say which version of the exception you reviewed before signing.")]}
            )
        return attrs


class ResolveInputSerializer(WaiveInputSerializer):
    meaning = serializers.ChoiceField(
        choices=[c for c in SignatureMeaning.choices if c[0] in handling.WAIVE_MEANINGS],
        required=False,
        default=SignatureMeaning.APPROVAL,
    )


class OptionalCommentInputSerializer(ActingInputSerializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class NotificationSerializer(serializers.ModelSerializer):
    event_number = serializers.CharField(source="event.number", allow_null=True, default=None)
    title = serializers.CharField(source="title_display", read_only=True, help_text="In the request's language.")
    body = serializers.CharField(source="body_display", read_only=True, help_text="In the request's language.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "event_number", "created_at", "read_at"]


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Omit to mark every notification read."
    )


class MarkReadOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


# --- views ----------------------------------------------------------------------------------------------


class CanViewEvents(permissions.BasePermission):
    """Seeing events needs ``view_exceptionevent``; who may *act* is decided by the handling services."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("exceptions_center.view_exceptionevent"))


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or refused by a business rule."),
    403: OpenApiResponse(ErrorSerializer, description="You may not act on this exception."),
    404: OpenApiResponse(ErrorSerializer, description="No such exception (or not visible to you)."),
}


def _action_schema(request_serializer, summary: str, extra_parameters=None):
    return extend_schema(
        request=request_serializer,
        responses={200: ExceptionEventDetailSerializer, **ERRORS},
        summary=summary,
        parameters=extra_parameters or [],
    )


def _acting(data) -> dict:
    return {"on_behalf_of": data.get("on_behalf_of"), "reason": data.get("reason", "")}


TASK_ID = OpenApiParameter("task_id", int, OpenApiParameter.PATH)
STEP_ID = OpenApiParameter("step_id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List exception events (queue order: overdue first, then severity)."),
    retrieve=extend_schema(summary="One exception event with its tasks, approval steps and log."),
)
class ExceptionEventViewSet(NumericLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Exception events raised by the rules, and their handling."""

    permission_classes = [CanViewEvents]
    filterset_class = ExceptionEventFilterSet
    search_fields = ["number", "source_label", "message_zh", "message_en"]
    ordering_fields = ["raised_at", "sla_due_at", "number"]
    queryset = ExceptionEvent.objects.none()  # for the schema; rows come from get_queryset

    def _detail_queryset(self):
        return (
            selectors.exception_event_list_visible_to(user=self.request.user)
            .select_related("closed_by")
            .prefetch_related(
                "tasks__department",
                "tasks__assignee",
                "tasks__closed_by",
                "steps__department",
                "steps__decided_by",
                "steps__decided_for",
                "log__actor",
                "log__attachment",
            )
        )

    def get_queryset(self):
        if self.action == "list":
            return selectors.exception_events_ordered(selectors.exception_event_list_visible_to(user=self.request.user))
        return self._detail_queryset()

    def get_serializer_class(self):
        return ExceptionEventSerializer if self.action == "list" else ExceptionEventDetailSerializer

    def _detail(self, pk) -> Response:
        event = get_object_or_404(self._detail_queryset(), pk=pk)
        return Response(ExceptionEventDetailSerializer(event, context=self.get_serializer_context()).data)

    def _precheck(self, action_name: str, obj) -> None:
        """Ask the policy before reading the input, so a refused user gets 403 whatever they sent (an
        administrator naming ``on_behalf_of`` is checked by the service, with that person)."""
        if not self.request.data.get("on_behalf_of"):
            policy.require(self.request.user, action_name, obj)

    def _input(self, serializer_class, **context):
        serializer = serializer_class(data=self.request.data, context={**self.get_serializer_context(), **context})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _event(self):
        return get_object_or_404(
            selectors.exception_event_list_visible_to(user=self.request.user), pk=self.kwargs["pk"]
        )

    @extend_schema(
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, description="Event number, EX-2026-000045")],
        responses={200: ExceptionEventDetailSerializer, 404: ErrorSerializer},
        summary="Look an event up by its number.",
    )
    @action(detail=False, methods=["get"], url_path=r"code/(?P<code>[^/]+)")
    def by_code(self, request, code: str, **kwargs):
        event = get_object_or_404(self._detail_queryset(), number=code)
        return Response(ExceptionEventDetailSerializer(event, context=self.get_serializer_context()).data)

    @_action_schema(ActingInputSerializer, "Take the event (assign it to yourself).")
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None, **kwargs):
        self._precheck("take", self._event())
        data = self._input(ActingInputSerializer)
        handling.exception_event_take(event=self._event(), user=request.user, **_acting(data))
        return self._detail(pk)

    @_action_schema(AssignInputSerializer, "Assign the event to a member of its departments.")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None, **kwargs):
        self._precheck("assign", self._event())
        data = self._input(AssignInputSerializer)
        handling.exception_event_assign(
            event=self._event(), user=request.user, assignee=data["assignee"], **_acting(data)
        )
        return self._detail(pk)

    @_action_schema(CommentInputSerializer, "Comment on the event.")
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None, **kwargs):
        self._precheck("comment", self._event())
        data = self._input(CommentInputSerializer)
        handling.exception_event_comment(
            event=self._event(), user=request.user, comment=data["comment"], **_acting(data)
        )
        return self._detail(pk)

    @_action_schema(AttachInputSerializer, "Attach evidence (multipart file upload).")
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attach(self, request, pk=None, **kwargs):
        self._precheck("attach", self._event())
        data = self._input(AttachInputSerializer)
        handling.exception_event_attach(
            event=self._event(),
            user=request.user,
            attachment=data["attachment"],
            comment=data["comment"],
            **_acting(data),
        )
        return self._detail(pk)

    @_action_schema(
        ResolveInputSerializer,
        "Resolve the event with a reason (releases the hold); the owning department only; compliance and "
        "quality events need your password, a meaning and the version you reviewed (e-signature).",
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def resolve(self, request, pk=None, **kwargs):
        event = self._event()
        self._precheck("resolve", event)
        data = self._input(ResolveInputSerializer, event=event)
        handling.exception_event_resolve(
            event=event,
            user=request.user,
            reason=data["reason"],
            password=data["password"],
            meaning=data["meaning"],
            version=data["version"],
            on_behalf_of=data["on_behalf_of"],
        )
        return self._detail(pk)

    @_action_schema(
        WaiveInputSerializer,
        "Waive the event; compliance and quality events need your password, a meaning and the version you "
        "reviewed (e-signature).",
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def waive(self, request, pk=None, **kwargs):
        event = self._event()
        self._precheck("waive", event)
        data = self._input(WaiveInputSerializer, event=event)
        handling.exception_event_waive(
            event=event,
            user=request.user,
            reason=data["reason"],
            password=data["password"],
            meaning=data["meaning"],
            version=data["version"],
            on_behalf_of=data["on_behalf_of"],
        )
        return self._detail(pk)

    @_action_schema(ReasonInputSerializer, "Reopen a closed or rejected event (routed again).")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None, **kwargs):
        self._precheck("reopen", self._event())
        data = self._input(ReasonInputSerializer)
        handling.exception_event_reopen(
            event=self._event(), user=request.user, reason=data["reason"], on_behalf_of=data["on_behalf_of"]
        )
        return self._detail(pk)

    @_action_schema(OptionalCommentInputSerializer, "Mark your department's task done.", [TASK_ID])
    @action(detail=True, methods=["post"], url_path=r"tasks/(?P<task_id>\d+)/complete")
    def complete_task(self, request, pk=None, task_id=None, **kwargs):
        task = get_object_or_404(HandlingTask.objects.select_related("event"), pk=task_id, event=self._event())
        self._precheck("complete_task", task)
        data = self._input(OptionalCommentInputSerializer)
        handling.handling_task_complete(task=task, user=request.user, comment=data["comment"], **_acting(data))
        return self._detail(pk)

    @_action_schema(OptionalCommentInputSerializer, "Approve the pending approval step.", [STEP_ID])
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step_id>\d+)/approve")
    def approve_step(self, request, pk=None, step_id=None, **kwargs):
        step = get_object_or_404(ApprovalStep.objects.select_related("event"), pk=step_id, event=self._event())
        self._precheck("approve_step", step)
        data = self._input(OptionalCommentInputSerializer)
        handling.approval_step_approve(step=step, user=request.user, comment=data["comment"], **_acting(data))
        return self._detail(pk)

    @_action_schema(ReasonInputSerializer, "Reject the pending approval step (ends the chain).", [STEP_ID])
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step_id>\d+)/reject")
    def reject_step(self, request, pk=None, step_id=None, **kwargs):
        step = get_object_or_404(ApprovalStep.objects.select_related("event"), pk=step_id, event=self._event())
        self._precheck("reject_step", step)
        data = self._input(ReasonInputSerializer)
        handling.approval_step_reject(
            step=step, user=request.user, reason=data["reason"], on_behalf_of=data["on_behalf_of"]
        )
        return self._detail(pk)


@extend_schema_view(list=extend_schema(summary="Your in-app notifications, newest first."))
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's in-app notifications."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]
    queryset = Notification.objects.none()  # for the schema; rows come from get_queryset

    def get_queryset(self):
        return selectors.notifications_for(user=self.request.user)

    @extend_schema(request=MarkReadInputSerializer, responses={200: MarkReadOutputSerializer, 400: ErrorSerializer})
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request, **kwargs):
        serializer = MarkReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = notifications.notifications_mark_read(
            user=request.user, notification_ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked}, status=status.HTTP_200_OK)
