"""Delegations: holiday cover within a department, dated and with a reason (docs/controls.md).

A delegate acts with the delegator's standing in that department from ``valid_from`` to ``valid_until``;
what they do is logged, and signed, as "on behalf of the delegator under delegation D-n".
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from erp.kernel import policy
from erp.kernel.errors import DomainError
from erp.kernel.history import history_stamp
from exceptions_center import policy as sod
from exceptions_center.models import Delegation


def delegation_validate(*, user, department, delegator, delegate, valid_from, valid_until, reason) -> None:
    """Refuse (403) a user the policy does not let record it, then (400, on the field) a delegation that is
    undated or backwards, to oneself, without a reason, or between people who are not both members of
    the department."""
    if department is None:
        raise DomainError.on_field("department", _("Choose the department."))
    policy.require(user, "create", Delegation(department=department))
    if not (reason or "").strip():
        raise DomainError.on_field("reason", _("Say why the delegation is needed."))
    if not valid_from or not valid_until:
        raise DomainError.on_field("valid_until", _("Give the first and the last day of the delegation."))
    if valid_until < valid_from:
        raise DomainError.on_field("valid_until", _("The last day comes before the first day."))
    if delegator is None or delegate is None:
        raise DomainError.on_field("delegate", _("Name who delegates and to whom."))
    if delegator.pk == delegate.pk:
        raise DomainError.on_field("delegate", _("Nobody delegates to themself."))
    for field, person in (("delegator", delegator), ("delegate", delegate)):
        if not person.is_active or department.pk not in sod.member_department_ids(person):
            raise DomainError.on_field(
                field,
                _("%(user)s is not a member of %(department)s.")
                % {"user": person.get_username(), "department": department},
            )


def delegation_create(*, user, department, delegator, delegate, valid_from, valid_until, reason) -> Delegation:
    """Record a delegation (checked by ``delegation_validate``), with its history row."""
    delegation_validate(
        user=user,
        department=department,
        delegator=delegator,
        delegate=delegate,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason,
    )
    with transaction.atomic():
        delegation = Delegation(
            department=department,
            delegator=delegator,
            delegate=delegate,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason.strip(),
            created_by=user,
        )
        history_stamp(delegation, user=user, reason=reason)
        delegation.save()
        return delegation
