"""Texts the exception center writes for people, as message keys (see ``erp.kernel.messages``)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from erp.kernel.messages import register

EVENT_MESSAGE = register("exceptions_center.event_message", gettext_noop("%(message)s"))
CONDITION_TRUE_AGAIN = register(
    "exceptions_center.condition_true_again", gettext_noop("The rule's condition is true again.")
)
CONDITION_FALSE = register("exceptions_center.condition_false", gettext_noop("The rule's condition is no longer true."))
ROUTED_TO = register("exceptions_center.routed_to", gettext_noop("%(departments)s"))
REVIEW_QUEUE = register("exceptions_center.review_queue", gettext_noop("Review queue"))
LOW_AUTO_RESOLVED = register(
    "exceptions_center.low_auto_resolved",
    gettext_noop("Low severity: logged and resolved automatically by rule %(rule)s."),
)
TASKS_ALL_DONE = register("exceptions_center.tasks_all_done", gettext_noop("Every department completed its task."))
CHAIN_APPROVED = register("exceptions_center.chain_approved", gettext_noop("Approved by every step of the chain."))
NOTIFICATION_TITLE = register("exceptions_center.notification_title", gettext_noop("%(number)s · %(kind)s"))
DIGEST_TITLE = register("exceptions_center.digest_title", gettext_noop("%(department)s: %(count)s · %(kind)s"))
DIGEST_LINE = register("exceptions_center.digest_line", gettext_noop("%(number)s · %(source)s · %(message)s"))
DIGEST_MORE = register("exceptions_center.digest_more", gettext_noop("… +%(count)s"))
DIGEST_BODY = register("exceptions_center.digest_body", gettext_noop("%(lines)s"))

# What a notification is about (notifications.Kind), one key per kind.
KIND_LABELS = {
    "exception.routed": register("exceptions_center.kind.routed", gettext_noop("New exception for your department")),
    "exception.assigned": register("exceptions_center.kind.assigned", gettext_noop("Exception assigned to you")),
    "exception.step_pending": register(
        "exceptions_center.kind.step_pending", gettext_noop("Approval awaiting your decision")
    ),
    "exception.rejected": register("exceptions_center.kind.rejected", gettext_noop("Approval rejected")),
    "exception.resolved": register("exceptions_center.kind.resolved", gettext_noop("Exception resolved")),
    "exception.waived": register("exceptions_center.kind.waived", gettext_noop("Exception waived")),
    "exception.reopened": register("exceptions_center.kind.reopened", gettext_noop("Exception reopened")),
    "exception.overdue": register("exceptions_center.kind.overdue", gettext_noop("Exception past its SLA")),
    "exception.review_digest": register(
        "exceptions_center.kind.review_digest", gettext_noop("Low-severity exceptions awaiting review")
    ),
}
