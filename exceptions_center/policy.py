"""Who decides what in the exception center (segregation of duties, docs/controls.md).

The checkers registered here answer ``erp.kernel.policy.decide`` for events, their tasks and approval
steps, rules, departments and delegations. The rules they hold:

- **The owning department decides.** Each rule has an owning department (``Rule.owner_department``,
  else compliance → compliance, quality → quality, business → sales management, logistics → logistics).
  Only its members (or its managers, or a dated delegate) resolve, waive or reopen the rule's events;
  for compliance and quality always with the electronic signature. The other departments on the route
  complete their own task or decide their own approval step; they never close the case.
- **Nobody decides their own case.** The people who own the source document (for an order: its creator,
  its sales rep and the customer's sales rep, given by the ``source_owners`` port) may comment and
  contribute, but never resolve, waive or approve, nor complete the owning department's task or the
  last open task.
- **Maker-checker.** One person approves at most one step of a chain; a task or a step is decided only
  by a member of its department.
- **Administrators** act on behalf of a named person with a reason (``erp.kernel.policy``), never sign
  for them.
- **Rules** (and their routes and SLA) are changed by compliance officers and administrators; disabling
  a shipped compliance rule needs a signature. Departments (who heads them) and role grants are changed
  by administrators only. Delegations are created by compliance, administrators or the department's
  managers.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.kernel import policy
from erp.kernel.auth_backends import user_group_names
from erp.kernel.policy import Decision, allow, is_admin, refuse
from erp.kernel.ports import Port
from exceptions_center.models import (
    DEFAULT_OWNER_BY_CATEGORY,
    ApprovalStep,
    Category,
    Delegation,
    Department,
    ExceptionEvent,
    HandlingTask,
    Rule,
    StepStatus,
    TaskStatus,
)

source_owners = Port(
    "exceptions_center.source_owners",
    keyed=True,
    doc="The ids of the users who own a source document (key: model label such as 'orders.salesorder'; "
    "called with the source id). They may not decide the exceptions raised on it.",
)

COMPLIANCE_GROUP = "compliance"
SIGNED_CATEGORIES = (Category.COMPLIANCE, Category.QUALITY)

EVENT = "exceptions_center.exceptionevent"
TASK = "exceptions_center.handlingtask"
STEP = "exceptions_center.approvalstep"
RULE = "exceptions_center.rule"
DEPARTMENT = "exceptions_center.department"
DELEGATION = "exceptions_center.delegation"


# --- facts about people ----------------------------------------------------------------------------------


def active_delegations(user, *, today=None) -> dict[int, Delegation]:
    """The delegations ``user`` holds today, by department id."""
    cached = getattr(user, "_policy_delegations", None)
    if cached is None or today is not None:
        today = today or timezone.localdate()
        cached = {
            d.department_id: d
            for d in Delegation.objects.select_related("delegator").filter(
                delegate=user, valid_from__lte=today, valid_until__gte=today
            )
        }
        user._policy_delegations = cached
    return cached


def member_department_ids(user) -> set[int]:
    """The departments the user belongs to in their own right: through its group, or as its manager."""
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_exceptions_department_ids", None)
    if cached is None:
        cached = set(
            Department.objects.filter(Q(group__user=user) | Q(managers=user)).values_list("pk", flat=True).distinct()
        )
        user._exceptions_department_ids = cached
    return cached


def standing(user, department_ids) -> Decision:
    """May ``user`` act for one of these departments: as a member or manager, or as a dated delegate?
    While a delegation to the user for that department runs, they act under it: the decision carries the
    delegation and its delegator, so the log and the signature say on whose behalf (and maker-checker
    counts the delegator's approvals as theirs)."""
    department_ids = set(department_ids)
    delegations = active_delegations(user)
    for department_id in sorted(department_ids):
        if department_id in delegations:
            delegation = delegations[department_id]
            return allow(delegation=delegation, acting_for=delegation.delegator)
    if member_department_ids(user) & department_ids:
        return allow()
    return refuse(_refusal(user, department_ids))


def _department_names(department_ids) -> str:
    return ", ".join(str(d) for d in Department.objects.filter(pk__in=list(department_ids)))


def _refusal(user, department_ids):
    message = _("Only members of %(departments)s, their managers or a delegate may do this.") % {
        "departments": _department_names(department_ids)
    }
    if is_admin(user):
        return _("%(message)s Administrators act on behalf of one of them, with a reason.") % {"message": message}
    return message


# --- facts about events ----------------------------------------------------------------------------------


def route_departments(rule) -> list[Department]:
    """The rule's route in order, or the owning department when it names none."""
    steps = list(rule.route_steps.select_related("department").order_by("position"))
    if steps:
        return [step.department for step in steps]
    return list(Department.objects.filter(code=rule.owner_department_code))


def owner_department_id(rule) -> int | None:
    if rule.owner_department_id:
        return rule.owner_department_id
    code = DEFAULT_OWNER_BY_CATEGORY.get(rule.category, "sales_management")
    return Department.objects.filter(code=code).values_list("pk", flat=True).first()


def event_department_ids(event: ExceptionEvent) -> set[int]:
    """Departments concerned by the event: its owner, its route, its tasks and its approval steps."""
    ids = {d.pk for d in route_departments(event.rule)}
    ids |= set(event.tasks.values_list("department_id", flat=True))
    ids |= set(event.steps.values_list("department_id", flat=True))
    owner = owner_department_id(event.rule)
    if owner:
        ids.add(owner)
    return ids


def event_source_owner_ids(event: ExceptionEvent) -> set[int]:
    """The users who own the event's source document (its creator, its sales rep…), from ``source_owners``."""
    cached = getattr(event, "_policy_source_owners", None)
    if cached is None:
        label = f"{event.source_type.app_label}.{event.source_type.model}"
        cached = set()
        for owners in source_owners.call_all(event.source_id, key=label):
            cached |= {pk for pk in owners if pk}
        event._policy_source_owners = cached
    return cached


def _owns_source(user, event) -> bool:
    return user.pk in event_source_owner_ids(event)


OWN_CASE = _("You own the document this exception is about; someone else must decide it.")


# --- checkers: events ------------------------------------------------------------------------------------


def may_work_on_event(user, event: ExceptionEvent) -> Decision:
    """Take, assign: a member (manager, delegate) of one of the event's departments."""
    return standing(user, event_department_ids(event))


def may_contribute_to_event(user, event: ExceptionEvent) -> Decision:
    """Comment, attach: the event's departments, and the owners of the source (they bring the facts)."""
    decision = standing(user, event_department_ids(event))
    if decision.allowed or _owns_source(user, event):
        return decision if decision.allowed else allow()
    return decision


def _may_decide(user, event: ExceptionEvent, *, signature: bool) -> Decision:
    owner = owner_department_id(event.rule)
    decision = standing(user, [owner] if owner else [])
    if not decision.allowed:
        return decision
    if _owns_source(user, event):
        return refuse(OWN_CASE)
    needs = signature and event.category in SIGNED_CATEGORIES
    return Decision(True, "", needs, decision.acting_for, decision.delegation)


def may_resolve(user, event: ExceptionEvent) -> Decision:
    """Resolve: the owning department, not an owner of the source; compliance and quality signed."""
    return _may_decide(user, event, signature=True)


def may_waive(user, event: ExceptionEvent) -> Decision:
    """Waive: as resolve."""
    return _may_decide(user, event, signature=True)


def may_reopen(user, event: ExceptionEvent) -> Decision:
    """Reopen: the owning department (no signature: reopening holds the order again, it decides nothing)."""
    owner = owner_department_id(event.rule)
    return standing(user, [owner] if owner else [])


# --- checkers: tasks and steps ---------------------------------------------------------------------------


def may_complete_task(user, task: HandlingTask) -> Decision:
    """A member (manager, delegate) of the task's department. An owner of the source may complete a
    contributing task, but not the owning department's task, nor the last open one (which closes the
    event)."""
    decision = standing(user, [task.department_id])
    if not decision.allowed:
        return decision
    event = task.event
    if _owns_source(user, event):
        last = not event.tasks.filter(status=TaskStatus.OPEN).exclude(pk=task.pk).exists()
        if task.department_id == owner_department_id(event.rule) or last:
            return refuse(OWN_CASE)
    return decision


def _approved_elsewhere(user, step: ApprovalStep) -> bool:
    return (
        ApprovalStep.objects.filter(event_id=step.event_id, status=StepStatus.APPROVED)
        .exclude(pk=step.pk)
        .filter(Q(decided_by=user) | Q(decided_for=user))
        .exists()
    )


def may_approve_step(user, step: ApprovalStep) -> Decision:
    """A member of the step's department, not an owner of the source, who approved no other step of
    this chain (maker-checker)."""
    decision = standing(user, [step.department_id])
    if not decision.allowed:
        return decision
    if _owns_source(user, step.event):
        return refuse(OWN_CASE)
    if _approved_elsewhere(user, step) or (decision.acting_for and _approved_elsewhere(decision.acting_for, step)):
        return refuse(_("You already approved another step of this chain; one person approves one step."))
    return decision


def may_reject_step(user, step: ApprovalStep) -> Decision:
    """A member of the step's department (rejecting keeps the order held: no one's own case to protect)."""
    return standing(user, [step.department_id])


# --- checkers: configuration -----------------------------------------------------------------------------

CONFIG_ONLY = _("Only compliance officers and administrators may change the rules.")


def _compliance_or_admin(user) -> bool:
    return is_admin(user) or COMPLIANCE_GROUP in user_group_names(user)


def may_change_rule(user, rule: Rule) -> Decision:
    """Create or change a rule, its route and SLA: compliance officers and administrators."""
    return allow() if _compliance_or_admin(user) else refuse(CONFIG_ONLY)


def may_disable_rule(user, rule: Rule) -> Decision:
    """Disable a rule: as change; a shipped compliance rule only with a signature."""
    if not _compliance_or_admin(user):
        return refuse(CONFIG_ONLY)
    return allow(needs_signature=rule.is_shipped_compliance_rule)


def may_change_department(user, department: Department) -> Decision:
    """Who heads a department is a role grant: administrators only."""
    return allow() if is_admin(user) else refuse(_("Only administrators may change departments and roles."))


def may_create_delegation(user, delegation: Delegation) -> Decision:
    """Compliance officers, administrators, or a manager of the delegation's department."""
    if _compliance_or_admin(user):
        return allow()
    if delegation.department_id and Department.objects.filter(pk=delegation.department_id, managers=user).exists():
        return allow()
    return refuse(_("Only compliance officers, administrators or the department's managers may record a delegation."))


CHECKERS = {
    EVENT: {
        "take": may_work_on_event,
        "assign": may_work_on_event,
        "comment": may_contribute_to_event,
        "attach": may_contribute_to_event,
        "resolve": may_resolve,
        "waive": may_waive,
        "reopen": may_reopen,
    },
    TASK: {"complete_task": may_complete_task},
    STEP: {"approve_step": may_approve_step, "reject_step": may_reject_step},
    RULE: {"create": may_change_rule, "change": may_change_rule, "disable": may_disable_rule},
    DEPARTMENT: {"change": may_change_department},
    DELEGATION: {"create": may_create_delegation},
}


def register() -> None:
    """Plug the checkers into the one policy (``ExceptionsCenterConfig.ready``)."""
    for label, by_action in CHECKERS.items():
        for action, checker in by_action.items():
            policy.register(label, action, checker, app="exceptions_center")
