from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ErpConfig(AppConfig):
    name = "erp"
    verbose_name = _("ERP core")

    def ready(self) -> None:
        from django.apps import apps

        from erp.kernel.history import history_manager_class_cache
        from erp.roles import sync_role_permissions

        history_manager_class_cache()

        # Infrastructure, not domain logic: keep role permissions in step with the models. Sent for
        # the last installed app, after auth has created every app's permissions.
        last_app = list(apps.get_app_configs())[-1]
        post_migrate.connect(sync_role_permissions, sender=last_app, dispatch_uid="erp_sync_roles")
        # Append-only tables refuse UPDATE/DELETE in the database; history tables added later get it too.
        from erp.kernel.append_only import append_only_sync

        post_migrate.connect(append_only_sync, sender=last_app, dispatch_uid="erp_append_only")

        # Infrastructure: a new session records its login time as part of the login's own session write,
        # so the session timeout costs no extra write on the next request.
        from django.contrib.auth.signals import user_logged_in

        from erp.middleware import session_stamp_login

        user_logged_in.connect(session_stamp_login, dispatch_uid="erp_session_stamp_login")
