"""The row-scope walk: rep B's customer, order, shipment, return, events (facts snapshot), lot trace,
readings and recall scope must never show to rep A, on any page or API endpoint; every other role sees
them somewhere.

The URLs come from the root URLconf (``tests.erp.test_url_access``), so a new page or endpoint is walked
automatically. An API route with an id is filled from its viewset's model (``B_ROWS`` below); an HTML page
with an id from ``HTML_TARGETS``. A parameterised route the walk cannot fill fails the test until it is
listed, so a new endpoint cannot slip past unscoped.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import resolve, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from exceptions_center.models import Channel, Delegation, ExceptionEvent, Notification, Rule
from masterdata.models import Party, Product, Region, Warehouse
from orders.models import SalesOrder
from tests.erp.test_url_access import all_routes
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.traceability.factories import (
    approved_order,
    customer,
    dispatched,
    gs1,
    in_days,
    product,
    received_and_released,
    serial_product,
    warehouse,
)
from traceability.models import (
    Allocation,
    CustomerReturn,
    Excursion,
    Lot,
    RecallScopeJob,
    Receipt,
    SerialUnit,
    Shipment,
    StockOperation,
    TemperatureReading,
)

pytestmark = pytest.mark.django_db

MARKER = "ZZMARKERB"  # in rep B's customer's name
CONTACT = "ZZCONTACTB"  # the customer's contact person
PROBE = "ZZPROBEB"  # the probe of B's shipment's readings and excursion
EVIDENCE = "ZZEVIDENCEB"  # inside the evidence file attached to B's event
SEARCH = "ZZMARK"  # a search term that finds B's rows but is not itself a marker when echoed
MISSING_ID = 987654321

# Routes with parameters that hold no rows of anybody (or are not reads): the walk skips them.
NOT_ROW_ROUTES = {
    "api-not-found",
    "password_reset_confirm",
    "set_language",
    "django.contrib.admin.views.i18n.javascript_catalog",
    "exceptions_center:event_action",  # POST only (the walk reads); hidden events: test_hidden_event_actions_404
}
# Roles that see every order, shipment and event (their work needs them); each must find B's marker.
SEE_ALL_ROLES = [
    "sales_manager",
    "warehouse",
    "logistics",
    "quality",
    "compliance",
    "finance",
    "auditor",
    "integrator",
    "admin",
]


def _perm_rep(user, obj, *codenames: str) -> None:
    for codename in codenames:
        assign_perm(codename, user, obj)


@pytest.fixture
def world(make_user):
    """Rep B's customer (named ``MARKER``), an approved order, its dispatched shipment with serials, a
    customer return, events on the order, the shipment and the customer (facts naming the customer), a
    temperature reading and an excursion on the shipment, a finished recall scope; rep A has a customer
    and an order of their own, and an in-app notification about B's event (as a department-wide message
    would be)."""
    rep_a, rep_b = make_user("sales", username="rep_a"), make_user("sales", username="rep_b")
    warehouse_user, quality_user = make_user("warehouse"), make_user("quality")
    wh, bulk, serial = warehouse(), product(), serial_product()
    received_and_released(
        warehouse_user=warehouse_user,
        quality_user=quality_user,
        warehouse=wh,
        scans=[gs1(bulk.udi_di, lot="LOT-W", expiry=in_days(500), count=30)]
        + [gs1(serial.udi_di, lot="LOT-WS", serial=f"SNW{i}", expiry=in_days(600)) for i in range(3)],
    )
    party_b = customer(name=f"{MARKER} 厦门私立医院", name_en=f"{MARKER} Xiamen Hospital", contact_name=CONTACT)
    party_b.sales_rep = rep_b
    party_b.save()
    _perm_rep(rep_b, party_b, "masterdata.view_party", "masterdata.change_party")
    party_a = customer(name="甲代表的医院", name_en="Rep A hospital")
    party_a.sales_rep = rep_a
    party_a.save()
    _perm_rep(rep_a, party_a, "masterdata.view_party", "masterdata.change_party")

    order_b = approved_order(customer=party_b, warehouse=wh, lines=[(bulk, 5), (serial, 2)])
    order_a = approved_order(customer=party_a, warehouse=wh, lines=[(bulk, 3)])
    for rep, order in ((rep_b, order_b), (rep_a, order_a)):
        order.sales_rep = rep
        order.save()
        _perm_rep(rep, order, "orders.view_salesorder", "orders.change_salesorder")
    shipment_b = dispatched(order_b, warehouse_user, serials={2: ["SNW0", "SNW1"]})
    shipment_a = dispatched(order_a, warehouse_user)

    from traceability.selectors import recall_scope
    from traceability.services import shipment_return

    line = shipment_b.lines.get(lot__lot_number="LOT-W")
    return_b = shipment_return(
        shipment=shipment_b,
        user=warehouse_user,
        warehouse=wh,
        reason="包装破损",
        lines=[{"shipment_line": line.pk, "quantity": 1, "serials": []}],
    )
    now = timezone.now()
    reading = TemperatureReading.objects.create(
        shipment=shipment_b, probe=PROBE, recorded_at=now, celsius=Decimal("5.00")
    )
    excursion = Excursion.objects.create(
        kind="out_of_range", shipment=shipment_b, probe=PROBE, started_at=now - timedelta(hours=1)
    )
    lot = Lot.objects.get(lot_number="LOT-W")
    job = RecallScopeJob.objects.create(
        criteria={"lot_ids": [lot.pk]},
        status="done",
        progress=100,
        lot_count=1,
        result=recall_scope(criteria={"lot_ids": [lot.pk]}),
        requested_by=quality_user,
    )
    assert MARKER in str(job.result)

    facts = {"customer": {"name": party_b.name, "contact_name": CONTACT}, "order": {"number": order_b.number}}
    rule = rule_with_route("sales_management", category="business", severity="high")
    event_b = event_for(rule, source=order_b, source_label=order_b.number, facts_snapshot=facts)
    event_for(rule_with_route("logistics"), source=shipment_b, source_label=shipment_b.number, facts_snapshot=facts)
    event_for(rule_with_route("compliance"), source=party_b, source_label=party_b.code, facts_snapshot=facts)
    event_a = event_for(rule, source=order_a, source_label=order_a.number, facts_snapshot={"order": {}})
    Notification.objects.create(
        channel=Channel.IN_APP,
        recipient=rep_a,
        event=event_b,
        kind="event.raised",
        title=f"{event_b.number} {MARKER}",
        url=reverse("exceptions_center:event_detail", args=[event_b.number]),
    )
    rows = {
        Party: party_b,
        SalesOrder: order_b,
        Shipment: shipment_b,
        CustomerReturn: return_b,
        Allocation: Allocation.objects.filter(order_line__order=order_b).first(),
        ExceptionEvent: event_b,
        TemperatureReading: reading,
        Excursion: excursion,
        RecallScopeJob: job,
        Notification: Notification.objects.get(recipient=rep_a),
        Lot: lot,
        SerialUnit: SerialUnit.objects.get(serial="SNW0"),
        Receipt: Receipt.objects.first(),
        Product: bulk,
        Warehouse: wh,
        Region: Region.objects.first(),
        Rule: event_b.rule,
        StockOperation: None,  # none in this world: the walk reads a missing id
        Delegation: None,  # department records, no customer's data: the walk reads a missing id
    }
    # B's evidence file on B's event, and B's own API token (rep A may neither download nor revoke them)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from erp.attachments import attachment_add
    from erp.tokens import api_token_create

    evidence = attachment_add(
        owner=event_b,
        upload=SimpleUploadedFile("evidence.txt", f"{EVIDENCE} {MARKER}".encode(), content_type="text/plain"),
        user=rep_b,
        field="attachment",
    )
    token_b, _secret = api_token_create(user=rep_b)
    markers = [MARKER, CONTACT, PROBE, EVIDENCE, order_b.number, shipment_b.number, return_b.number, event_b.number]
    return {
        "rep_a": rep_a,
        "rep_b": rep_b,
        "rows": rows,
        "markers": markers,
        "order_a": order_a,
        "shipment_a": shipment_a,
        "event_a": event_a,
        "event_b": event_b,
        "evidence_b": evidence,
        "token_b": token_b,
    }


# --- filling the routes ----------------------------------------------------------------------------

_PARAM = re.compile(r"\(\?P<(\w+)>|<(?:\w+:)?(\w+)>")


def _params(pattern: str) -> list[str]:
    return [a or b for a, b in _PARAM.findall(pattern)]


def _api_model(route):
    """The model behind an API route (its viewset's queryset), or None for non-viewset routes."""
    cls = getattr(resolve(route.path).func, "cls", None)
    queryset = getattr(cls, "queryset", None)
    return (cls, queryset.model) if queryset is not None else (cls, None)


def _html_targets(world) -> dict[str, dict]:
    """The HTML pages with ids, filled with B's rows (or rows whose page could show B's data)."""
    rows = world["rows"]
    return {
        "masterdata:party_detail": {"pk": rows[Party].pk},
        "masterdata:party_update": {"pk": rows[Party].pk},
        "masterdata:product_detail": {"pk": rows[Product].pk},
        "masterdata:product_update": {"pk": rows[Product].pk},
        "masterdata:warehouse_detail": {"pk": rows[Warehouse].pk},
        "masterdata:warehouse_update": {"pk": rows[Warehouse].pk},
        "orders:order_detail": {"pk": rows[SalesOrder].pk},
        "orders:order_update": {"pk": rows[SalesOrder].pk},
        "orders:order_submit": {"pk": rows[SalesOrder].pk},
        "orders:order_approve": {"pk": rows[SalesOrder].pk},
        "orders:order_cancel": {"pk": rows[SalesOrder].pk},
        "orders:order_close": {"pk": rows[SalesOrder].pk},
        "orders:customer_pick": {"pk": rows[Party].pk},
        "exceptions_center:event_detail": {"number": rows[ExceptionEvent].number},
        "traceability:receipt_detail": {"pk": rows[Receipt].pk},
        "traceability:receipt_scan": {"pk": rows[Receipt].pk},
        "traceability:receipt_complete": {"pk": rows[Receipt].pk},
        "traceability:lot_detail": {"pk": rows[Lot].pk},
        "traceability:lot_trace_csv": {"pk": rows[Lot].pk},
        "traceability:lot_release": {"pk": rows[Lot].pk},
        "traceability:order_fulfil": {"order_pk": rows[SalesOrder].pk},
        "traceability:shipment_detail": {"pk": rows[Shipment].pk},
        "traceability:excursion_acknowledge": {"pk": rows[Excursion].pk},
        "attachment-download": {"pk": world["evidence_b"].pk},
        "api-attachment-download": {"pk": world["evidence_b"].pk},
        "account-token-revoke": {"token_key": world["token_b"].token_key},
        "api-token-revoke": {"token_key": world["token_b"].token_key},
    }


def _api_kwargs(route, params, rows) -> dict | None:
    cls, model = _api_model(route)
    if model not in rows:
        return None
    obj = rows[model]
    if obj is None:
        return dict.fromkeys(params, MISSING_ID)
    kwargs = {}
    for name in params:
        if name == "pk":
            kwargs[name] = obj.pk
        elif name == "code":
            kwargs[name] = getattr(obj, getattr(cls, "code_field", None) or "number")
        elif name == "task_id":
            kwargs[name] = obj.tasks.values_list("pk", flat=True).first() or MISSING_ID
        elif name == "step_id":
            kwargs[name] = obj.steps.values_list("pk", flat=True).first() or MISSING_ID
        else:
            return None
    return kwargs


def walk_urls(world) -> tuple[list[str], list[str]]:
    """Every GET-able URL of the project filled with B's rows; and the parameterised routes it could not
    fill (which must be listed in NOT_ROW_ROUTES)."""
    html = _html_targets(world)
    urls, unfilled = [], []
    for route in all_routes():
        if route.name.startswith("admin:") or route.path.startswith("/admin/"):
            continue  # the admin: staff only; its querysets are the models' own (walked through the API)
        params = [p for p in _params(route.pattern) if p != "format"]
        if "format" in _params(route.pattern):
            continue  # ".json" twins of the routes walked anyway
        if not params:
            urls.append(route.path)
            continue
        if route.name in NOT_ROW_ROUTES:
            continue
        kwargs = html.get(route.name)
        if kwargs is None and route.path.startswith("/api/"):
            kwargs = _api_kwargs(route, params, world["rows"])
        if kwargs is None:
            unfilled.append(f"{route.name} {route.pattern}")
            continue
        urls.append(reverse(route.name, kwargs=kwargs))
    return urls, unfilled


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _get_all(client, urls, *, search: bool) -> tuple[dict[str, str], list[str]]:
    """GET every URL (and, with ``search``, lists again with a search term); bodies by URL, and 5xx."""
    bodies, crashes = {}, []
    for url in urls:
        variants = [url]
        if search and not re.search(r"/\d+/|/code/", url):
            variants.append(f"{url}?search={SEARCH}&q={SEARCH}")
        for variant in variants:
            response = client.get(variant)
            if response.status_code >= 500:
                crashes.append(f"{variant} -> {response.status_code}")
            bodies[variant] = _body(response)
    return bodies, crashes


def _leaks(bodies: dict[str, str], markers: list[str]) -> list[str]:
    """Markers in a body; a page may echo its own URL (a 404 naming the number asked for), which leaks
    nothing the asker did not already type."""
    return [
        f"{url}: {marker}" for url, body in bodies.items() for marker in markers if marker in body and marker not in url
    ]


# --- the walk ----------------------------------------------------------------------------------------


def test_every_parameterised_route_is_filled_by_the_walk(world):
    # given the project's URLs
    # when
    urls, unfilled = walk_urls(world)

    # then a new page or endpoint with an id makes this fail until the walk knows its rows
    assert unfilled == [], "add these routes to HTML_TARGETS / B's rows, or to NOT_ROW_ROUTES:\n" + "\n".join(unfilled)
    assert len(urls) > 60


def test_rep_a_sees_nothing_of_rep_b_on_any_page_or_endpoint(client, world):
    # given rep A logged in, and rep B's documents
    client.force_login(world["rep_a"])
    client.raise_request_exception = False
    urls, _unfilled = walk_urls(world)

    # when every page and endpoint is read, lists also with a search term
    bodies, crashes = _get_all(client, urls, search=True)

    # then none shows B's customer, contact, order, shipment, return, event or readings; nothing crashed
    assert crashes == []
    assert _leaks(bodies, world["markers"]) == []
    # and rep A's own documents are there (the walk is not trivially empty)
    assert any(world["order_a"].number in body for body in bodies.values())
    assert any(world["event_a"].number in body for body in bodies.values())


def test_every_other_role_finds_rep_b_documents(client, make_user, world):
    # given a user of each role that sees every order (one world for all: building it is the slow part)
    urls, _unfilled = walk_urls(world)
    client.raise_request_exception = False
    blind, crashed = [], []
    for role in SEE_ALL_ROLES:
        extra = {"is_staff": True, "is_superuser": True} if role == "admin" else {}
        client.force_login(make_user(role, **extra))

        # when
        bodies, crashes = _get_all(client, urls, search=False)

        # then B's customer shows somewhere (the marker is real: the walk cannot pass on a typo)
        if not any(MARKER in body for body in bodies.values()):
            blind.append(role)
        crashed += [f"{role}: {crash}" for crash in crashes]

    # then
    assert blind == []
    assert crashed == []


def test_rep_b_sees_their_own_documents(client, world):
    # given rep B
    client.force_login(world["rep_b"])
    rows = world["rows"]

    # when / then B reads their order, shipment, return, event and the lot's trace with their customer
    assert client.get(reverse("orders:order_detail", args=[rows[SalesOrder].pk])).status_code == 200
    assert MARKER in _body(client.get(reverse("traceability:shipment_detail", args=[rows[Shipment].pk])))
    assert MARKER in _body(client.get(reverse("exceptions_center:event_detail", args=[rows[ExceptionEvent].number])))
    assert MARKER in _body(client.get(reverse("traceability:lot_detail", args=[rows[Lot].pk])))
    assert MARKER in _body(client.get(reverse("traceability:lot_trace_csv", args=[rows[Lot].pk])))
    assert client.get(f"/api/v1/traceability/returns/{rows[CustomerReturn].pk}/").status_code == 200


def test_hidden_and_missing_ids_answer_alike_for_rep_a(client, world):
    # given rep A and B's rows
    client.force_login(world["rep_a"])
    rows = world["rows"]
    hidden = {
        "/api/v1/orders/{}/": rows[SalesOrder].pk,
        "/api/v1/masterdata/parties/{}/": rows[Party].pk,
        "/api/v1/traceability/shipments/{}/": rows[Shipment].pk,
        "/api/v1/traceability/returns/{}/": rows[CustomerReturn].pk,
        "/api/v1/traceability/allocations/{}/": rows[Allocation].pk,
        "/api/v1/traceability/temperature-readings/{}/": rows[TemperatureReading].pk,
        "/api/v1/traceability/excursions/{}/": rows[Excursion].pk,
        "/api/v1/traceability/recall-scopes/{}/": rows[RecallScopeJob].pk,
        "/api/v1/exceptions/events/{}/": rows[ExceptionEvent].pk,
        "/orders/{}/": rows[SalesOrder].pk,
        "/traceability/shipments/{}/": rows[Shipment].pk,
        "/traceability/orders/{}/fulfil/": rows[SalesOrder].pk,
    }

    # when / then each answers 404 with the same body as an id that does not exist
    for template, pk in hidden.items():
        seen, missing = client.get(template.format(pk)), client.get(template.format(MISSING_ID))
        assert (seen.status_code, missing.status_code) == (404, 404), template
        assert template.startswith("/api/") is False or seen.json() == missing.json(), template
    event = client.get(reverse("exceptions_center:event_detail", args=[rows[ExceptionEvent].number]))
    assert event.status_code == 404


def test_hidden_event_actions_404_for_rep_a(client, world):
    # given rep A and B's event
    client.force_login(world["rep_a"])
    event = world["event_b"]

    # when rep A posts an action on it
    response = client.post(reverse("exceptions_center:event_action", args=[event.number, "comment"]), {"comment": "x"})

    # then it is as missing, and nothing was logged
    assert response.status_code == 404
    assert not event.log.filter(action="commented").exists()


def test_shared_models_stay_readable_for_rep_a(client, world):
    # given rep A; lots, serials, products and warehouses carry no customer data
    client.force_login(world["rep_a"])

    # when / then the lot page opens (its trace shows B's customer only as a count)
    response = client.get(reverse("traceability:lot_detail", args=[world["rows"][Lot].pk]))
    assert response.status_code == 200
    assert response.context["forward"]["other_customers"]["count"] == 1
    assert all(c["party__name"] != world["rows"][Party].name for c in response.context["forward"]["customers"])


def test_rep_group_is_the_one_limited_role():
    # given the roles: every role but sales sees every order (so the walk's split into "rep A" and
    # "everyone else" covers them all)
    from erp.roles import ROLES

    # then
    assert set(ROLES) - set(SEE_ALL_ROLES) == {"sales"}
