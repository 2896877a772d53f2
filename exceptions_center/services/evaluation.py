"""Evaluation on a business event: facts → conditions → the source's exception events synced.

``rules_evaluate`` is called by the service that saves the source (e.g. ``orders.services.order_create``)
inside its transaction, with the source row locked. Its cost is a fixed number of queries whatever the
number of lines and rules: the rules check (1, plus 1 when a rule changed), the providers' facts, the
source's existing events (1; none for a source created in this transaction), and writes only for what
changes — new events (one number each, then one bulk insert with history), refreshed or closed events
(one bulk update with history), log entries (one bulk insert), a plain ``last_seen_at`` update for the
rest (1). It returns an ``EvaluationResult``; nothing is set on the source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

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
)
from exceptions_center.services.sources import source_hold_refresh

AUTO_RESOLVE_REASON = gettext_noop("The rule's condition is no longer true.")
# The log comments and resolution the engine writes, read in the reader's language (message keys).
NO_LONGER_TRUE = stored_text(texts.CONDITION_FALSE)
TRUE_AGAIN = stored_text(texts.CONDITION_TRUE_AGAIN)

# The fields a refresh, reopening or auto-resolution changes (one bulk update with history).
SYNCED_FIELDS = [
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
]


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
    outcomes = engine.evaluate_all(rules, engine.context_for(facts, now=now, names=names), facts)
    existing = (
        {}
        if new_source
        else {
            (e.rule_id, e.detail_key): e
            for e in ExceptionEvent.objects.filter(source_type=content_type, source_id=source.pk).order_by("id")
        }
    )
    sync = _Sync(now=now, facts=facts, result=result, existing=existing)
    for outcome in outcomes:
        sync.outcome(outcome, content_type=content_type, source=source, label=_source_label(source))
    sync.resolve_the_rest(evaluated={rule.id for rule in rules})
    sync.write(user=_history_user(context))
    _side_effects_on_commit(result)

    by_id = {e.pk: e for e in existing.values()} | {e.pk: e for e in result.raised}
    result.active = [e for e in by_id.values() if e.status in ACTIVE_STATUSES]
    source_hold_refresh(source=source, active=result.active)
    return result


@dataclass
class _Sync:
    """The writes one evaluation collects before doing them in bulk: new events, changed ones, the ones
    only seen again, and their log entries."""

    now: dt.datetime
    facts: dict
    result: EvaluationResult
    existing: dict[tuple[int, str], ExceptionEvent]
    seen: set[tuple[int, str]] = field(default_factory=set)
    new: list[tuple[ExceptionEvent, WouldBe]] = field(default_factory=list)
    changed: list[ExceptionEvent] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)
    logs: list[EventLogEntry] = field(default_factory=list)
    skip_rules: set[int] = field(default_factory=set)
    uncertain: set[tuple[int, str]] = field(default_factory=set)

    def outcome(self, outcome: engine.Outcome, *, content_type, source, label: str) -> None:
        """One rule's hits: raise, reopen or refresh; a failed rule's undecided keys are left alone."""
        rule = outcome.rule
        if outcome.error:
            self.result.errors[rule.code] = outcome.error
            if None in outcome.uncertain:
                self.skip_rules.add(rule.id)
            self.uncertain |= {(rule.id, key) for key in outcome.uncertain if key is not None}
        for hit in outcome.hits:
            key = (rule.id, hit.detail_key)
            if key in self.seen:  # two items with the same detail key: one event
                continue
            self.seen.add(key)
            would = _would_be(rule, self.facts, hit, self.now)
            row = self.existing.get(key)
            if row is None:
                self.new.append((_new_event(rule, would, content_type, source, label, self.now), would))
            elif row.status == EventStatus.AUTO_RESOLVED:
                self._reopened(row, would, rule, hit)
            else:
                self._seen_again(row, would, rule)

    def _reopened(self, row: ExceptionEvent, would: WouldBe, rule: engine.CompiledRule, hit: engine.Hit) -> None:
        _reopen(row, would, rule, self.now)
        self.changed.append(row)
        self.result.reopened.append(row)
        self.logs.append(
            EventLogEntry(
                event=row,
                at=self.now,
                action=LogAction.REOPENED,
                comment=render_stored(TRUE_AGAIN),
                comment_text=TRUE_AGAIN,
                data={"rule": rule.code, "detail_key": hit.detail_key},
            )
        )

    def _seen_again(self, row: ExceptionEvent, would: WouldBe, rule: engine.CompiledRule) -> None:
        if _refresh(row, would, self.now):
            self.changed.append(row)
            self.logs.append(
                EventLogEntry(
                    event=row,
                    at=self.now,
                    action=LogAction.REFRESHED,
                    comment=row.message_en,
                    comment_text=stored_text(texts.EVENT_MESSAGE, message=both(row.message_zh, row.message_en)),
                    data={"rule": rule.code},
                )
            )
        else:
            self.touched.append(row.pk)
        self.result.refreshed.append(row)

    def resolve_the_rest(self, *, evaluated: set[int]) -> None:
        """Active events of the evaluated rules that no hit confirmed are auto-resolved (not those of a
        rule or key that could not be decided)."""
        evaluated = evaluated - self.skip_rules
        for key, row in self.existing.items():
            if (
                key in self.seen
                or key in self.uncertain
                or key[0] not in evaluated
                or row.status not in ACTIVE_STATUSES
            ):
                continue
            _auto_resolve(row, self.now)
            self.changed.append(row)
            self.result.resolved.append(row)
            self.logs.append(
                EventLogEntry(
                    event=row,
                    at=self.now,
                    action=LogAction.AUTO_RESOLVED,
                    comment=render_stored(NO_LONGER_TRUE),
                    comment_text=NO_LONGER_TRUE,
                    data={"reason": "condition_false"},
                )
            )

    def write(self, *, user) -> None:
        """The collected writes, in bulk: last-seen, changed events, new events, log entries."""
        if self.touched:
            ExceptionEvent.objects.filter(pk__in=self.touched).update(last_seen_at=self.now)
        if self.changed:
            bulk_update_with_history(self.changed, ExceptionEvent, fields=SYNCED_FIELDS, default_user=user)
        if self.new:
            raised = _insert(
                self.new, user=user, now=self.now, result=self.result, existing=self.existing, logs=self.logs
            )
            self.result.raised = raised
            self.logs.extend(
                EventLogEntry(
                    event=row,
                    at=self.now,
                    action=LogAction.RAISED,
                    # The message lives on the event in both languages; the page shows the reader's one.
                    data={"rule": row.rule_code_cache, "detail_key": row.detail_key},
                )
                for row in raised
            )
        if self.logs:
            EventLogEntry.objects.bulk_create(self.logs)


def _side_effects_on_commit(result: EvaluationResult) -> None:
    """Routing of raised and reopened events, cancelling the open work of resolved ones (on commit)."""
    handling = _handling()
    for event_row in (*result.raised, *result.reopened):
        handling.exception_event_route_on_commit(event=event_row)
    for event_row in result.resolved:
        handling.exception_event_cancel_open_work(event=event_row, reason=NO_LONGER_TRUE)


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
                    fields=SYNCED_FIELDS,
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
