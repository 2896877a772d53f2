"""Admin for the exception center: rules (with dry run and backtest) and the review queues.
One module per concern; each registers its own models."""

from exceptions_center.admin import events, rules  # noqa: F401
