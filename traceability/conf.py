"""Traceability settings with their defaults (DOMAIN.md §4–§6 marks these configurable).

Override any key in ``settings.ERP["TRACEABILITY"]`` / ``settings.ERP["COLD_CHAIN"]``.
"""

from __future__ import annotations

from django.conf import settings

TRACEABILITY_DEFAULTS = {
    # Lots expiring within this many days of the delivery date count as near expiry.
    "NEAR_EXPIRY_DAYS": 90,
    # A recall scope over more lots than this (or more trace edges) runs as a background job.
    "RECALL_SYNC_MAX_LOTS": 50,
    "RECALL_SYNC_MAX_EDGES": 20000,
    # Receiving: cold-chain goods need the transport temperature record checked at the door.
    "COLD_CHAIN_NEEDS_TRANSPORT_RECORD": True,
}

COLD_CHAIN_DEFAULTS = {
    # Longest gap between two readings of one probe, in minutes (DOMAIN.md §5).
    "STORAGE_INTERVAL_MIN": 30,
    "TRANSPORT_INTERVAL_MIN": 5,
    "EXCURSION_INTERVAL_MIN": 2,
    # A little slack for clocks and radio delays before a gap counts as missing records.
    "GAP_TOLERANCE_PCT": 20,
    "MIN_PROBES": 2,
}


def traceability_setting(name: str):
    return {**TRACEABILITY_DEFAULTS, **getattr(settings, "ERP", {}).get("TRACEABILITY", {})}[name]


def cold_chain_setting(name: str):
    return {**COLD_CHAIN_DEFAULTS, **getattr(settings, "ERP", {}).get("COLD_CHAIN", {})}[name]
