"""API tokens (django-rest-knox): issue, list and revoke.

A token's secret is shown once, when it is issued; the database keeps only its SHA-512 digest and its
first 15 characters (the *prefix*, which the owner sees to tell tokens apart). A token expires
``REST_KNOX["TOKEN_TTL"]`` after it is issued (30 days unless ``ERP_API_TOKEN_DAYS`` says otherwise), and
is revoked by logout, by its owner on their account page or through the API, and — every token of the
user at once — when the password changes or the user is deactivated (``api_tokens_revoke_all``, called
explicitly by the password-change and password-reset forms and by the user admin).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken
from knox.settings import knox_settings

from erp.kernel.errors import DomainError, NotFoundOrForbidden

logger = logging.getLogger("erp.tokens")


def api_token_list(*, user):
    """The user's tokens that have not expired, newest first (prefix, issued, expiry; never a secret)."""
    now = timezone.now()
    return (
        AuthToken.objects.filter(user=user)
        .exclude(expiry__lte=now)
        .only("digest", "token_key", "created", "expiry", "user_id")
        .order_by("-created")
    )


def api_token_create(*, user) -> tuple[AuthToken, str]:
    """Issue a token for an active user; returns the row and the secret (shown to the caller once).

    The user's expired tokens are deleted first; a user with ``TOKEN_LIMIT_PER_USER`` live tokens gets a
    403 ``token_limit`` (revoke one first) rather than an ever-growing list of forgotten secrets.
    """
    if not user.is_active:
        raise DomainError(_("This user is inactive."), code="inactive_user", status_code=403)
    with transaction.atomic():
        # Lock the user row so two concurrent log-ins cannot both pass the limit.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        limit = knox_settings.TOKEN_LIMIT_PER_USER
        if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
            raise DomainError(
                _("You already have %(limit)s API tokens. Revoke one you no longer use first.") % {"limit": limit},
                code="token_limit",
                status_code=403,
            )
        token, secret = AuthToken.objects.create(user=user)
    logger.info("API token %s issued to %s", token.token_key, user.get_username())
    return token, secret


def api_token_revoke(*, user, token_key: str) -> None:
    """Revoke one of the user's own tokens by its prefix; another user's token is "not found"."""
    deleted, _rows = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    if not deleted:
        raise NotFoundOrForbidden()
    logger.info("API token %s revoked by %s", token_key, user.get_username())


def api_tokens_revoke_all(*, user, reason: str) -> int:
    """Revoke every token of the user (logout-all, password changed, user deactivated); returns how many."""
    deleted, _rows = AuthToken.objects.filter(user=user).delete()
    if deleted:
        logger.info("%s API token(s) of %s revoked: %s", deleted, user.get_username(), reason)
    return deleted
