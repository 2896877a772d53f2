"""Demo traceability data for ``manage.py seed_demo`` (filled in below)."""


def seed(ctx) -> None:
    """Receipts from real-looking GS1 strings, stock in several warehouses, shipments with temperature logs."""
