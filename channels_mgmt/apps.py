from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsMgmtConfig(AppConfig):
    name = "channels_mgmt"
    verbose_name = _("Channels")
