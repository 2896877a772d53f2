"""Reads for the auditor history report: every model that keeps simple-history, filtered, with field diffs.

Models are discovered from the app registry (any model with ``history = HistoricalRecords()``), so a
new app's models appear in the report without touching this file. History rows are only read here:
nothing in the project edits or deletes them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from simple_history.utils import get_history_model_for_model

from erp.kernel.people import person_name

# Fields that say which object a history row is about; searched by the "object" filter.
CODE_FIELD_NAMES = ("code", "sku", "number", "udi_di", "lot_number", "serial_number", "licence_number")
NAME_FIELD_NAMES = ("name", "name_zh", "name_en", "title")
CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "—"


@dataclass(frozen=True)
class FieldChange:
    """One field of one history row: its label and the old and new values as people read them."""

    name: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    """One change of one object: when, who, how (+ created, ~ changed, - deleted), why, and what changed."""

    model_key: str
    model_label: str
    history_id: int
    object_id: Any
    object_label: str
    when: dt.datetime
    user_label: str
    change_type: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def change_type_name(self) -> str:
        return CHANGE_TYPES.get(self.change_type, "changed")


def model_key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def history_models() -> list[type[models.Model]]:
    """Every installed model that keeps a simple-history trail, in app and model order."""
    found = [
        model
        for model in apps.get_models()
        if hasattr(model._meta, "simple_history_manager_attribute") and not hasattr(model, "instance_type")
    ]
    return sorted(found, key=lambda m: (m._meta.app_label, m._meta.model_name))


def history_model_choices() -> list[tuple[str, str]]:
    """(key, label) for the model filter, labelled in the current language."""
    return [
        (
            model_key(model),
            f"{capfirst(apps.get_app_config(model._meta.app_label).verbose_name)} · "
            f"{capfirst(model._meta.verbose_name_plural)}",
        )
        for model in history_models()
    ]


def _model_for_key(key: str) -> type[models.Model] | None:
    return next((model for model in history_models() if model_key(model) == key), None)


def _lookup_fields(model: type[models.Model]) -> list[str]:
    declared = getattr(model, "AUDIT_LOOKUP_FIELDS", None)
    if declared:
        return list(declared)
    names = {f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField)}
    return [n for n in (*CODE_FIELD_NAMES, *NAME_FIELD_NAMES) if n in names]


def _user_ids_matching(text: str):
    user_model = get_user_model()
    query = Q(username__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
    return user_model.objects.filter(query).values("pk")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _filtered_history(
    model: type[models.Model],
    *,
    object_query: str,
    user_query: str,
    date_from: dt.date | None,
    date_to: dt.date | None,
    change_type: str,
) -> models.QuerySet | None:
    """The model's history rows matching the filters, or None when the object filter cannot apply."""
    history = get_history_model_for_model(model)
    rows = history.objects.all()
    pk_name = model._meta.pk.attname
    if object_query:
        fields = _lookup_fields(model)
        if not fields:
            return None
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": object_query})
        # Every row of an object that ever matched, so a renamed object keeps its whole trail.
        rows = rows.filter(**{f"{pk_name}__in": history.objects.filter(match).values(pk_name)})
    if user_query:
        rows = rows.filter(history_user_id__in=_user_ids_matching(user_query))
    if date_from:
        rows = rows.filter(history_date__gte=_day_start(date_from))
    if date_to:
        rows = rows.filter(history_date__lt=_day_start(date_to + dt.timedelta(days=1)))
    if change_type in CHANGE_TYPES:
        rows = rows.filter(history_type=change_type)
    return rows


