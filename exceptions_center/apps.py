from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExceptionsCenterConfig(AppConfig):
    name = "exceptions_center"
    verbose_name = _("Exception center")

    def ready(self) -> None:
        from exceptions_center import policy

        policy.register()
