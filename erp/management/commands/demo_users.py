"""``manage.py demo_users``: one demo login per role, all with the documented demo password.

Idempotent: existing users keep their password (a changed password is not reset) but get their role
back. Prints the logins table, which ``make run`` shows when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from erp.kernel.ports import Port

# Documented in README.md. Demo data only: never create these users in production.
DEMO_PASSWORD = "demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    is_staff: bool = False
    is_superuser: bool = False


# Apps that give the demo users more than their role (the exception center makes the sales manager head
# of the sales departments) plug in here.
demo_users_ready = Port(
    "erp.demo_users_ready",
    doc="setup(users) after the demo users exist (by username), in the same transaction: what else they "
    "need in an app (e.g. heading a department).",
)

# Quality and compliance officers work their review queues in the admin, hence staff.
DEMO_USERS = [
    DemoUser("sales1", "sales", "伟", "张"),
    DemoUser("sales2", "sales", "丽", "陈"),
    DemoUser("manager1", "sales_manager", "强", "李"),
    DemoUser("warehouse1", "warehouse", "军", "刘"),
    DemoUser("logistics1", "logistics", "磊", "杨"),
    DemoUser("quality1", "quality", "静", "赵", is_staff=True),
    DemoUser("compliance1", "compliance", "敏", "黄", is_staff=True),
    DemoUser("finance1", "finance", "芳", "周"),
    DemoUser("auditor1", "auditor", "洋", "吴"),
    DemoUser("integrator1", "integrator", "API", "Integrator"),
    DemoUser("admin1", "admin", "管理员", "系统", is_staff=True, is_superuser=True),
]


def ensure_demo_users() -> dict[str, Any]:
    """Create the missing demo users and put every demo user (back) in its role; return them by username."""
    User = get_user_model()
    users: dict[str, Any] = {}
    with transaction.atomic():
        for spec in DEMO_USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = User(username=spec.username, email=f"{spec.username}@demo.example.com")
                user.set_password(DEMO_PASSWORD)
            user.first_name, user.last_name = spec.first_name, spec.last_name
            user.is_staff, user.is_superuser, user.is_active = spec.is_staff, spec.is_superuser, True
            user.save()
            user.groups.add(Group.objects.get(name=spec.role))
            users[spec.username] = user
        demo_users_ready.call_all(users)
    return users


def logins_table() -> str:
    width = max(len(spec.username) for spec in DEMO_USERS)
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD})", f"  {'user':<{width}}  role"]
    for spec in DEMO_USERS:
        extra = " (superuser)" if spec.is_superuser else (" (admin site)" if spec.is_staff else "")
        lines.append(f"  {spec.username:<{width}}  {spec.role}{extra}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent) and print the logins."

    def handle(self, *args, **options) -> str:
        ensure_demo_users()
        return logins_table()