def history_search(
    *,
    model: str = "",
    object_query: str = "",
    user_query: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    change_type: str = "",
) -> models.QuerySet:
    """Keys ``(model key, history id, history date)`` of the matching changes, newest first.

    One SQL statement over every history table (UNION ALL), so it can be counted and paginated;
    load the page's rows with :func:`history_entries`.
    """
    from django.db import connection

    # A model whose migration has not run yet has no history table: leave it out rather than fail.
    tables = set(connection.introspection.table_names())
    targets = [
        m
        for m in history_models()
        if (not model or model_key(m) == model) and get_history_model_for_model(m)._meta.db_table in tables
    ]
    parts = []
    for target in targets:
        rows = _filtered_history(
            target,
            object_query=object_query.strip(),
            user_query=user_query.strip(),
            date_from=date_from,
            date_to=date_to,
            change_type=change_type,
        )
        if rows is None:
            continue
        parts.append(
            rows.order_by()
            .annotate(
                audit_model=Value(model_key(target), output_field=models.CharField()),
                audit_id=F("history_id"),
                audit_date=F("history_date"),
            )
            .values_list("audit_model", "audit_id", "audit_date")
        )
    if not parts:
        from django.contrib.auth.models import Group

        # An empty result with the same shape, so callers can still count and slice.
        return (
            Group.objects.none()
            .annotate(
                audit_model=Value("", output_field=models.CharField()),
                audit_id=F("pk"),
                audit_date=Value(None, output_field=models.DateTimeField()),
            )
            .values_list("audit_model", "audit_id", "audit_date")
        )
    query = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    return query.order_by("-audit_date", "-audit_id")


# --- Turning history rows into readable entries ------------------------------------------------------


def _diff_fields(model: type[models.Model]) -> list[models.Field]:
    """Fields worth showing in a diff: editable, tracked, and not automatic timestamps."""
    history = get_history_model_for_model(model)
    return [
        f
        for f in history.tracked_fields
        if f.editable
        and not f.primary_key
        and not getattr(f, "auto_now", False)
        and not getattr(f, "auto_now_add", False)
    ]


