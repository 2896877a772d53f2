"""Rules: validation before save, evaluation on a business event (events synced), dry run, backtest.

``rules_evaluate`` is called by the service that saves the source (e.g. ``orders.services.order_create``)
inside its transaction, with the source row locked. Its cost is a fixed number of queries whatever the
number of lines and rules: the rules check (1, plus 1 when a rule changed), the providers' facts, the
source's existing events (1; none for a source created in this transaction), and writes only for what
changes — new events (one number each, then one bulk insert with history), refreshed or closed events
(one bulk update with history), log entries (one bulk insert), a plain ``last_seen_at`` update for the
rest (1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.kernel.errors import DomainError
from erp.kernel.history import history_stamp
from erp.kernel.messages import both, render_stored, stored_text
from erp.kernel.numbering import next_number
from exceptions_center import engine, texts
from exceptions_center.facts_registry import facts_build
from exceptions_center.models import (
    ACTIVE_STATUSES,
    DispatchState,
    EventLogEntry,
    EventStatus,
    ExceptionEvent,
    LogAction,
    Rule,
    TriggerEvent,
)
from exceptions_center.services.sources import source_hold_refresh

# The log comments and resolution the engine writes, read in the reader's language.
NO_LONGER_TRUE = stored_text(texts.CONDITION_FALSE)
TRUE_AGAIN = stored_text(texts.CONDITION_TRUE_AGAIN)


@dataclass
class EvaluationResult:
    """What one evaluation did. ``raised`` are new events, ``reopened`` auto-resolved ones true again,
    ``refreshed`` still-true ones, ``resolved`` the ones auto-resolved now; ``active`` every active
    event on the source afterwards (any rule); ``errors`` maps a rule code to why it could not run."""

    facts: dict = field(default_factory=dict)
    raised: list[ExceptionEvent] = field(default_factory=list)
    reopened: list[ExceptionEvent] = field(default_factory=list)
    refreshed: list[ExceptionEvent] = field(default_factory=list)
    resolved: list[ExceptionEvent] = field(default_factory=list)
    active: list[ExceptionEvent] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class WouldBe:
    """One event a rule would raise (or refresh, or reopen) on a source: what dry runs list."""

    rule: engine.CompiledRule
    hit: engine.Hit
    message_zh: str
    message_en: str
    facts_snapshot: dict


def _would_be(rule: engine.CompiledRule, facts: dict, hit: engine.Hit, now: dt.datetime) -> WouldBe:
    scope = engine.message_scope(rule, facts, hit, now)
    # Each message in its own language, whatever the request's ("yes"/"no" of booleans are translated).
    with translation.override("zh-hans"):
        message_zh = engine.render(rule.message_zh, scope)[:500]
    with translation.override("en"):
        message_en = engine.render(rule.message_en, scope)[:500]
    return WouldBe(
        rule=rule,
        hit=hit,
        message_zh=message_zh,
        message_en=message_en,
        facts_snapshot=engine.snapshot(rule, facts, hit),
    )


def _source_label(source) -> str:
    return str(getattr(source, "number", None) or getattr(source, "code", None) or source)[:60]


def _history_user(context: dict):
    user = context.get("user")
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _handling():
    # Imported late: handling imports notifications and tasks, which need the app registry.
    from exceptions_center.services import handling

    return handling


# No savepoint of its own: it runs inside the saving service's transaction, and a failure here fails that
# whole save (nothing catches it halfway), so the savepoint would only cost two round trips per save.
@transaction.atomic(savepoint=False)
def rules_evaluate(*, event: str, source, context: dict | None = None, new_source: bool = False) -> EvaluationResult:
    """Run every enabled rule of ``event`` on ``source`` and sync its exception events.

    New hits raise events (numbered ``EX-…``, SLA due from the rule), hits already raised are
    refreshed, active events whose condition is no longer true are auto-resolved with a logged
    reason, auto-resolved ones true again are reopened. An event is keyed by (rule, source, detail key)
    and never duplicated. A rule that fails on these facts is logged and skipped (its events are left
    as they are). Runs in the caller's transaction; routing and the cancelling of open work are queued
    through the handling services (on commit), then the source's hold is recomputed.

    ``new_source``: the source was created in this transaction, so it has no events yet (nothing to
    read back before syncing, nor for the hold).
    """
    context = dict(context or {})
    result = EvaluationResult()
    rules = engine.compiled_rules(event)
    content_type = ContentType.objects.get_for_model(source)
    if not rules:
        source_hold_refresh(source=source, active=[] if new_source else None)
        return result

    now = timezone.now()
    names = engine.names_for(rules)
    facts = facts_build(event=event, source=source, context=context, names=names)
    result.facts = facts
    cel_context = engine.context_for(facts, now=now, names=names)
    outcomes = engine.evaluate_all(rules, cel_context, facts)

    existing = (
        {}
        if new_source
        else {
            (e.rule_id, e.detail_key): e
            for e in ExceptionEvent.objects.filter(source_type=content_type, source_id=source.pk).order_by("id")
        }
    )
    user = _history_user(context)
    label = _source_label(source)
    seen: set[tuple[int, str]] = set()
    new: list[tuple[ExceptionEvent, WouldBe]] = []
    changed: list[ExceptionEvent] = []
    touched: list[int] = []
    logs: list[EventLogEntry] = []
    skip_rules: set[int] = set()
    uncertain: set[tuple[int, str]] = set()

    for outcome in outcomes:
        rule = outcome.rule
        if outcome.error:
            result.errors[rule.code] = outcome.error
            if None in outcome.uncertain:
                skip_rules.add(rule.id)
            uncertain |= {(rule.id, key) for key in outcome.uncertain if key is not None}
        for hit in outcome.hits:
            key = (rule.id, hit.detail_key)
            if key in seen:  # two items with the same detail key: one event
                continue
            seen.add(key)
            would = _would_be(rule, facts, hit, now)
            event_row = existing.get(key)
            if event_row is None:
                new.append((_new_event(rule, would, content_type, source, label, now), would))
            elif event_row.status == EventStatus.AUTO_RESOLVED:
                _reopen(event_row, would, rule, now)
                changed.append(event_row)
                result.reopened.append(event_row)
                logs.append(
                    EventLogEntry(
                        event=event_row,
                        at=now,
                        action=LogAction.REOPENED,
                        comment=render_stored(TRUE_AGAIN),
                        comment_text=TRUE_AGAIN,
                        data={"rule": rule.code, "detail_key": hit.detail_key},
                    )
                )
            else:
                if _refresh(event_row, would, now):
                    changed.append(event_row)
                    logs.append(
                        EventLogEntry(
                            event=event_row,
                            at=now,
                            action=LogAction.REFRESHED,
                            comment=event_row.message_en,
                            comment_text=stored_text(
                                texts.EVENT_MESSAGE, message=both(event_row.message_zh, event_row.message_en)
                            ),
                            data={"rule": rule.code},
                        )
                    )
                else:
                    touched.append(event_row.pk)
                result.refreshed.append(event_row)

    evaluated = {rule.id for rule in rules} - skip_rules
    for key, event_row in existing.items():
        if key in seen or key in uncertain or key[0] not in evaluated or event_row.status not in ACTIVE_STATUSES:
            continue
        _auto_resolve(event_row, now)
        changed.append(event_row)
        result.resolved.append(event_row)
        logs.append(
            EventLogEntry(
                event=event_row,
                at=now,
                action=LogAction.AUTO_RESOLVED,
                comment=render_stored(NO_LONGER_TRUE),
                comment_text=NO_LONGER_TRUE,
                data={"reason": "condition_false"},
            )
        )

    if touched:
        ExceptionEvent.objects.filter(pk__in=touched).update(last_seen_at=now)
    if changed:
        bulk_update_with_history(
            changed,
            ExceptionEvent,
            fields=[
                "status",
                "closed_at",
                "closed_by",
                "resolution",
                "resolution_text",
                "message_zh",
                "message_en",
                "facts_snapshot",
                "last_seen_at",
                "sla_due_at",
                "is_overdue",
                "dispatch_state",
                "version",
            ],
            default_user=user,
        )
    if new:
        result.raised = _insert(new, user=user, now=now, result=result, existing=existing, logs=logs)
        logs.extend(
            EventLogEntry(
                event=row,
                at=now,
                action=LogAction.RAISED,
                # The message lives on the event in both languages; the page shows the reader's one.
                data={"rule": row.rule_code_cache, "detail_key": row.detail_key},
            )
            for row in result.raised
        )
    if logs:
        EventLogEntry.objects.bulk_create(logs)

    handling = _handling()
    for event_row in (*result.raised, *result.reopened):
        handling.exception_event_route_on_commit(event=event_row)
    for event_row in result.resolved:
        handling.exception_event_cancel_open_work(event=event_row, reason=NO_LONGER_TRUE)

    by_id = {e.pk: e for e in existing.values()} | {e.pk: e for e in result.raised}
    result.active = [e for e in by_id.values() if e.status in ACTIVE_STATUSES]
    source_hold_refresh(source=source, active=result.active)
    return result


def _new_event(rule: engine.CompiledRule, would: WouldBe, content_type, source, label: str, now) -> ExceptionEvent:
    row = ExceptionEvent(
        rule_id=rule.id,
        category=rule.category,
        severity=rule.severity,
        blocking=rule.blocking,
        source_type=content_type,
        source_id=source.pk,
        source_label=label,
        detail_key=would.hit.detail_key,
        message_zh=would.message_zh,
        message_en=would.message_en,
        facts_snapshot=would.facts_snapshot,
        status=EventStatus.OPEN,
        raised_at=now,
        last_seen_at=now,
        sla_due_at=now + dt.timedelta(hours=rule.sla_hours),
    )
    row.rule_code_cache = rule.code
    row._change_reason = f"raised by rule {rule.code}"[:100]
    return row


def _refresh(row: ExceptionEvent, would: WouldBe, now) -> bool:
    """Still true: keep it seen; returns True when its message or facts changed (a versioned change)."""
    row.last_seen_at = now
    if (row.message_zh, row.message_en, row.facts_snapshot) == (
        would.message_zh,
        would.message_en,
        would.facts_snapshot,
    ):
        return False
    row.message_zh, row.message_en, row.facts_snapshot = would.message_zh, would.message_en, would.facts_snapshot
    row.version += 1
    row._change_reason = "refreshed: facts changed"
    return True


def _reopen(row: ExceptionEvent, would: WouldBe, rule: engine.CompiledRule, now) -> None:
    row.status = EventStatus.OPEN
    row.closed_at = None
    row.closed_by = None
    row.resolution = ""
    row.resolution_text = {}
    row.message_zh, row.message_en, row.facts_snapshot = would.message_zh, would.message_en, would.facts_snapshot
    row.last_seen_at = now
    row.sla_due_at = now + dt.timedelta(hours=rule.sla_hours)
    row.is_overdue = False
    row.dispatch_state = DispatchState.PENDING
    row.version += 1
    row._change_reason = "reopened: condition true again"


def _auto_resolve(row: ExceptionEvent, now) -> None:
    row.status = EventStatus.AUTO_RESOLVED
    row.closed_at = now
    row.closed_by = None
    row.resolution = render_stored(NO_LONGER_TRUE)
    row.resolution_text = NO_LONGER_TRUE
    row.version += 1
    row._change_reason = "auto-resolved: condition no longer true"


def _insert(new, *, user, now, result: EvaluationResult, existing: dict, logs: list) -> list[ExceptionEvent]:
    """Insert new events: one bulk insert with history; if a concurrent evaluation inserted the same
    key meanwhile, fall back to one savepoint per row and take the other's row (get-or-create)."""
    rows = [row for row, _would in new]
    try:
        with transaction.atomic():
            for row in rows:
                row.number = next_number("EX")
            return bulk_create_with_history(rows, ExceptionEvent, default_user=user)
    except IntegrityError:
        pass
    created = []
    for row, would in new:
        try:
            with transaction.atomic():
                row.pk = None
                row.number = next_number("EX")
                bulk_create_with_history([row], ExceptionEvent, default_user=user)
                created.append(row)
        except IntegrityError:
            other = ExceptionEvent.objects.get(
                rule_id=row.rule_id, source_type=row.source_type, source_id=row.source_id, detail_key=row.detail_key
            )
            existing[(other.rule_id, other.detail_key)] = other
            if other.status == EventStatus.AUTO_RESOLVED:
                _reopen(other, would, would.rule, now)
                bulk_update_with_history(
                    [other],
                    ExceptionEvent,
                    fields=[
                        "status",
                        "closed_at",
                        "closed_by",
                        "resolution",
                        "resolution_text",
                        "message_zh",
                        "message_en",
                        "facts_snapshot",
                        "last_seen_at",
                        "sla_due_at",
                        "is_overdue",
                        "dispatch_state",
                        "version",
                    ],
                    default_user=user,
                )
                result.reopened.append(other)
                logs.append(
                    EventLogEntry(
                        event=other,
                        at=now,
                        action=LogAction.REOPENED,
                        comment=render_stored(TRUE_AGAIN),
                        comment_text=TRUE_AGAIN,
                    )
                )
            else:
                result.refreshed.append(other)
    return created


