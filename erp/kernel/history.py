"""Stamping the next history row of a record with who acted and why (django-simple-history)."""

from __future__ import annotations

# simple-history's ``history_change_reason`` column holds 100 characters.
REASON_MAX_LENGTH = 100


def acting_user(user):
    """The user to record: an anonymous or missing user is recorded as the system (None)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _reason_text(reason) -> str | None:
    """The change reason as stored: cut to the column's length with an ellipsis; None when empty."""
    text = str(reason) if reason else ""
    if len(text) > REASON_MAX_LENGTH:
        text = text[: REASON_MAX_LENGTH - 1] + "…"
    return text or None


def history_stamp(instance, *, user, reason="") -> None:
    """Set the acting user and change reason the next ``save()`` of ``instance`` writes to its history;
    a longer reason is cut to the column's length with an ellipsis rather than failing the save."""
    instance._history_user = acting_user(user)
    instance._change_reason = _reason_text(reason)


def history_manager_class_cache() -> None:
    """Build each model's history manager class once instead of on every ``Model.history`` access.

    simple-history's ``HistoryDescriptor.__get__`` calls ``HistoryManager.from_queryset(...)`` on every
    access, which creates a new class through ``inspect.getmembers`` (each saved history row reads
    it once, so every order save paid for it twice). The class is the same every time, so it is built
    once per descriptor; the manager instance is still new per access. Called from ``ErpConfig.ready``.
    """
    from simple_history.manager import HistoryDescriptor

    if getattr(HistoryDescriptor, "_erp_cached", False):
        return

    def __get__(self, instance, owner):
        manager_class = self.__dict__.get("_manager_class")
        if manager_class is None:
            manager_class = self.manager_class.from_queryset(self.queryset_class)
            self._manager_class = manager_class
        return manager_class(self.model, instance)

    HistoryDescriptor.__get__ = __get__
    HistoryDescriptor._erp_cached = True


_INSERT_PLANS: dict = {}


def _insert_plan(model, using: str):
    """For ``create_with_history``, built once per model: the inserted fields and the statement around
    its ``VALUES`` rows (history date, reason and user are its last three parameters)."""
    key = (model, using)
    plan = _INSERT_PLANS.get(key)
    if plan is None:
        from django.db import connections

        qn = connections[using].ops.quote_name
        opts = model._meta
        history_opts = model.history.model._meta
        fields = [f for f in opts.concrete_fields if not f.primary_key]
        tracked = list(model.history.model.tracked_fields)
        history_columns = [qn(history_opts.get_field(f.name).column) for f in tracked]
        history_columns += [qn(name) for name in ("history_date", "history_change_reason", "history_type")]
        history_columns.append(qn(history_opts.get_field("history_user").column))
        head = f"WITH ins AS (INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
        tail = (
            f" RETURNING *), hist AS (INSERT INTO {qn(history_opts.db_table)} ({', '.join(history_columns)}) "
            f"SELECT {', '.join('ins.' + qn(f.column) for f in tracked)}, %s, %s, '+', %s FROM ins) "
            f"SELECT {qn(opts.pk.column)} FROM ins"
        )
        plan = _INSERT_PLANS[key] = (fields, head, tail)
    return plan


def create_with_history(objs: list, model, *, user, reason: str = "") -> list:
    """Insert new rows of ``model`` and their "created" history rows in one statement.

    What ``save()`` (one row) or simple-history's ``bulk_create_with_history`` do, for the hot path of
    an order save: the rows go in with ``INSERT … RETURNING``, and the history rows are copied from
    what was returned by a second ``INSERT … SELECT`` in the same statement, so each batch costs one
    round trip and one set of parameters instead of two. Field values are prepared by the model's
    fields exactly as Django's insert does (``pre_save`` with ``add=True`` sets ``auto_now``
    timestamps, ``get_db_prep_save`` adapts the value). Like ``bulk_create`` it sends no
    ``pre_save``/``post_save`` signals and does not call ``save()``: use it only for models whose
    ``save()`` adds nothing (sales orders and their lines). It sets each object's primary key and
    saved state.
    """
    from django.db import connections, router
    from django.utils import timezone

    if not objs:
        return objs
    using = router.db_for_write(model)
    connection = connections[using]
    fields, head, tail = _insert_plan(model, using)
    params = []
    for obj in objs:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"{head}{', '.join([row] * len(objs))}{tail}"
    acting = acting_user(user)
    params += [timezone.now(), _reason_text(reason), acting.pk if acting is not None else None]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [r[0] for r in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    return objs
