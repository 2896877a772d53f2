"""Rules: validation before save, dry run, backtest, save (and re-evaluation of open documents after a
change, see ``reevaluation``). Evaluation on a business event lives in ``evaluation`` and is re-exported
here (``rules_evaluate``, ``EvaluationResult``) so callers keep importing it from this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.kernel import policy
from erp.kernel.errors import DomainError
from erp.kernel.history import history_stamp
from erp.signatures import signature_create
from exceptions_center import engine
from exceptions_center.facts_registry import facts_build
from exceptions_center.models import EventStatus, ExceptionEvent, Rule
from exceptions_center.ports import trigger_sources
from exceptions_center.services import reevaluation
from exceptions_center.services.evaluation import (
    AUTO_RESOLVE_REASON,
    EvaluationResult,
    WouldBe,
    _source_label,
    _would_be,
    rules_evaluate,
)

__all__ = [
    "AUTO_RESOLVE_REASON",
    "EvaluationResult",
    "WouldBe",
    "backtest_candidates",
    "rule_backtest",
    "rule_dry_run",
    "rule_save",
    "rule_validate",
    "rules_evaluate",
]


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


def rule_backtest(*, rule: Rule, days: int, limit: int = 5000) -> list[tuple[Any, list[dict]]]:
    """Run ``rule`` (saved or draft) on every source of its event created in the last ``days`` days
    (newest first, at most ``limit``) and list the sources it would raise events on, with them.
    Writes nothing. A source on which the rule fails is listed with one ``{"error": …}`` entry. The
    sources are those the app plugged into ``exceptions_center.trigger_sources`` for the event."""
    provider = trigger_sources.get(rule.event)
    if provider is None:
        raise DomainError(
            _("Backtests are available for: %(events)s.") % {"events": ", ".join(trigger_sources.keys())},
            code="backtest_unsupported",
        )
    days = max(1, int(days))
    compiled = _compiled_for_dry_run(rule)
    since = timezone.now() - dt.timedelta(days=days)
    now = timezone.now()
    found = []
    sources = provider.created_since(since).select_related()[:limit]
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
    provider = trigger_sources.get(event)
    if provider is None:
        return 0
    return provider.created_since(timezone.now() - dt.timedelta(days=max(1, int(days)))).count()


@transaction.atomic
def rule_save(
    *,
    rule: Rule,
    user,
    reason: str = "",
    route: list | None = None,
    validate: bool = True,
    password: str = "",
    meaning: str = "",
) -> Rule:
    """Validate and save a rule (history with user and reason); with ``route`` (departments in order)
    replace its route steps. Every process picks the change up at its next evaluation (``updated_at``
    moves); when the rule was enabled or changed, its event's open documents are re-evaluated in the
    background (queued on commit, see ``reevaluation``). ``validate=False`` only for callers that have
    just run ``rule_validate`` (the admin form). A person's change is checked by ``rule_change_authorise``
    first (``user=None``: the system's own loads, e.g. data migrations and tests' fixtures)."""
    action = rule_change_action(rule)
    if user is not None:
        policy.require(user, action, rule)
    if validate:
        rule_validate(rule=rule)
    rule.full_clean(exclude=["route"])
    if user is not None:
        rule_change_authorise(rule=rule, user=user, reason=reason, password=password, meaning=meaning, action=action)
    before = reevaluation.rule_state(rule)
    history_stamp(rule, user=user, reason=reason)
    rule.save()
    if route is not None:
        from exceptions_center.models import RuleRouteStep

        rule.route_steps.all().delete()
        for position, department in enumerate(route, start=1):
            step = RuleRouteStep(rule=rule, department=department, position=position)
            step._history_user = rule._history_user
            step.save()
    reevaluation.rule_reevaluation_queue(rule=rule, before=before, user=user)
    return rule


# --- who may change a rule (segregation of duties, exceptions_center.policy) ----------------------------

RULE_SIGNATURE_MEANINGS = ("approval", "responsibility")


def rule_change_action(rule: Rule) -> str:
    """The policy action a save of ``rule`` is: ``create``, ``disable`` (an enabled rule switched off) or
    ``change``."""
    if rule.pk is None:
        return "create"
    was_enabled = Rule.objects.filter(pk=rule.pk).values_list("enabled", flat=True).first()
    return "disable" if was_enabled and not rule.enabled else "change"


def rule_change_authorise(
    *, rule: Rule, user, reason: str, password: str = "", meaning: str = "", action: str | None = None
) -> None:
    """Rules, their routes and SLA change only by compliance officers and administrators (403 otherwise),
    always with a reason (it goes into the history); disabling a shipped compliance rule also needs the
    user's electronic signature (password re-entered and a meaning), stored on the rule as it is now.
    Refuses before anything is written."""
    action = action or rule_change_action(rule)
    decision = policy.require(user, action, rule)
    if not (reason or "").strip():
        raise DomainError.on_field("reason", _("Say why you change this rule; auditors read it in the history."))
    if decision.needs_signature:
        if meaning not in RULE_SIGNATURE_MEANINGS:
            message = _("Choose the meaning of your signature.")
            raise DomainError(message, code="signature_invalid", fields={"meaning": [message]})
        stored = Rule.objects.get(pk=rule.pk)
        signature_create(user=user, password=password, meaning=meaning, record=stored, reason=reason, acting_user=user)
