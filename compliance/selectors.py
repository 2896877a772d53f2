"""Reads of compliance data shared by other apps, pages and the API."""

from __future__ import annotations

from masterdata.models import Party


def licence_number_for_party(*, party: Party) -> str:
    """The party's licence or filing number as printed on sales and incoming-inspection records
    (DOMAIN.md §3): a distributor's distribution licence or filing, a hospital's practising licence, a
    manufacturer's production licence or filing; ``""`` when none is on file.

    For now it is the number kept on the party master (``Party.licence_number``); the compliance app's
    licence documents (with scope and validity) will take over here in a later issue, so callers ask
    this function rather than reading the field.
    """
    return party.licence_number or ""
