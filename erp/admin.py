"""Admin site branding. Historical (simple-history) models are deliberately never registered: history
rows are append-only and no admin page may edit or delete them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Medical-device ERP administration")
admin.site.site_title = _("Medical-device ERP")
admin.site.index_title = _("Review queues and reference data")
