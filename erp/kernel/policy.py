"""The one permission policy: "may this user do this action on this object?" (docs/controls.md).

Generic and domain-free. Apps register a *checker* per (model label, action) from their
``AppConfig.ready()``; the UI (which buttons to show), the API, the admin and the services all ask
``decide`` / ``require``, and the services ask again inside their transaction, so no entry point can skip
it::

    # exceptions_center/apps.py
    policy.register("exceptions_center.exceptionevent", "waive", checks.waive, app="exceptions_center")

    # anywhere
    decision = policy.decide(user, "waive", event)   # Decision(allowed, reason, needs_signature, ...)
    policy.require(user, "waive", event)            # raises PermissionDenied (403) with the reason

A checker is ``checker(user, obj) -> Decision`` and is only called for an active, authenticated user.

**Administrators are not a back door.** An administrator who is not entitled in their own right acts
*on behalf of* a named person (``on_behalf_of``): the decision is that person's, the action is recorded
as the administrator's with that person and a reason, and an action that needs an electronic signature
is refused, because nobody signs for someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from erp.kernel.auth_backends import user_group_names
from erp.kernel.errors import PermissionDenied
from erp.kernel.ports import Port

checkers = Port(
    "kernel.policy",
    keyed=True,
    single=True,
    doc="Who may do what: one checker per '<model label>:<action>' (e.g. 'exceptions_center.exceptionevent:waive').",
)

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Decision:
    """The policy's answer. ``reason`` says why (translated, for people); ``needs_signature``: the action
    is allowed only with the user's electronic signature; ``acting_for``: the person an administrator
    acts for; ``delegation``: the delegation record the user acts under (its delegator in ``acting_for``)."""

    allowed: bool
    reason: Any = ""
    needs_signature: bool = False
    acting_for: Any = None
    delegation: Any = None

    def __bool__(self) -> bool:
        return self.allowed


def allow(*, needs_signature: bool = False, acting_for=None, delegation=None) -> Decision:
    return Decision(True, "", needs_signature, acting_for, delegation)


def refuse(reason: Any) -> Decision:
    return Decision(False, reason)


def key(model_label: str, action: str) -> str:
    return f"{model_label.lower()}:{action}"


def register(model_label: str, action: str, checker, *, app: str) -> None:
    """Plug the checker that answers ``action`` on objects of ``model_label`` (``app_label.modelname``)."""
    checkers.register(checker, app=app, key=key(model_label, action))


def actions(model_label: str | None = None) -> list[tuple[str, str]]:
    """Every (model label, action) the policy answers, in registration order: the matrix tests walk them."""
    pairs = [tuple(k.split(":", 1)) for k in checkers.keys()]  # noqa: SIM118 (a Port, not a dict)
    return [(label, action) for label, action in pairs if model_label is None or label == model_label.lower()]


def is_admin(user) -> bool:
    """Superusers and members of the ``admin`` role."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or ADMIN_GROUP in user_group_names(user)


def decide(user, action: str, obj, *, on_behalf_of=None) -> Decision:
    """May ``user`` do ``action`` on ``obj`` (a model instance; an unsaved one for "create")?

    With ``on_behalf_of`` (administrators only, never themselves) the question is asked for that person,
    and an action that needs a signature is refused.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return refuse(_("Sign in to do this."))
    checker = checkers.get(key(obj._meta.label_lower, action))
    if checker is None:
        return refuse(_("This action is not allowed here."))
    if on_behalf_of is None:
        return checker(user, obj)
    if not is_admin(user):
        return refuse(_("Only an administrator may act on behalf of someone else."))
    if on_behalf_of.pk == user.pk or not on_behalf_of.is_active:
        return refuse(_("Name the active person you act for."))
    decision = checker(on_behalf_of, obj)
    if not decision.allowed:
        return decision
    if decision.needs_signature:
        return refuse(
            _("This decision needs the electronic signature of the person who takes it; nobody signs for someone else.")
        )
    return replace(decision, acting_for=on_behalf_of, delegation=None)


def require(user, action: str, obj, *, on_behalf_of=None) -> Decision:
    """``decide``, raising ``PermissionDenied`` (403, the decision's reason) when refused."""
    decision = decide(user, action, obj, on_behalf_of=on_behalf_of)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    return decision
