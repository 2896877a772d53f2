"""Writes of the exception center, one module per concern, re-exported here.

- ``rules``: rule validation, ``rules_evaluate`` (facts → conditions → events synced)
- ``handling``: routing (tasks / approval chain / automatic), actions, SLA
- ``notifications``: notification rows, delivery, sweeper
- ``sources``: recomputing the hold of the object an event is about
"""

from exceptions_center.services.handling import exception_events_close_for_source
from exceptions_center.services.rules import (
    EvaluationResult,
    rule_backtest,
    rule_dry_run,
    rule_save,
    rule_validate,
    rules_evaluate,
)
from exceptions_center.services.sources import source_hold_refresh

__all__ = [
    "EvaluationResult",
    "exception_events_close_for_source",
    "rule_backtest",
    "rule_dry_run",
    "rule_save",
    "rule_validate",
    "rules_evaluate",
    "source_hold_refresh",
]
