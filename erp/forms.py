"""Account forms: Django's password forms that also revoke the user's API tokens when they save.

A new password must end every way in that the old one opened: Django already ends the other sessions
(the session hash changes); these forms revoke the API tokens too (``erp.tokens``), explicitly.
"""

from __future__ import annotations

from django.contrib.auth import forms as auth_forms

from erp.tokens import api_tokens_revoke_all


class _RevokesApiTokens:
    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            api_tokens_revoke_all(user=user, reason="password changed")
        return user


class PasswordChangeForm(_RevokesApiTokens, auth_forms.PasswordChangeForm):
    """The user's own password change (/accounts/password_change/)."""


class SetPasswordForm(_RevokesApiTokens, auth_forms.SetPasswordForm):
    """A password set through the e-mailed reset link."""


class AdminPasswordChangeForm(_RevokesApiTokens, auth_forms.AdminPasswordChangeForm):
    """An administrator setting someone's password in the admin."""
