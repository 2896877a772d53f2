"""Factories for orders: rows for the *given* state. Orders are entered through ``order_create`` so the
rules, numbering, permissions and history run as in production (``order_entered``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from guardian.shortcuts import assign_perm

from masterdata.models import PartyKind
from orders.models import SalesOrder, SalesOrderLine
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory


def customer_for(rep=None, **fields):
    """A customer (hospital unless told otherwise) assigned to ``rep``, who may then sell to it."""
    party = PartyFactory(sales_rep=rep, **fields)
    if rep is not None:
        assign_perm("masterdata.view_party", rep, party)
        assign_perm("masterdata.change_party", rep, party)
    return party


def distributor_for(rep=None, **fields):
    fields.setdefault("name", "浙江康达医疗器械有限公司")
    fields.setdefault("kind", PartyKind.DISTRIBUTOR)
    fields.setdefault("region_code", "330106")
    return customer_for(rep, **fields)


def cold_chain_product(**fields):
    return ProductFactory(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"), **fields)


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def order_entered(*, user, customer=None, warehouse=None, lines=None, **header) -> SalesOrder:
    """Enter an order through the service (rules run). Defaults: one line of a new product, in 10 days."""
    from orders.services import order_create

    customer = customer or customer_for(user)
    warehouse = warehouse or WarehouseFactory()
    if lines is None:
        lines = [{"product": ProductFactory(), "quantity": 10}]
    header.setdefault("requested_delivery_date", in_days(10))
    return order_create(user=user, customer=customer, warehouse=warehouse, lines=lines, **header)


class SalesOrderFactory(factory.django.DjangoModelFactory):
    """A bare order row (no rules, no permissions): for list and query-count tests."""

    class Meta:
        model = SalesOrder

    number = factory.Sequence(lambda n: f"SO-2026-{900000 + n:06d}")
    customer = factory.SubFactory(PartyFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    requested_delivery_date = factory.LazyFunction(lambda: in_days(10))


class SalesOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesOrderLine

    order = factory.SubFactory(SalesOrderFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    quantity = 10
    unit_price = Decimal("12.5000")
    tax_rate = Decimal("0.13")
