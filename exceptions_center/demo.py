"""What the exception center adds to the demo users (``erp.demo_users_ready``)."""

from __future__ import annotations

from exceptions_center.models import Department

# The sales manager heads the sales departments: high-severity sales tasks and overdue sales events
# reach them in their own queue ("my department"), as a real set-up would have it.
DEPARTMENT_HEADS = {"manager1": ("sales", "sales_management")}


def department_heads_assign(users: dict) -> None:
    """Make the demo department heads managers of their departments (idempotent)."""
    for username, codes in DEPARTMENT_HEADS.items():
        if username not in users:
            continue
        for department in Department.objects.filter(code__in=codes):
            department.managers.add(users[username])
