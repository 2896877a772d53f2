"""Exception event admin: the compliance officers' review queue.

Overdue first, filters by status, severity, category and overdue; the event is read-only here (facts
as a readable card, tasks, steps and log inline). Admin actions call the handling services, so the
same permission checks, log, history and hold release apply as on the event page; waiving a
compliance or quality event needs the electronic signature form of the event page (linked).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from erp.kernel import policy
from erp.kernel.admin import HistoryReadOnlyMixin
from erp.kernel.errors import DomainError, apply_to_form
from exceptions_center.facts_card import facts_card
from exceptions_center.models import (
    ApprovalStep,
    Delegation,
    Department,
    EventLogEntry,
    ExceptionEvent,
    HandlingTask,
    Notification,
    WebhookEndpoint,
)
from exceptions_center.services import delegations, handling

REVIEWED_REASON = _("Reviewed in the admin review queue.")


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HandlingTaskInline(_ReadOnlyInline):
    model = HandlingTask
    fields = ["department", "status", "assignee", "closed_at", "closed_by", "comment"]
    readonly_fields = fields


class ApprovalStepInline(_ReadOnlyInline):
    model = ApprovalStep
    fields = ["position", "department", "status", "decided_by", "decided_for", "decided_at", "comment"]
    readonly_fields = fields


class EventLogEntryInline(_ReadOnlyInline):
    model = EventLogEntry
    fields = ["at", "actor", "action", "comment", "attachment"]
    readonly_fields = fields


@admin.register(ExceptionEvent)
class ExceptionEventAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "severity_badge",
        "category",
        "status",
        "source_label",
        "message_zh",
        "sla_due_at",
        "is_overdue",
        "blocking",
        "handle_link",
    ]
    list_display_links = ["number"]
    list_filter = ["status", "severity", "category", "is_overdue", "blocking", "rule"]
    search_fields = ["number", "source_label", "message_zh", "message_en", "rule__code"]
    ordering = ["-is_overdue", "sla_due_at", "-raised_at"]
    list_select_related = ["rule"]
    list_per_page = 50
    date_hierarchy = "raised_at"
    inlines = [HandlingTaskInline, ApprovalStepInline, EventLogEntryInline]
    actions = ["take_selected", "resolve_as_reviewed", "reopen_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "rule",
                    ("category", "severity", "blocking"),
                    ("status", "is_overdue", "version"),
                    "source_label",
                    "message_zh",
                    "message_en",
                    ("raised_at", "sla_due_at", "closed_at"),
                    "resolution",
                    "handle_link",
                ]
            },
        ),
        (_("Facts"), {"fields": ["facts_card_display"]}),
    ]
    readonly_fields = [
        "number",
        "rule",
        "category",
        "severity",
        "blocking",
        "status",
        "is_overdue",
        "version",
        "source_label",
        "message_zh",
        "message_en",
        "raised_at",
        "sla_due_at",
        "closed_at",
        "resolution",
        "handle_link",
        "facts_card_display",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The row itself is never edited here; the change permission only opens the admin actions.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("severity"), ordering="severity")
    def severity_badge(self, event):
        colours = {"high": "#c62828", "medium": "#b26a00", "low": "#6b7280"}
        return format_html(
            '<strong style="color:{}">{}</strong>', colours.get(event.severity, "#000"), event.get_severity_display()
        )

    @admin.display(description=_("handle"))
    def handle_link(self, event):
        url = reverse("exceptions_center:event_detail", args=[event.number])
        return format_html('<a href="{}">{}</a>', url, _("Open event page"))

    @admin.display(description=_("facts"))
    def facts_card_display(self, event):
        return render_to_string("exceptions_center/_facts_card.html", {"facts": facts_card(event.facts_snapshot)})

    def _run(self, request, queryset, call, done_message):
        done, refused = 0, []
        for event in queryset:
            try:
                call(event)
                done += 1
            except DomainError as exc:
                refused.append(f"{event.number}: {exc.message}")
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Take the selected exceptions"), permissions=["change"])
    def take_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: handling.exception_event_take(event=e, user=request.user),
            _("%(count)d exception(s) taken."),
        )

    @admin.action(description=_("Resolve as reviewed"), permissions=["change"])
    def resolve_as_reviewed(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: handling.exception_event_resolve(event=e, user=request.user, reason=str(REVIEWED_REASON)),
            _("%(count)d exception(s) resolved."),
        )

    @admin.action(description=_("Reopen the selected exceptions"), permissions=["change"])
    def reopen_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda e: handling.exception_event_reopen(
                event=e, user=request.user, reason=str(_("Reopened from the admin review queue."))
            ),
            _("%(count)d exception(s) reopened."),
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """Who heads a department is a role grant: administrators only (exceptions_center.policy)."""

    list_display = ["code", "name_zh", "name_en", "group"]
    filter_horizontal = ["managers"]
    readonly_fields = ["code", "group"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = policy.decide(request.user, "change", obj or Department()).allowed
        return allowed and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class DelegationAdminForm(forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ["department", "delegator", "delegate", "valid_from", "valid_until", "reason"]


@admin.register(Delegation)
class DelegationAdmin(HistoryReadOnlyMixin, SimpleHistoryAdmin):
    """Holiday cover within a department, dated, with a reason; recorded through
    ``delegation_create`` (the same checks as the API). Never changed or deleted once recorded."""

    form = DelegationAdminForm
    list_display = ["id", "department", "delegator", "delegate", "valid_from", "valid_until", "created_by"]
    list_filter = ["department"]
    search_fields = ["delegator__username", "delegate__username", "reason"]
    list_select_related = ["department", "delegator", "delegate", "created_by"]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            created = delegations.delegation_create(
                user=request.user,
                department=data["department"],
                delegator=data["delegator"],
                delegate=data["delegate"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                reason=data["reason"],
            )
        except DomainError as exc:
            # Checked again in the service; the form already refused what it can see.
            raise PermissionDenied(str(exc.message)) from exc
        obj.pk = created.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class Form(base):
            def clean(form_self):
                cleaned = super().clean()
                try:
                    delegations.delegation_validate(user=request.user, **{k: cleaned.get(k) for k in DELEGATION_FIELDS})
                except DomainError as exc:
                    apply_to_form(form_self, exc)
                return cleaned

        return Form


DELEGATION_FIELDS = ("department", "delegator", "delegate", "valid_from", "valid_until", "reason")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active"]
    list_filter = ["is_active"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Delivery state of every notification (operations: what is pending, what failed and why)."""

    list_display = ["created_at", "channel", "kind", "recipient", "webhook", "dispatch_state", "attempts", "sent_at"]
    list_filter = ["dispatch_state", "channel", "kind"]
    list_select_related = ["recipient", "webhook"]
    search_fields = ["title", "recipient__username"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
