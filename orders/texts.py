"""Texts the orders app writes for people, as message keys (see ``erp.kernel.messages``)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from erp.kernel.messages import register

HOLD_SUMMARY = register("orders.hold_summary", gettext_noop("%(events)s"))
HOLD_EVENT = register("orders.hold_event", gettext_noop("%(number)s %(message)s"))
ORDER_CANCELLED = register("orders.cancelled", gettext_noop("Order cancelled: %(reason)s"))