class _Formatter:
    """Formats raw field values; related objects are fetched in one query per related model."""

    def __init__(self) -> None:
        self._wanted: dict[type[models.Model], set] = defaultdict(set)
        self._loaded: dict[type[models.Model], dict] = {}

    def want(self, field_obj: models.Field, value: Any) -> None:
        model = field_obj.related_model
        if field_obj.is_relation and value is not None and model is not None:
            self._wanted[model].add(value)

    def load(self) -> None:
        for model, pks in self._wanted.items():
            self._loaded[model] = model._default_manager.in_bulk(list(pks))

    def __call__(self, field_obj: models.Field, value: Any) -> str:
        if value is None or value == "":
            return EMPTY
        if field_obj.is_relation:
            related = self._loaded.get(field_obj.related_model, {}).get(value) if field_obj.related_model else None
            if related is None:
                return f"#{value}"
            if related._meta.model_name == "user":
                return related.get_username()
            return str(related)
        if field_obj.choices:
            return str(dict(field_obj.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, dt.datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value)


def _user_label(record) -> str:
    user = record.history_user
    if user is None:
        return _("system")
    name = person_name(user)
    return f"{name} ({user.get_username()})" if name != user.get_username() else name


def _object_label(record) -> str:
    try:
        return str(record.instance)
    except Exception:  # a model whose __str__ needs rows that are gone
        return f"#{getattr(record, record.instance_type._meta.pk.attname)}"


def _entries_for_records(model, pairs: list[tuple[Any, Any]]) -> list[HistoryEntry]:
    """Entries for (record, previous record or None) pairs of one model, values formatted in bulk."""
    fields = _diff_fields(model)
    by_name = {f.name: f for f in fields}
    attnames = {f.name: f.attname for f in fields}
    formatter = _Formatter()
    raw: list[tuple[Any, list[tuple[models.Field, Any, Any]]]] = []
    for record, previous in pairs:
        triples: list[tuple[models.Field, Any, Any]] = []
        if record.history_type == "+" or (previous is None and record.history_type != "-"):
            for f in fields:
                value = getattr(record, f.attname)
                if value not in (None, ""):
                    triples.append((f, None, value))
        elif record.history_type == "~" and previous is not None:
            delta = record.diff_against(previous, included_fields=list(by_name))
            for change in delta.changes:
                f = by_name[change.field]
                # diff_against gives raw keys for relations; read them by attname to be sure.
                old = getattr(previous, attnames[change.field])
                new = getattr(record, attnames[change.field])
                triples.append((f, old, new))
        for f, old, new in triples:
            formatter.want(f, old)
            formatter.want(f, new)
        raw.append((record, triples))
    formatter.load()
    label = capfirst(model._meta.verbose_name)
    entries = []
    for record, triples in raw:
        entries.append(
            HistoryEntry(
                model_key=model_key(model),
                model_label=label,
                history_id=record.history_id,
                object_id=getattr(record, model._meta.pk.attname),
                object_label=_object_label(record),
                when=record.history_date,
                user_label=_user_label(record),
                change_type=record.history_type,
                reason=record.history_change_reason or "",
                changes=[
                    FieldChange(
                        name=f.name,
                        label=capfirst(str(f.verbose_name)),
                        old=formatter(f, old),
                        new=formatter(f, new),
                    )
                    for f, old, new in triples
                ],
            )
        )
    # Keep the field order of the model, whatever order diff_against returned.
    order = {f.name: i for i, f in enumerate(fields)}
    for entry in entries:
        entry.changes.sort(key=lambda c: order.get(c.name, 0))
    return entries


def history_entries(keys: Iterable[tuple[str, int, Any]]) -> list[HistoryEntry]:
    """Load the history rows named by ``keys`` with their previous versions and diffs, in key order.

    Two queries per model on the page (the rows with their users, then the previous versions), plus
    one per related model whose values appear in a diff: never one per row.
    """
    keys = list(keys)
    ids_by_model: dict[str, list[int]] = defaultdict(list)
    for key, history_id, _when in keys:
        ids_by_model[key].append(history_id)
    loaded: dict[tuple[str, int], HistoryEntry] = {}
    for key, ids in ids_by_model.items():
        model = _model_for_key(key)
        if model is None:
            continue
        history = get_history_model_for_model(model)
        pk_name = model._meta.pk.attname
        previous_id = (
            history.objects.filter(**{pk_name: OuterRef(pk_name)})
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        records = list(
            history.objects.filter(history_id__in=ids)
            .select_related("history_user")
            .annotate(previous_history_id=Subquery(previous_id))
        )
        wanted_previous = [r.previous_history_id for r in records if r.previous_history_id and r.history_type == "~"]
        previous = history.objects.in_bulk(wanted_previous) if wanted_previous else {}
        pairs = [(r, previous.get(r.previous_history_id)) for r in records]
        for entry in _entries_for_records(model, pairs):
            loaded[(key, entry.history_id)] = entry
    return [loaded[(key, hid)] for key, hid, _when in keys if (key, hid) in loaded]


def object_history(instance: models.Model, *, limit: int = 10) -> tuple[list[HistoryEntry], bool]:
    """The latest ``limit`` changes of one object, newest first, and whether older ones exist.

    One query for the rows (one extra row serves as the previous version of the oldest shown).
    """
    manager = getattr(instance, getattr(instance._meta, "simple_history_manager_attribute"))  # noqa: B009
    records = list(manager.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    pairs = [(record, records[i + 1] if i + 1 < len(records) else None) for i, record in enumerate(records[:limit])]
    return _entries_for_records(type(instance), pairs), len(records) > limit


def history_csv_rows(keys: models.QuerySet, *, batch_size: int = 500, max_rows: int = 100_000) -> Iterator[list[str]]:
    """The CSV lines of the report: one per changed field (a change without field diffs gets one line)."""
    yield [
        _("When"),
        _("User"),
        _("Model"),
        _("Object ID"),
        _("Object"),
        _("Change type"),
        _("Change reason"),
        _("Field"),
        _("Old value"),
        _("New value"),
    ]
    type_labels = change_type_labels()
    offset = 0
    while offset < max_rows:
        batch = list(keys[offset : offset + batch_size])
        if not batch:
            break
        offset += len(batch)
        for entry in history_entries(batch):
            head = [
                timezone.localtime(entry.when).isoformat(timespec="seconds"),
                entry.user_label,
                entry.model_label,
                str(entry.object_id),
                entry.object_label,
                str(type_labels.get(entry.change_type, entry.change_type)),
                entry.reason,
            ]
            if not entry.changes:
                yield [*head, "", "", ""]
            for change in entry.changes:
                yield [*head, change.label, change.old, change.new]


def change_type_labels() -> dict[str, str]:
    return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
