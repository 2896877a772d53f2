"""Rule changes take effect: re-evaluating the open documents of a rule's event in the background.

When a rule is enabled, or a part that decides or describes its events changes (``REEVALUATE_FIELDS``),
``rule_reevaluation_queue`` writes a ``RuleReevaluation`` row and queues its task on commit. The task
(``rule_reevaluation_run``) re-runs the event's rules on every open source — which sources are open is
said by the owning app through ``exceptions_center.trigger_sources`` (``TriggerSources.open()``; for
``order.saved``: the orders not yet shipped, closed or cancelled) — in batches of
``ERP_RULES_REEVALUATION["BATCH"]``, one transaction per source with its row locked, pausing ``PAUSE``
seconds between batches so the site is not starved. Progress is saved after every batch (the rule page
shows it); at the end the rule's history gets a row saying how many events were raised and resolved.
Re-running changes nothing: events are keyed by (rule, source, detail key), and a finished re-evaluation is
not run again.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from exceptions_center.facts_registry import open_sources
from exceptions_center.models import ReevaluationStatus, Rule, RuleReevaluation

logger = logging.getLogger("exceptions_center.rules")

# What changes the events a rule raises or their texts: a change to any of these re-evaluates.
REEVALUATE_FIELDS = (
    "enabled",
    "event",
    "iterate_over",
    "condition",
    "detail_key",
    "params",
    "severity",
    "blocking",
    "message_zh",
    "message_en",
)

HISTORY_NOTE = gettext_noop("re-evaluated %(done)d open documents: %(raised)d events raised, %(resolved)d resolved")


def _setting(name: str, default: float) -> float:
    return getattr(settings, "ERP_RULES_REEVALUATION", {}).get(name, default)


def rule_state(rule: Rule) -> dict | None:
    """The stored values of ``REEVALUATE_FIELDS`` before a save (``None`` for a new rule); one query."""
    if rule.pk is None:
        return None
    return Rule.objects.filter(pk=rule.pk).values(*REEVALUATE_FIELDS).first()


def rule_reevaluation_needed(*, rule: Rule, before: dict | None) -> bool:
    """An enabled rule that is new, was just enabled, or changed what decides or describes its events."""
    if not rule.enabled:
        return False
    if before is None:
        return True
    return any(before[name] != getattr(rule, name) for name in REEVALUATE_FIELDS)


def rule_reevaluation_queue(*, rule: Rule, before: dict | None, user=None) -> RuleReevaluation | None:
    """After ``rule`` was saved (in the caller's transaction): when it needs re-evaluating and its event
    has open sources, write a queued ``RuleReevaluation`` and publish its task on commit."""
    if not rule_reevaluation_needed(rule=rule, before=before) or open_sources(rule.event) is None:
        return None
    latest = rule.history.order_by("-history_id").values_list("history_id", flat=True).first()
    row = RuleReevaluation.objects.create(
        rule=rule,
        rule_version=latest,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    from exceptions_center.tasks import publish, rule_reevaluate_task

    transaction.on_commit(lambda: publish(rule_reevaluate_task, row.pk))
    return row


def rule_reevaluation_run(*, reevaluation_id: int) -> RuleReevaluation:
    """Re-evaluate the open sources of the rule's event, batch by batch, recording progress; resumes
    after the last source done when a worker restarts it. A finished one is returned as it is."""
    row = RuleReevaluation.objects.select_related("rule").get(pk=reevaluation_id)
    if row.status in (ReevaluationStatus.DONE, ReevaluationStatus.FAILED):
        return row
    sources = open_sources(row.rule.event)
    if sources is None:
        return _finish(row, error="no open sources for this event")
    row.status = ReevaluationStatus.RUNNING
    row.started_at = row.started_at or timezone.now()
    row.total = sources.count()
    row.save(update_fields=["status", "started_at", "total"])
    batch, pause = int(_setting("BATCH", 50)), float(_setting("PAUSE", 0.2))
    try:
        while True:
            ids = list(sources.filter(pk__gt=row.last_source_id).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            for source_id in ids:
                _reevaluate_one(row, sources.model, source_id)
            row.save(update_fields=["done", "raised", "resolved", "last_source_id"])
            if len(ids) < batch:
                break
            if pause:
                time.sleep(pause)
    except Exception as exc:  # recorded on the row (the page shows it); the task does not retry
        logger.exception("re-evaluation %s of rule %s failed", row.pk, row.rule.code)
        return _finish(row, error=str(exc)[:2000])
    return _finish(row)


def _reevaluate_one(row: RuleReevaluation, model, source_id: int) -> None:
    """One source in its own transaction, its row locked like a save; counts this rule's changes."""
    from exceptions_center.services.rules import rules_evaluate

    with transaction.atomic():
        source = model._default_manager.select_for_update().filter(pk=source_id).first()
        if source is not None:
            result = rules_evaluate(event=row.rule.event, source=source, context={"reevaluation": row.pk})
            rule_id = row.rule_id
            row.raised += sum(1 for e in (*result.raised, *result.reopened) if e.rule_id == rule_id)
            row.resolved += sum(1 for e in result.resolved if e.rule_id == rule_id)
    row.done += 1
    row.last_source_id = source_id


def _finish(row: RuleReevaluation, *, error: str = "") -> RuleReevaluation:
    row.status = ReevaluationStatus.FAILED if error else ReevaluationStatus.DONE
    row.error = error
    row.finished_at = timezone.now()
    row.save(update_fields=["status", "error", "finished_at", "done", "raised", "resolved", "last_source_id"])
    if not error:
        _history_note(row)
    return row


def _history_note(row: RuleReevaluation) -> None:
    """A row in the rule's change history (what auditors read) with the result; the rule is not saved
    (its ``updated_at`` does not move, so no evaluation recompiles it)."""
    rule = Rule.objects.get(pk=row.rule_id)
    history = Rule.history.model
    values = {field.attname: getattr(rule, field.attname) for field in history.tracked_fields}
    reason = HISTORY_NOTE % {"done": row.done, "raised": row.raised, "resolved": row.resolved}
    history.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_user_id=row.requested_by_id,
        history_change_reason=reason[:100],
    )


def rule_reevaluation_latest(*, rule: Rule) -> RuleReevaluation | None:
    """The rule's most recent re-evaluation (for its page), or ``None``."""
    return rule.reevaluations.order_by("-created_at", "-id").first()
