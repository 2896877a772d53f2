"""``seed_demo``, ``demo_users`` and ``compilemessages_if_needed``: the data a newcomer sees after ``make run``."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from erp.management.commands.demo_users import DEMO_PASSWORD, DEMO_USERS
from masterdata.models import Party, PartyUserObjectPermission, Product, Warehouse
from masterdata.validators import validate_gtin, validate_uscc

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_builds_a_realistic_data_set():
    # when
    seed()

    # then every code in it is valid
    parties, products = list(Party.objects.all()), list(Product.objects.all())
    for party in parties:
        if party.code != "H-SH-009":  # the orders step's new customer, documents still pending on purpose
            validate_uscc(party.uscc)
    for product in products:
        validate_gtin(product.udi_di)
        assert len(product.udi_di) == 14
    hospitals = [p for p in parties if p.kind == "hospital"]
    assert len({p.province_id for p in hospitals}) >= 5
    assert any(p.bed_count >= 100 for p in hospitals) and any(p.bed_count < 100 for p in hospitals)
    military = [p for p in hospitals if p.is_military]
    assert len(military) == 1 and military[0].uscc.startswith("A1")
    assert {p.is_public for p in hospitals} == {True, False}
    assert {"distributor", "supplier", "manufacturer", "retailer"} <= {p.kind for p in parties}
    # 30+ products over classes I–III, with cold-chain IVD reagents and serial-tracked implants
    assert len(products) >= 30
    assert {p.device_class for p in products} == {1, 2, 3}
    assert any(p.is_cold_chain and p.catalogue_code.startswith("6840") for p in products)
    assert any(p.is_implant and p.tracking in ("serial", "both") for p in products)
    assert any(p.class2_filing_exempt for p in products)
    assert all(p.registrant is not None and p.registrant.kind == "manufacturer" for p in products)
    # warehouses in several provinces, including a cold store
    warehouses = list(Warehouse.objects.all())
    assert len({w.province_id for w in warehouses}) >= 3
    assert any(w.is_cold_storage for w in warehouses)


def test_seed_demo_gives_customers_suppliers_and_registrants_their_licence_numbers():
    # when
    seed()

    # then every hand-written party has the number its records print (the orders step's newcomer, whose
    # documents are pending on purpose, excepted), of the kind that fits the party
    from compliance.selectors import licence_number_for_party

    parties = Party.objects.exclude(code="H-SH-009")
    numbers = {p.code: licence_number_for_party(party=p) for p in parties}
    assert all(numbers.values()), [code for code, number in numbers.items() if not number]
    for party in parties:
        number = numbers[party.code]
        if party.kind == "hospital":
            assert len(number) == 22 and number[9:15] == party.region_code and number[17] == "A"
            assert number[:9] == party.uscc[8:17]  # the organisation code inside the USCC
        elif party.kind in ("distributor", "supplier"):
            assert "械经营许" in number or "械经营备" in number
        elif party.kind == "manufacturer":
            assert "械生产许" in number
    assert any("械经营备" in numbers[code] for code in numbers if code.startswith("D-"))  # a filing-only one
    assert len(set(numbers.values())) == len(numbers)


def test_seed_demo_gives_the_demo_sales_rep_their_customers():
    # when
    seed()

    # then
    from masterdata.selectors import party_list_visible_to

    sales1 = get_user_model().objects.get(username="sales1")
    manager1 = get_user_model().objects.get(username="manager1")
    own = party_list_visible_to(user=sales1)
    assert 0 < own.count() < Party.objects.count()
    assert all(p.sales_rep == sales1 for p in own)
    assert party_list_visible_to(user=manager1).count() == Party.objects.count()


def test_seed_demo_writes_history_with_the_acting_user_and_reason():
    # when
    seed()

    # then
    record = Party.history.filter(code="H-BJ-002").get()
    assert record.history_user.username == "admin1"
    assert record.history_change_reason == "demo data"


def test_seed_demo_is_deterministic_and_safe_to_run_twice():
    # given
    seed()
    first = sorted(Party.objects.values_list("code", "uscc"))

    # when
    seed()
    output = seed("--if-empty")

    # then
    assert sorted(Party.objects.values_list("code", "uscc")) == first
    assert "already loaded" in output


def test_seed_demo_scaled_adds_bulk_rows_with_history_and_rep_permissions():
    # when
    seed("--scale", "3")

    # then
    generated = Party.objects.filter(code__startswith="X")
    assert generated.count() == 300
    assert Product.objects.filter(sku__startswith="X-").count() == 30
    assert Party.history.filter(code__startswith="X").count() == 300
    assigned = generated.exclude(sales_rep=None)
    assert assigned.exists()
    assert PartyUserObjectPermission.objects.filter(content_object__in=assigned).count() == 2 * assigned.count()
    for party in generated[:50]:
        validate_uscc(party.uscc)
    assert Party.objects.filter(code__startswith="X", uscc="").count() == 0
    assert Party.objects.filter(code__startswith="X", licence_number="").count() == 0


def test_seed_demo_runs_the_steps_listed_in_settings(settings):
    # given a later app's step appended to the registry
    settings.DEMO_SEED_STEPS = [*settings.DEMO_SEED_STEPS, "tests.erp.test_demo_data.extra_step"]

    # when
    seed()

    # then it ran after master data, with the parties at hand
    assert extra_step.seen == Party.objects.exclude(code="H-SH-009").count()  # the orders step adds one


def extra_step(ctx):
    extra_step.seen = len(ctx.data["parties"])


def test_demo_users_are_one_per_role_and_idempotent():
    # when
    out = StringIO()
    call_command("demo_users", stdout=out)
    call_command("demo_users", stdout=StringIO())

    # then
    User = get_user_model()
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert list(user.groups.values_list("name", flat=True)) == [spec.role]
        assert user.check_password(DEMO_PASSWORD)
        assert spec.username in out.getvalue()
    admin = User.objects.get(username="admin1")
    assert admin.is_superuser and admin.is_staff
    assert DEMO_PASSWORD in out.getvalue()
    # the sales manager heads the sales departments, once
    manager = User.objects.get(username="manager1")
    assert sorted(manager.managed_departments.values_list("code", flat=True)) == ["sales", "sales_management"]


def test_demo_users_keep_a_changed_password():
    # given
    call_command("demo_users", stdout=StringIO())
    user = get_user_model().objects.get(username="sales1")
    user.set_password("changed-by-the-user-1")
    user.save()

    # when
    call_command("demo_users", stdout=StringIO())

    # then
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user-1")


def test_compilemessages_if_needed_does_not_fail_without_msgfmt(monkeypatch, tmp_path, settings):
    # given a stale catalogue and no msgfmt on the PATH
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n')
    settings.BASE_DIR = tmp_path
    monkeypatch.setenv("PATH", str(tmp_path))

    # when
    out = StringIO()
    call_command("compilemessages_if_needed", stdout=out)

    # then
    assert "msgfmt" in out.getvalue()
    assert not po.with_suffix(".mo").exists()


def test_compilemessages_if_needed_compiles_stale_catalogues(tmp_path, settings):
    import shutil

    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext is not installed")
    # given
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Hello"\nmsgstr "你好"\n')
    settings.BASE_DIR = tmp_path

    # when
    call_command("compilemessages_if_needed", stdout=StringIO())

    # then
    assert po.with_suffix(".mo").exists()


def test_seed_demo_enters_orders_that_fill_the_queues():
    # when
    from exceptions_center.models import ExceptionEvent
    from orders.models import OrderStatus, SalesOrder

    seed()

    # then the demo reps have orders: one clean and allocated, others held by the shipped rules
    orders = {o.customer_po: o for o in SalesOrder.objects.filter(customer_po__startswith="DEMO-")}
    assert len(orders) == 6
    assert orders["DEMO-001"].status == OrderStatus.ALLOCATED and not orders["DEMO-001"].is_held
    held = {po for po, order in orders.items() if order.is_held}
    assert {"DEMO-002", "DEMO-005"} <= held
    codes = set(ExceptionEvent.objects.values_list("rule__code", flat=True))
    assert {"ORD-PRICE-BELOW-LIST", "ORD-CUSTOMER-INCOMPLETE", "ORD-COLD-CHAIN-LEAD-TIME"} <= codes
    assert orders["DEMO-005"].sales_rep.username == "sales1"
