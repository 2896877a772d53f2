"""Rules, exception events and their handling (tasks, approval steps, log), and notifications.

A ``Rule`` is a CEL condition over the facts of one event (``order.saved``…). Evaluating the rules for
a source object syncs ``ExceptionEvent`` rows keyed by (rule, source, detail key): new ones are raised,
still-true ones refreshed, no-longer-true ones auto-resolved. High severity fans out to one
``HandlingTask`` per department; medium walks ``ApprovalStep`` rows in order; low is handled
automatically or waits in the review queue.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from erp.kernel.i18n import localised
from erp.kernel.messages import render_stored


class Category(models.TextChoices):
    BUSINESS = "business", _("Business")
    LOGISTICS = "logistics", _("Logistics")
    QUALITY = "quality", _("Quality")
    COMPLIANCE = "compliance", _("Compliance")


class Severity(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class TriggerEvent(models.TextChoices):
    """The vocabulary of business events rules may listen to. A rule may use one only when some app
    registers a fact provider for it (``facts_registry.provided_events``)."""

    ORDER_SAVED = "order.saved", _("Order saved")
    SHIPMENT_UPDATED = "shipment.updated", _("Shipment updated")
    TEMPERATURE_LOGGED = "temperature.logged", _("Temperature logged")
    LOT_STATUS_CHANGED = "lot.status_changed", _("Lot status changed")
    LICENCE_EXPIRING = "licence.expiring", _("Licence expiring (periodic scan)")
    STOCK_SCAN = "stock.scan", _("Stock scan (periodic)")
    RECALL_OPENED = "recall.opened", _("Recall opened")
    INVOICE_OVERDUE = "invoice.overdue", _("Invoice overdue")


class LowSeverityAction(models.TextChoices):
    REVIEW_QUEUE = "review_queue", _("Periodic review queue (daily digest)")
    AUTO_RESOLVE = "auto_resolve", _("Log and resolve automatically")
    NOTIFY = "notify", _("Notify the route's departments, then review queue")


class Department(models.Model):
    """A team that handles exceptions; its members are the users of its group."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    group = models.ForeignKey(Group, verbose_name=_("member group"), on_delete=models.PROTECT, related_name="+")
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("managers"), blank=True, related_name="managed_departments"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return localised(self.name_zh, self.name_en)


class Rule(models.Model):
    """A configurable check: when ``condition`` (CEL over the event's facts) is true, raise an event.

    With ``iterate_over`` (a CEL list expression such as ``order.lines``) the condition is evaluated once
    per item, bound as ``item``, and ``detail_key`` (CEL, e.g. ``string(item.line_no)``) tells the
    events apart. ``params`` (JSON) is visible to the expressions as ``params`` so thresholds are data.
    Messages may use ``{placeholders}`` filled from the facts (``{item.sku}``, ``{order.number}``).
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    event = models.CharField(_("event"), max_length=30, choices=TriggerEvent.choices, db_index=True)
    iterate_over = models.CharField(_("for each (CEL list)"), max_length=300, blank=True)
    condition = models.TextField(_("condition (CEL)"))
    detail_key = models.CharField(_("detail key (CEL)"), max_length=300, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    message_zh = models.CharField(_("message (Chinese)"), max_length=300)
    message_en = models.CharField(_("message (English)"), max_length=300)
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    blocking = models.BooleanField(_("blocking (holds the order)"), default=False)
    route = models.ManyToManyField(
        Department, verbose_name=_("handling route"), through="RuleRouteStep", blank=True, related_name="rules"
    )
    low_action = models.CharField(
        _("low-severity handling"),
        max_length=14,
        choices=LowSeverityAction.choices,
        default=LowSeverityAction.REVIEW_QUEUE,
    )
    sla_hours = models.PositiveIntegerField(_("SLA (hours)"), default=24)
    enabled = models.BooleanField(_("enabled"), default=True, db_index=True)
    owner_department = models.ForeignKey(
        Department,
        verbose_name=_("owning department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_rules",
        help_text=_(
            "The department that decides (resolves or waives) this rule's events. Empty: compliance for "
            "compliance events, quality for quality events, sales management for business events, logistics "
            "for logistics events."
        ),
    )
    shipped = models.BooleanField(
        _("shipped with the product"),
        default=False,
        editable=False,
        help_text=_("Part of the shipped rule catalogue: disabling a shipped compliance rule needs a signature."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["event", "code"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localised(self.name_zh, self.name_en)

    def clean(self) -> None:
        """A rule's event must have a fact provider: a rule on an event nothing provides would never run."""
        super().clean()
        from exceptions_center.facts_registry import fact_providers, no_provider_message

        if self.event and not fact_providers(self.event):
            raise ValidationError({"event": no_provider_message(self.event)})

    @property
    def owner_department_code(self) -> str:
        """The code of the department that decides this rule's events (the rule's own, else its category's)."""
        if self.owner_department_id:
            return self.owner_department.code
        return DEFAULT_OWNER_BY_CATEGORY.get(self.category, "sales_management")

    @property
    def is_shipped_compliance_rule(self) -> bool:
        return self.shipped and self.category == Category.COMPLIANCE


