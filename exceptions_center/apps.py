from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExceptionsCenterConfig(AppConfig):
    name = "exceptions_center"
    verbose_name = _("Exception center")

    def ready(self) -> None:
        # Ports of lower layers this app fills in (``manage.py erp_ports`` lists them all).
        from erp.management.commands.demo_users import demo_users_ready
        from exceptions_center import policy, visibility
        from exceptions_center.demo import department_heads_assign

        demo_users_ready.register(department_heads_assign, app=self.label)
        visibility.register()
        policy.register()
