"""The roles (Django groups) and their model permissions, declared in one place.

Groups are created by a migration; their permissions are synced after every ``migrate`` (a
``post_migrate`` hook, infrastructure only) because later apps add models and permissions.
Row-level scoping (a sales rep sees their own parties and orders) is done with guardian object
permissions granted by the services, see ``erp.kernel.access``.
"""

from __future__ import annotations

from erp.kernel.our_apps import DOMAIN_APPS

ROLES = [
    "sales",
    "sales_manager",
    "warehouse",
    "logistics",
    "quality",
    "compliance",
    "finance",
    "auditor",
    "integrator",
    "admin",
]

ALL_APPS = list(DOMAIN_APPS)

# Each entry: "app.model" or "app.*" -> actions. Custom permissions by codename with "perm:".

# Departments that handle exceptions see the exception center and may *act* on events (the admin review
# queue's actions need ``change_exceptionevent``); what each person may do on each event is decided by the
# one policy (erp.kernel.policy, exceptions_center.policy), not by model permissions. Nobody but
# compliance and admins changes rules or routes.
EVENT_HANDLERS: dict[str, list[str]] = {
    "exceptions_center.*": ["view"],
    "exceptions_center.exceptionevent": ["view", "change"],
    # Holiday cover: the policy lets only a department's managers (and compliance, admins) record one.
    "exceptions_center.delegation": ["view", "add"],
}
ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "sales": {
        "masterdata.party": ["view", "add", "change"],
        "masterdata.product": ["view", "add", "change"],  # sales keep the catalogue they sell from
        "masterdata.warehouse": ["view"],
        "masterdata.region": ["view"],
        "orders.*": ["view", "add", "change"],
        "exceptions_center.*": ["view"],
        "traceability.*": ["view"],
        "compliance.*": ["view"],
        "channels_mgmt.*": ["view"],
        "finance.*": ["view"],
    },
    "sales_manager": {
        "masterdata.*": ["view", "add", "change"],
        "orders.*": ["view", "add", "change", "view_all", "change_all"],
        **EVENT_HANDLERS,
        "traceability.*": ["view"],
        "compliance.*": ["view"],
        "channels_mgmt.*": ["view", "add", "change"],
        "finance.*": ["view"],
        "perm": ["masterdata.view_all_party", "masterdata.change_all_party", "orders.approve_salesorder"],
    },
    "warehouse": {
        "masterdata.*": ["view"],
        "orders.*": ["view", "view_all"],
        "traceability.*": ["view", "add", "change"],
        **EVENT_HANDLERS,
        "quality.*": ["view"],
        "perm": ["masterdata.view_all_party", "traceability.adjust_stock"],
    },
    "logistics": {
        "masterdata.*": ["view"],
        "orders.*": ["view", "view_all"],
        "traceability.*": ["view", "add", "change"],
        **EVENT_HANDLERS,
        "perm": ["masterdata.view_all_party"],
    },
    "quality": {
        "masterdata.*": ["view"],
        "orders.*": ["view", "view_all"],
        "traceability.*": ["view", "add", "change"],
        "quality.*": ["view", "add", "change"],
        **EVENT_HANDLERS,
        "compliance.*": ["view"],
        "perm": [
            "masterdata.view_all_party",
            "traceability.release_lot",
            "traceability.acknowledge_excursion",
            "traceability.adjust_stock",
            "traceability.view_all_recallscopejob",
        ],
    },
    "compliance": {
        "masterdata.*": ["view", "add", "change"],
        "orders.*": ["view", "view_all"],
        "compliance.*": ["view", "add", "change"],
        **EVENT_HANDLERS,
        # The rule catalogue, its routes and SLA, and delegations are the compliance officers' (with
        # admins); departments (who heads them) and role grants are the admins' only.
        "exceptions_center.rule": ["view", "add", "change"],
        "exceptions_center.ruleroutestep": ["view", "add", "change"],
        "exceptions_center.delegation": ["view", "add", "change"],
        "exceptions_center.webhookendpoint": ["view", "add", "change"],
        "traceability.*": ["view"],
        "quality.*": ["view"],
        "channels_mgmt.*": ["view"],
        "perm": ["masterdata.view_all_party", "masterdata.change_all_party", "traceability.view_all_recallscopejob"],
    },
    "finance": {
        "masterdata.*": ["view"],
        "orders.*": ["view", "view_all"],
        "finance.*": ["view", "add", "change"],
        **EVENT_HANDLERS,
        "channels_mgmt.*": ["view"],
        "perm": ["masterdata.view_all_party"],
    },
    "auditor": {
        **{f"{app}.*": ["view", "view_all"] for app in ALL_APPS},
        "perm": ["masterdata.view_all_party", "erp.view_history_report"],
    },
    "integrator": {
        "masterdata.*": ["view", "add", "change"],
        "orders.*": ["view", "add", "change", "view_all", "change_all"],
        "traceability.*": ["view", "add", "change"],
        "compliance.*": ["view"],
        "exceptions_center.*": ["view"],
        "quality.*": ["view"],
        "finance.*": ["view"],
        "perm": ["masterdata.view_all_party", "masterdata.change_all_party"],
    },
    "admin": {
        **{f"{app}.*": ["view", "add", "change", "view_all", "change_all"] for app in ALL_APPS},
        "perm": ["erp.view_history_report", "orders.approve_salesorder"],
    },
}


def sync_role_permissions(**_kwargs) -> None:
    """Create the groups and give each exactly the permissions ``ROLE_PERMISSIONS`` lists."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = ROLE_PERMISSIONS.get(role, {})
        query = Q(pk__in=[])
        for target, actions in wanted.items():
            if target == "perm":
                for dotted in actions:
                    app_label, codename = dotted.split(".", 1)
                    query |= Q(content_type__app_label=app_label, codename=codename)
                continue
            app_label, model = target.split(".", 1)
            for action in actions:
                if model == "*":
                    # "view" must not match "view_all_x": model names carry no underscore.
                    query |= Q(content_type__app_label=app_label, codename__regex=rf"^{action}_[a-z0-9]+$")
                else:
                    query |= Q(content_type__app_label=app_label, codename=f"{action}_{model}")
        perms = Permission.objects.filter(query).exclude(
            # History is append-only and object permissions are granted by services only.
            codename__regex=r"^(add|change|delete)_(historical[a-z0-9]+|[a-z0-9]*objectpermission)$"
        )
        group.permissions.set(perms)
