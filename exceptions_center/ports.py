"""The ports of the exception center: how a generic engine (rules, events, routing, tasks) reaches the
domain apps above it without importing them. Each domain app plugs its part in from its
``AppConfig.ready()``; ``manage.py erp_ports`` lists who plugged in what.

- ``trigger_sources`` (keyed by trigger event, one per event): the objects a trigger's rules run on
  (dry runs find one by its number, backtests read the recent ones, re-evaluation the open ones).
- ``hold_refreshers`` (keyed by model label, one per model): recompute a source's hold after an event
  on it opened or closed.
- ``fact_value_labels``: readable labels of coded fact values (``status: "draft"`` → 草稿) for the
  facts card of the event page.
- ``source_pages`` (keyed by model label, one per model): the URL name of a source's page, for models
  whose page is not ``<app>:<model>_detail``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import QuerySet

from erp.kernel.access import restrict
from erp.kernel.ports import Port

trigger_sources = Port(
    "exceptions_center.trigger_sources",
    keyed=True,
    single=True,
    doc="Per trigger event, a TriggerSources: the model the trigger's rules run on, how a person names one "
    "(rule dry runs), the recent ones (backtests) and the open ones (rule re-evaluation).",
)
hold_refreshers = Port(
    "exceptions_center.hold_refreshers",
    keyed=True,
    single=True,
    doc="Per source model label, refresher(source=, active=None): recompute the source's hold after an "
    "exception event on it opened or closed (inside the event's transaction).",
)
fact_value_labels = Port(
    "exceptions_center.fact_value_labels",
    doc="labels() -> {fact name: {coded value: label}}: readable coded values on the event page's facts card.",
)
source_pages = Port(
    "exceptions_center.source_pages",
    keyed=True,
    single=True,
    doc="Per source model label, the URL name of its page (taking pk=) when it is not <app>:<model>_detail.",
)


@dataclass(frozen=True)
class TriggerSources:
    """The sources of one trigger event: ``model`` (``"orders.salesorder"``), found by ``number_field``
    or by id, newest first by ``created_field``; ``open_filter`` (lookups) keeps those still open, whose
    events a rule change may still raise or resolve."""

    model: str
    number_field: str = "number"
    created_field: str = "created_at"
    open_filter: tuple[tuple[str, Any], ...] = ()

    def queryset(self) -> QuerySet:
        return apps.get_model(self.model)._default_manager.all()

    def visible_to(self, user) -> QuerySet:
        """Every source ``user`` may see (the row scope)."""
        return restrict(self.queryset(), user, "view")

    def find(self, *, user, key: str, by_id: bool = True) -> Any | None:
        """The source numbered ``key`` (or, with ``by_id``, whose id it is) that ``user`` may see."""
        key = (key or "").strip()
        if not key:
            return None
        visible = self.visible_to(user)
        found = visible.filter(**{self.number_field: key}).first()
        if found is None and by_id and key.isdigit():
            found = visible.filter(pk=int(key)).first()
        return found

    def open(self) -> QuerySet:
        """Every source still open (all of them when the app declared no ``open_filter``)."""
        return self.queryset().filter(**dict(self.open_filter))

    def created_since(self, since: datetime) -> QuerySet:
        """Every source created since ``since``, newest first (backtests; not row-scoped: rule authors
        test against the whole book)."""
        return self.queryset().filter(**{f"{self.created_field}__gte": since}).order_by(f"-{self.created_field}")
