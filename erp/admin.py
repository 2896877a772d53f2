"""Admin site branding and the user admin. Historical (simple-history) models are deliberately never
registered: history rows are append-only and no admin page may edit or delete them.

Login lockouts (django-axes "Access attempts") are unlocked here by deleting the attempt; only
superusers hold axes' permissions (no role in ``erp/roles.py`` grants them)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from erp import forms as erp_forms
from erp.tokens import api_tokens_revoke_all

admin.site.site_header = _("Medical-device ERP administration")
admin.site.site_title = _("Medical-device ERP")
admin.site.index_title = _("Review queues and reference data")

User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin; setting a password or deactivating a user revokes their API tokens; users
    cannot be deleted (deactivate them)."""

    change_password_form = erp_forms.AdminPasswordChangeForm

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: history rows, signatures and logs name them for good
        # (R29: the history tables refuse the UPDATE a deletion would make to their user column).
        return False

    def save_model(self, request, obj, form, change):
        deactivated = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivated:
            api_tokens_revoke_all(user=obj, reason=f"deactivated by {request.user.get_username()}")
