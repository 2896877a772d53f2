"""Texts the traceability app writes for people, as message keys (see ``erp.kernel.messages``)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from erp.kernel.messages import register

EXCURSION_HOLD = register("traceability.excursion_hold", gettext_noop("temperature excursion"))