# --- validation, dry run, backtest --------------------------------------------------------------------


def rule_validate(*, rule: Rule) -> None:
    """A rule may be saved only when its expressions compile, name only facts of its event, run on the
    event's sample facts (every part of the condition) and its message placeholders resolve.
    Raises ``ValidationError`` by field; each message says where (line and column, sample)."""
    problems = engine.rule_problems(
        event=rule.event,
        iterate_over=rule.iterate_over,
        condition=rule.condition,
        detail_key=rule.detail_key,
        params=rule.params,
        message_zh=rule.message_zh,
        message_en=rule.message_en,
    )
    if problems:
        raise ValidationError(problems)


def _compiled_for_dry_run(rule: Rule) -> engine.CompiledRule:
    compiled = engine.CompiledRule.from_rule(rule)
    if compiled.error:
        raise DomainError(_("The rule does not compile: %(error)s") % {"error": compiled.error}, code="rule_invalid")
    return compiled


def _dry_run(compiled: engine.CompiledRule, source, context: dict | None, now) -> list[dict]:
    facts = facts_build(event=compiled.event, source=source, context=dict(context or {}))
    outcome = engine.evaluate(compiled, engine.context_for(facts, now=now, names=compiled.names), facts)
    if outcome.error:
        raise DomainError(
            _("Rule %(code)s fails on %(source)s: %(error)s")
            % {"code": compiled.code, "source": _source_label(source), "error": outcome.error},
            code="rule_failed",
        )
    content_type = ContentType.objects.get_for_model(source)
    existing = {}
    if compiled.id:
        existing = {
            e.detail_key: e
            for e in ExceptionEvent.objects.filter(rule_id=compiled.id, source_type=content_type, source_id=source.pk)
        }
    out = []
    for hit in outcome.hits:
        would = _would_be(compiled, facts, hit, now)
        current = existing.get(hit.detail_key)
        action = (
            "raise" if current is None else ("reopen" if current.status == EventStatus.AUTO_RESOLVED else "refresh")
        )
        out.append(
            {
                "rule": compiled.code,
                "source": _source_label(source),
                "detail_key": hit.detail_key,
                "severity": compiled.severity,
                "category": compiled.category,
                "blocking": compiled.blocking,
                "message_zh": would.message_zh,
                "message_en": would.message_en,
                "facts_snapshot": would.facts_snapshot,
                "action": action,
                "existing_event": current.number if current else None,
            }
        )
    return out


