"""Rule admin: compliance officers edit the catalogue here (route steps inline), see validation errors
next to the field with line and column, and try a saved or draft rule before saving it: DRY RUN
against one order, BACKTEST against every order of the last N days. Trying writes nothing."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from erp.kernel import policy
from erp.kernel.admin import HistoryReadOnlyMixin
from erp.kernel.errors import DomainError
from erp.kernel.i18n import localised
from erp.models import SignatureMeaning
from exceptions_center.facts_catalogue import facts_catalogue
from exceptions_center.facts_registry import provided_events
from exceptions_center.models import Rule, RuleRouteStep, TriggerEvent
from exceptions_center.ports import trigger_sources
from exceptions_center.services import rules as rule_services
from exceptions_center.services.reevaluation import rule_reevaluation_latest

CODE_WIDGET = forms.Textarea(
    attrs={"rows": 4, "cols": 90, "class": "vLargeTextField", "style": "font-family: monospace"}
)
LINE_WIDGET = forms.TextInput(attrs={"size": 90, "style": "font-family: monospace"})


class RuleAdminForm(forms.ModelForm):
    """The rule form: model fields, then ``rule_validate`` on the whole rule (errors on their field)."""

    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=100,
        help_text=_("Required to save; auditors see it in the change history."),
    )
    signature_password = forms.CharField(
        label=_("Your password (electronic signature)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Needed only to disable a shipped compliance rule."),
    )
    signature_meaning = forms.ChoiceField(
        label=_("Meaning of your signature"),
        required=False,
        choices=[("", "---------")]
        + [c for c in SignatureMeaning.choices if c[0] in rule_services.RULE_SIGNATURE_MEANINGS],
    )

    # Set by RuleAdmin.get_form: the person saving (the signature must be theirs).
    request_user = None
    try_order = forms.CharField(
        label=_("Order number for a dry run"),
        required=False,
        max_length=30,
        help_text=_("e.g. SO-2026-000123. “Dry run” shows what this rule, as written above, would raise on it."),
    )
    try_days = forms.IntegerField(
        label=_("Backtest period (days)"),
        required=False,
        min_value=1,
        max_value=366,
        initial=30,
        help_text=_("“Backtest” runs the rule as written above on every order of this period."),
    )

    class Meta:
        model = Rule
        fields = [
            "code",
            "name_zh",
            "name_en",
            "description",
            "enabled",
            "event",
            "iterate_over",
            "condition",
            "detail_key",
            "params",
            "category",
            "severity",
            "blocking",
            "low_action",
            "sla_hours",
            "message_zh",
            "message_en",
            "owner_department",
        ]
        widgets = {
            "condition": CODE_WIDGET,
            "iterate_over": LINE_WIDGET,
            "detail_key": LINE_WIDGET,
            "message_zh": forms.TextInput(attrs={"size": 100}),
            "message_en": forms.TextInput(attrs={"size": 100}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_provided_events(self)

    def clean(self):
        """A save needs a reason; disabling a shipped compliance rule needs the saver's own signature
        (checked here so that a wrong password is an error next to the field, and nothing is saved)."""
        cleaned = super().clean()
        saving = not (self.data.get("_dry_run") or self.data.get("_backtest"))
        if saving and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why you change this rule; auditors read it in the history."))
        was_enabled = self.instance.pk and Rule.objects.filter(pk=self.instance.pk, enabled=True).exists()
        stored = Rule.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        if saving and was_enabled and not cleaned.get("enabled", True) and stored and stored.is_shipped_compliance_rule:
            if not cleaned.get("signature_meaning"):
                self.add_error("signature_meaning", _("Choose the meaning of your signature."))
            user = self.request_user
            password = cleaned.get("signature_password") or ""
            if not user or not password or not user.check_password(password):
                self.add_error("signature_password", _("The password is not correct; nothing was signed."))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        expression_fields = ("event", "iterate_over", "condition", "detail_key", "params", "message_zh", "message_en")
        if any(name in self.errors for name in expression_fields):
            return
        try:
            rule_services.rule_validate(rule=self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


def offer_provided_events(form: forms.ModelForm) -> None:
    """The event list offers only the events some app provides facts for (and a saved rule's own)."""
    field = form.fields.get("event")
    if field is None:
        return
    provided = set(provided_events())
    current = form.instance.event if form.instance.pk else None
    field.choices = [
        (value, label) for value, label in field.choices if not value or value in provided or value == current
    ]


def rule_editor_context(rule: Rule | None) -> dict:
    """What the rule editor shows beside the form: the facts catalogue of every provided event (the
    rule's own open), in the reader's language, and the rule's latest re-evaluation."""
    current = rule.event if rule is not None else "order.saved"
    entries = facts_catalogue()
    events = [
        {
            "event": event,
            "open": event == current,
            "facts": [
                {**entry.as_dict(), "description": localised(entry.description_zh, entry.description_en)}
                for entry in entries
                if entry.event == event
            ],
        }
        for event in provided_events()
    ]
    latest = rule_reevaluation_latest(rule=rule) if rule is not None and rule.pk else None
    return {"facts_catalogue": events, "reevaluation": latest}


class RuleRouteStepInline(admin.TabularInline):
    model = RuleRouteStep
    extra = 1
    fields = ["position", "department"]
    ordering = ["position"]
    verbose_name = _("route step")
    verbose_name_plural = _("handling route (high: parallel departments; medium: approvers in order)")


@admin.register(Rule)
class RuleAdmin(HistoryReadOnlyMixin, SimpleHistoryAdmin):
    form = RuleAdminForm
    inlines = [RuleRouteStepInline]
    list_display = ["code", "display_name", "event", "category", "severity", "blocking", "enabled", "sla_hours"]
    list_filter = ["event", "category", "severity", "blocking", "enabled"]
    search_fields = ["code", "name_zh", "name_en", "condition", "description"]
    list_editable = []
    ordering = ["event", "code"]
    actions = ["backtest_selected"]
    change_form_template = "admin/exceptions_center/rule/change_form.html"
    readonly_fields = ["shipped", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name_zh", "name_en", "description", "enabled"]}),
        (
            _("When"),
            {
                "fields": ["event", "iterate_over", "condition", "detail_key", "params"],
                "description": _(
                    "CEL expressions over the event's facts; see docs/rules.md for the facts, functions and examples."
                ),
            },
        ),
        (
            _("Then"),
            {"fields": ["category", "severity", "blocking", "low_action", "sla_hours", "message_zh", "message_en"]},
        ),
        (_("Try it (writes nothing)"), {"fields": ["try_order", "try_days"]}),
        (_("Who decides"), {"fields": ["owner_department"]}),
        (
            _("Change"),
            {"fields": ["reason", "signature_password", "signature_meaning", "shipped", "created_at", "updated_at"]},
        ),
    ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(rule_editor_context(obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # disable a rule instead: its events keep pointing at it

    # --- who may change rules: the one policy (exceptions_center.policy) ----------------------------

    def has_add_permission(self, request):
        return super().has_add_permission(request) and policy.decide(request.user, "create", Rule()).allowed

    def has_change_permission(self, request, obj=None):
        return (
            super().has_change_permission(request, obj) and policy.decide(request.user, "change", obj or Rule()).allowed
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        rule_services.rule_save(
            rule=obj,
            user=request.user,
            reason=form.cleaned_data.get("reason") or "",
            validate=False,
            password=form.cleaned_data.get("signature_password") or "",
            meaning=form.cleaned_data.get("signature_meaning") or "",
        )

    # --- dry run and backtest ------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        trying = request.method == "POST" and ("_dry_run" in request.POST or "_backtest" in request.POST)
        if not trying:
            return super().changeform_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is None and object_id:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            # Re-render with the errors next to their fields; an invalid form saves nothing.
            return super().changeform_view(request, object_id, form_url, extra_context)
        rule = form.save(commit=False)
        if "_dry_run" in request.POST:
            return self._dry_run_response(request, rule, form.cleaned_data.get("try_order") or "")
        return self._backtest_response(request, [rule], form.cleaned_data.get("try_days") or 30)

    def _dry_run_response(self, request, rule, number):
        number = number.strip()
        sources = trigger_sources.get(TriggerEvent.ORDER_SAVED)
        order = sources.find(user=request.user, key=number, by_id=False) if number and sources else None
        results, error = [], ""
        if order is None:
            error = (
                _("No order numbered “%(number)s” that you may see.") % {"number": number}
                if number
                else _("Enter an order number for the dry run.")
            )
        else:
            try:
                results = rule_services.rule_dry_run(rule=rule, source=order, context={"dry_run": True})
            except DomainError as exc:
                error = str(exc.message)
        return TemplateResponse(
            request,
            "admin/exceptions_center/rule/dry_run.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Dry run of rule %(code)s") % {"code": rule.code},
                "rule": rule,
                "order": order,
                "results": results,
                "error": error,
                "saved": rule.pk is not None,
            },
        )

    def _backtest_response(self, request, rules, days):
        runs = []
        for rule in rules:
            error, found = "", []
            try:
                found = rule_services.rule_backtest(rule=rule, days=days)
            except DomainError as exc:
                error = str(exc.message)
            runs.append(
                {
                    "rule": rule,
                    "found": found,
                    "error": error,
                    "checked": rule_services.backtest_candidates(event=rule.event, days=days),
                    "event_count": sum(len(events) for _source, events in found),
                }
            )
        return TemplateResponse(
            request,
            "admin/exceptions_center/rule/backtest.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Backtest over the last %(days)d days") % {"days": days},
                "days": days,
                "runs": runs,
            },
        )

    @admin.action(description=_("Backtest the selected rules on the last 30 days (writes nothing)"))
    def backtest_selected(self, request, queryset):
        if queryset.count() > 20:
            self.message_user(request, _("Select at most 20 rules to backtest at once."), messages.WARNING)
            return None
        return self._backtest_response(request, list(queryset), 30)
