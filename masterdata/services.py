"""Every write to master data. Each service validates the whole row (``full_clean``), saves it in one
transaction with the acting user and reason in the history, and raises ``ValidationError`` (turned
into a form error or an API 400) without saving anything on bad input."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, remove_perm

from erp.kernel.auth_backends import user_group_names
from erp.kernel.history import history_stamp
from masterdata.models import Party, Product, Warehouse
from masterdata.validators import normalise_gtin, normalise_uscc, validate_gtin

PARTY_REP_PERMISSIONS = ("masterdata.view_party", "masterdata.change_party")


def _save(instance, *, user, reason: str = "", errors: dict[str, list[ValidationError]] | None = None) -> None:
    """Validate the whole row (adding ``errors`` found while normalising input) and save it with history."""
    errors = dict(errors or {})
    try:
        instance.full_clean(exclude=list(errors))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    history_stamp(instance, user=user, reason=reason)
    instance.save()


def _apply(instance, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(instance, name, value)


def _normalise_party(party: Party) -> dict[str, list[ValidationError]]:
    """Normalise the USCC before field validation (lower case and spaces are not "too long") and report a
    USCC already held by another party on the field, not as a bare constraint name."""
    party.uscc = normalise_uscc(party.uscc)
    if party.uscc:
        holder = Party.objects.filter(uscc=party.uscc).exclude(pk=party.pk).values_list("code", flat=True).first()
        if holder is not None:
            message = _("Party %(code)s already has this unified social credit code.")
            return {"uscc": [ValidationError(message, code="uscc_taken", params={"code": holder})]}
    return {}


def _normalise_product(product: Product) -> dict[str, list[ValidationError]]:
    """Store the UDI-DI as GTIN-14; a bad GTIN is reported with its own message, not as "too long"."""
    raw = (product.udi_di or "").strip().replace(" ", "")
    if not raw:
        product.udi_di = None
        return {}
    try:
        validate_gtin(raw)
    except ValidationError as exc:
        product.udi_di = None  # keeps the model's own check from repeating the message
        return {"udi_di": exc.error_list}
    product.udi_di = normalise_gtin(raw)
    return {}


def _party_rep_sync(*, party: Party, previous_rep_id: int | None) -> None:
    """Give the assigned sales rep object permissions on the party and take them from the previous one."""
    if previous_rep_id == party.sales_rep_id:
        return
    if previous_rep_id:
        previous = get_user_model().objects.get(pk=previous_rep_id)
        for perm in PARTY_REP_PERMISSIONS:
            remove_perm(perm, previous, party)
    if party.sales_rep_id:
        for perm in PARTY_REP_PERMISSIONS:
            assign_perm(perm, party.sales_rep, party)


@transaction.atomic
def party_create(*, user, reason: str = "", **fields: Any) -> Party:
    """Create a party. A sales rep who creates a customer without naming a rep becomes its rep."""
    party = Party(**fields)
    if (
        party.sales_rep_id is None
        and user is not None
        and "sales" in user_group_names(user)
        and not user.has_perm("masterdata.view_all_party")
    ):
        party.sales_rep = user
    _save(party, user=user, reason=reason, errors=_normalise_party(party))
    _party_rep_sync(party=party, previous_rep_id=None)
    return party


@transaction.atomic
def party_update(*, instance: Party, user, reason: str = "", **fields: Any) -> Party:
    """Change a party; reassigning the sales rep moves the row-level permissions with it."""
    party = Party.objects.select_for_update().get(pk=instance.pk)
    previous_rep_id = party.sales_rep_id
    _apply(party, fields)
    _save(party, user=user, reason=reason, errors=_normalise_party(party))
    _party_rep_sync(party=party, previous_rep_id=previous_rep_id)
    return party


@transaction.atomic
def product_create(*, user, reason: str = "", **fields: Any) -> Product:
    """Create a product; the UDI-DI is check-digit verified and stored as GTIN-14."""
    product = Product(**fields)
    _save(product, user=user, reason=reason, errors=_normalise_product(product))
    return product


@transaction.atomic
def product_update(*, instance: Product, user, reason: str = "", **fields: Any) -> Product:
    product = Product.objects.select_for_update().get(pk=instance.pk)
    _apply(product, fields)
    _save(product, user=user, reason=reason, errors=_normalise_product(product))
    return product


@transaction.atomic
def warehouse_create(*, user, reason: str = "", **fields: Any) -> Warehouse:
    warehouse = Warehouse(**fields)
    _save(warehouse, user=user, reason=reason)
    return warehouse


@transaction.atomic
def warehouse_update(*, instance: Warehouse, user, reason: str = "", **fields: Any) -> Warehouse:
    warehouse = Warehouse.objects.select_for_update().get(pk=instance.pk)
    _apply(warehouse, fields)
    _save(warehouse, user=user, reason=reason)
    return warehouse