# Who decides a category's events when the rule names no owning department.
DEFAULT_OWNER_BY_CATEGORY = {
    Category.BUSINESS: "sales_management",
    Category.LOGISTICS: "logistics",
    Category.QUALITY: "quality",
    Category.COMPLIANCE: "compliance",
}


class RuleRouteStep(models.Model):
    """One department on a rule's route: parallel for high severity, the n-th approver for medium."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="route_steps")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"), default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule", "position"]
        verbose_name = _("route step")
        verbose_name_plural = _("route steps")
        constraints = [
            models.UniqueConstraint(fields=["rule", "position"], name="%(app_label)s_%(class)s_unique_position"),
            models.UniqueConstraint(fields=["rule", "department"], name="%(app_label)s_%(class)s_unique_department"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}#{self.position}"


class ReevaluationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RuleReevaluation(models.Model):
    """One background re-evaluation of the open documents of a rule's event after the rule was enabled or
    changed: its progress (``done`` of ``total`` sources) and result (events raised — new or reopened —
    and auto-resolved by this rule). ``rule_version`` is the rule's history row it was queued for."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="reevaluations")
    rule_version = models.PositiveBigIntegerField(_("rule version"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ReevaluationStatus.choices, default=ReevaluationStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("documents"), default=0)
    done = models.PositiveIntegerField(_("re-evaluated"), default=0)
    raised = models.PositiveIntegerField(_("events raised"), default=0)
    resolved = models.PositiveIntegerField(_("events resolved"), default=0)
    last_source_id = models.PositiveBigIntegerField(default=0, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rule re-evaluation")
        verbose_name_plural = _("rule re-evaluations")

    def __str__(self) -> str:
        return f"{self.rule_id}@{self.rule_version}: {self.status}"

    @property
    def summary(self) -> str:
        """One line for the rule page, in the reader's language."""
        return _(
            "%(status)s: %(done)d of %(total)d open documents re-evaluated, %(raised)d events raised, "
            "%(resolved)d resolved"
        ) % {
            "status": self.get_status_display(),
            "done": self.done,
            "total": self.total,
            "raised": self.raised,
            "resolved": self.resolved,
        }


class EventStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    WAIVED = "waived", _("Waived")
    REJECTED = "rejected", _("Rejected")
    AUTO_RESOLVED = "auto_resolved", _("Auto-resolved")


# An event in one of these statuses still needs someone; a blocking one holds its order.
ACTIVE_STATUSES = (EventStatus.OPEN, EventStatus.IN_PROGRESS, EventStatus.REJECTED)


class DispatchState(models.TextChoices):
    PENDING = "pending", _("Pending")
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExceptionEvent(models.Model):
    """An exception raised by a rule on a source object (order, shipment, lot, licence…).

    Keyed by (rule, source, detail key): re-evaluating never duplicates it. A rejected approval keeps
    the event active (and its order held) until it is handled again or waived.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="events")
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, db_index=True)
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices, db_index=True)
    blocking = models.BooleanField(_("blocking"), default=False)
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveBigIntegerField()
    source = GenericForeignKey("source_type", "source_id")
    source_label = models.CharField(_("source"), max_length=60, help_text=_("e.g. the order number"))
    detail_key = models.CharField(_("detail key"), max_length=100, blank=True, default="")
    message_zh = models.CharField(_("message (Chinese)"), max_length=500)
    message_en = models.CharField(_("message (English)"), max_length=500)
    facts_snapshot = models.JSONField(_("facts"), default=dict)
    status = models.CharField(
        _("status"), max_length=14, choices=EventStatus.choices, default=EventStatus.OPEN, db_index=True
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, db_index=True)
    is_overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    # A resolution the system wrote, as a message key (erp.kernel.messages); empty when a person typed it.
    resolution_text = models.JSONField(_("resolution (message key)"), default=dict, blank=True)
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("assignees"), blank=True, related_name="assigned_exception_events"
    )
    dispatch_state = models.CharField(
        _("routing dispatch"), max_length=8, choices=DispatchState.choices, default=DispatchState.PENDING
    )
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Bumped on every change; signatures bind to it.")
    )

    history = HistoricalRecords(excluded_fields=["last_seen_at"])

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("exception event")
        verbose_name_plural = _("exception events")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "source_type", "source_id", "detail_key"], name="%(app_label)s_%(class)s_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["source_type", "source_id", "status"]),
            models.Index(fields=["status", "severity", "sla_due_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def message(self) -> str:
        return localised(self.message_zh, self.message_en)

    @property
    def resolution_display(self) -> str:
        """The resolution in the reader's language (a person's words as typed)."""
        return render_stored(self.resolution_text, fallback=self.resolution)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def needs_signature_to_waive(self) -> bool:
        """Waiving compliance and quality events needs an electronic signature (21 CFR Part 11 idea)."""
        return self.category in (Category.COMPLIANCE, Category.QUALITY)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class HandlingTask(models.Model):
    """A department's share of a high-severity event; the event resolves when all tasks are done."""

    event = models.ForeignKey(ExceptionEvent, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tasks")
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="exception_tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    # Why the system cancelled the task, as a message key (erp.kernel.messages); empty when typed.
    comment_text = models.JSONField(_("comment (message key)"), default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "department"]
        verbose_name = _("handling task")
        verbose_name_plural = _("handling tasks")
        constraints = [
            models.UniqueConstraint(fields=["event", "department"], name="%(app_label)s_%(class)s_one_per_department"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.department_id}"

    @property
    def comment_display(self) -> str:
        """The comment in the reader's language (a person's comment as typed)."""
        return render_stored(self.comment_text, fallback=self.comment)


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for earlier steps")
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SKIPPED = "skipped", _("Skipped")


class ApprovalStep(models.Model):
    """The n-th approval of a medium-severity event; a rejection ends the chain."""

    event = models.ForeignKey(ExceptionEvent, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="approval_steps")
    status = models.CharField(_("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided on behalf of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The person an administrator or a delegate decided for; counts as that person's approval."),
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "position"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        constraints = [
            models.UniqueConstraint(fields=["event", "position"], name="%(app_label)s_%(class)s_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}#{self.position}"


class Delegation(models.Model):
    """Holiday cover: ``delegator`` hands their standing in ``department`` to ``delegate`` from
    ``valid_from`` to ``valid_until`` (both days included). Both are members of that department; nobody
    delegates to themself. What the delegate does meanwhile is logged (and signed) as "on behalf of the
    delegator under this delegation". Rows are never changed or deleted once recorded."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegator"),
        on_delete=models.PROTECT,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.PROTECT,
        related_name="delegations_received",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="delegations"
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-valid_from", "-id"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_dated",
            ),
            models.CheckConstraint(
                condition=~models.Q(delegator=models.F("delegate")), name="%(app_label)s_%(class)s_not_self"
            ),
        ]
        indexes = [models.Index(fields=["delegate", "department", "valid_until"])]

    def __str__(self) -> str:
        return f"D-{self.pk} {self.delegator_id}→{self.delegate_id} {self.valid_from}..{self.valid_until}"


class LogAction(models.TextChoices):
    RAISED = "raised", _("Raised")
    REFRESHED = "refreshed", _("Still true")
    REOPENED = "reopened", _("Reopened")
    AUTO_RESOLVED = "auto_resolved", _("Auto-resolved")
    ROUTED = "routed", _("Routed")
    ASSIGNED = "assigned", _("Assigned")
    TAKEN = "taken", _("Taken")
    COMMENTED = "commented", _("Commented")
    ATTACHED = "attached", _("Evidence attached")
    TASK_DONE = "task_done", _("Task done")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESOLVED = "resolved", _("Resolved")
    WAIVED = "waived", _("Waived")
    OVERDUE = "overdue", _("SLA overdue")
    AUTO_ACTION = "auto_action", _("Automatic action")


class EventLogEntry(models.Model):
    """One line of an event's handling log: who did what, when, with what comment or attachment."""

    event = models.ForeignKey(ExceptionEvent, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=14, choices=LogAction.choices)
    comment = models.TextField(_("comment"), blank=True)
    # A comment the system wrote, as a message key (erp.kernel.messages); ``comment`` keeps it in
    # the language it was written in. Empty when a person typed the comment, which stays as typed.
    comment_text = models.JSONField(_("comment (message key)"), default=dict, blank=True)
    # Evidence file: an erp.Attachment of the event (private storage, permission-checked download).
    attachment = models.ForeignKey(
        "erp.Attachment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attachment"),
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["event", "at", "id"]
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"

    @property
    def comment_display(self) -> str:
        """The comment in the reader's language (a person's comment as typed)."""
        return render_stored(self.comment_text, fallback=self.comment)


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class Notification(models.Model):
    """A message to one user (in-app, e-mail) or one webhook endpoint. The row is the source of truth:
    it is written in the business transaction and delivered after commit; a sweeper re-queues rows
    still pending, so nothing is lost when Redis or a worker is down."""

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    webhook = models.ForeignKey(
        "WebhookEndpoint", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    event = models.ForeignKey(
        ExceptionEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    # Title and body as message keys ({"title": ..., "body": ...}, erp.kernel.messages), shown in the
    # reader's language in the app; ``title`` / ``body`` keep the text as e-mailed.
    text = models.JSONField(_("text (message keys)"), default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    dispatch_state = models.CharField(
        max_length=8, choices=DispatchState.choices, default=DispatchState.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "channel", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def title_display(self) -> str:
        return render_stored((self.text or {}).get("title"), fallback=self.title)

    @property
    def body_display(self) -> str:
        return render_stored((self.text or {}).get("body"), fallback=self.body)


class WebhookEndpoint(models.Model):
    """An integrator's URL that receives exception events as signed JSON."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"))
    secret = models.CharField(_("signing secret"), max_length=100)
    kinds = models.JSONField(_("event kinds"), default=list, blank=True, help_text=_("Empty means all."))
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name