def rule_dry_run(*, rule: Rule, source, context: dict | None = None) -> list[dict]:
    """What ``rule`` (saved, or a draft not saved yet) would raise on ``source`` now, as dicts with the
    messages, detail key, snapshot and whether it would raise, refresh or reopen. Writes nothing."""
    return _dry_run(_compiled_for_dry_run(rule), source, context, timezone.now())


BACKTEST_SOURCES = {TriggerEvent.ORDER_SAVED: ("orders", "SalesOrder")}


def rule_backtest(*, rule: Rule, days: int, limit: int = 5000) -> list[tuple[Any, list[dict]]]:
    """Run ``rule`` (saved or draft) on every source of its event created in the last ``days`` days
    (newest first, at most ``limit``) and list the sources it would raise events on, with them.
    Writes nothing. A source on which the rule fails is listed with one ``{"error": …}`` entry."""
    from django.apps import apps

    if rule.event not in BACKTEST_SOURCES:
        raise DomainError(
            _("Backtests are available for: %(events)s.") % {"events": ", ".join(BACKTEST_SOURCES)},
            code="backtest_unsupported",
        )
    days = max(1, int(days))
    compiled = _compiled_for_dry_run(rule)
    model = apps.get_model(*BACKTEST_SOURCES[rule.event])
    since = timezone.now() - dt.timedelta(days=days)
    now = timezone.now()
    found = []
    sources = model._default_manager.filter(created_at__gte=since).select_related().order_by("-created_at")[:limit]
    for source in sources:
        try:
            would = _dry_run(compiled, source, {"backtest": True}, now)
        except DomainError as exc:
            found.append((source, [{"error": str(exc.message)}]))
            continue
        if would:
            found.append((source, would))
    return found


def backtest_candidates(*, event: str, days: int) -> int:
    """How many sources a backtest of ``days`` days looks at (for the admin's summary line)."""
    from django.apps import apps

    if event not in BACKTEST_SOURCES:
        return 0
    model = apps.get_model(*BACKTEST_SOURCES[event])
    return model._default_manager.filter(created_at__gte=timezone.now() - dt.timedelta(days=max(1, int(days)))).count()


@transaction.atomic
def rule_save(*, rule: Rule, user, reason: str = "", route: list | None = None, validate: bool = True) -> Rule:
    """Validate and save a rule (history with user and reason); with ``route`` (departments in order)
    replace its route steps. Every process picks the change up at its next evaluation (``updated_at``
    moves). ``validate=False`` only for callers that have just run ``rule_validate`` (the admin form)."""
    if validate:
        rule_validate(rule=rule)
    rule.full_clean(exclude=["route"])
    history_stamp(rule, user=user, reason=reason)
    rule.save()
    if route is not None:
        from exceptions_center.models import RuleRouteStep

        rule.route_steps.all().delete()
        for position, department in enumerate(route, start=1):
            step = RuleRouteStep(rule=rule, department=department, position=position)
            step._history_user = rule._history_user
            step.save()
    return rule
