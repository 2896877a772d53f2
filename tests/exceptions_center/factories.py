"""Factories for rules and exception events. Events are normally raised by the rules engine; these build
them directly (on a master-data party as source, which holds nothing) to test handling on its own."""

from __future__ import annotations

import factory
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from erp.kernel.numbering import next_number
from exceptions_center.models import Category, Department, ExceptionEvent, Rule, RuleRouteStep, Severity
from tests.masterdata.factories import PartyFactory


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    code = factory.Sequence(lambda n: f"TEST_RULE_{n:05d}")  # zero-padded: rules are ordered by code
    name_zh = factory.Sequence(lambda n: f"测试规则{n}")
    name_en = factory.Sequence(lambda n: f"Test rule {n}")
    category = Category.BUSINESS
    event = "order.saved"
    condition = "true"
    message_zh = "测试异常"
    message_en = "Test exception"
    severity = Severity.HIGH
    blocking = True
    sla_hours = 24


def rule_with_route(*department_codes: str, **kwargs) -> Rule:
    rule = RuleFactory(**kwargs)
    for position, code in enumerate(department_codes, start=1):
        RuleRouteStep.objects.create(rule=rule, department=Department.objects.get(code=code), position=position)
    return rule


def event_for(rule: Rule, source=None, **kwargs) -> ExceptionEvent:
    """An open event of ``rule`` on ``source`` (a new party when not given), not yet routed."""
    source = source or PartyFactory()
    with transaction.atomic():
        return ExceptionEvent.objects.create(
            number=next_number("EX"),
            rule=rule,
            category=kwargs.pop("category", rule.category),
            severity=kwargs.pop("severity", rule.severity),
            blocking=kwargs.pop("blocking", rule.blocking),
            source_type=ContentType.objects.get_for_model(source),
            source_id=source.pk,
            source_label=kwargs.pop("source_label", getattr(source, "number", None) or getattr(source, "code", "")),
            message_zh=rule.message_zh,
            message_en=rule.message_en,
            facts_snapshot=kwargs.pop("facts_snapshot", {}),
            **kwargs,
        )
