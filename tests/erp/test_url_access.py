"""Walk EVERY URL pattern of the project as an anonymous visitor and as a logged-in user without any role,
with GET and POST, and prove nothing leaks: only the public pages may answer 200; everything else
redirects to a login page or answers 401/403/404/405.

The URLs come from the root URLconf, so later apps' pages and API endpoints are covered automatically.
Path parameters get dummy values; ids are ``DUMMY_ID``, the id the test gives one row of each master-data
model, so detail pages are tried on rows that exist, not only on missing ones.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import get_converters
from django.urls.resolvers import RegexPattern, RoutePattern

# URL names anyone may open (GET 200). Everything here is public by design and shows no business data.
PUBLIC = {
    "login",
    "admin:login",
    "healthz",
    "set_language",
    "schema",
    "api-docs",
    "api-redoc",
    # Django's password-reset pages: a form and "done" pages; the e-mail goes only to a known address.
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# Extra pages a logged-in user without any role may open: their own account and empty shells.
LOGGED_IN = {
    "home",  # live counts only for models the user may see: none here
    "password_change",
    "password_change_done",
    "api-root",  # the list of API endpoints, no data
    "api-v1-root",  # the same for the whole API version
    # the user's own API tokens: list, revoke one / all, logout (never anybody else's)
    "account-tokens",
    "account-tokens-revoke-all",
    "account-token-revoke",
    "api-token-list",
    "api-token-revoke",
    "api-logout",
    "api-logout-all",
    # the user's own in-app notifications (list and "mark as read"), never anybody else's
    "notification-list",
    "notification-mark-read",
    "exceptions_center:notification_list",
    "exceptions_center:notifications_read",
}
# POSTs that do something for anyone by design.
PUBLIC_POST = {
    "login",
    "admin:login",
    "logout",
    "admin:logout",
    "set_language",
    "api-token",
    "password_reset",
    "password_reset_confirm",
    "healthz",
}
DENIED = {401, 403, 404, 405}
DUMMY_ID = 424242


@dataclass
class Route:
    path: str
    name: str
    pattern: str


def _value_for(name: str, regex: str | None = None) -> str:
    if name in ("pk", "id", "object_id", "version_id") or name.endswith("_id") or name.endswith("_pk"):
        return str(DUMMY_ID)
    if name == "format":
        return "json"
    if name == "uidb64":
        return "MQ"
    if name == "token":
        return "set-password"
    if name in ("uuid",) or (regex and "[0-9a-f-]" in regex):
        return str(uuid.UUID(int=1))
    if regex:
        alternatives = re.fullmatch(r"[\w|-]+", regex)
        if alternatives:  # (?P<app_label>auth|masterdata|…): take the first choice
            return regex.split("|")[0]
    return "x1"


def _fill_route(route: str) -> str:
    converters = get_converters()

    def sub(match: re.Match) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        value = _value_for(name)
        regex = converters[converter].regex
        # e.g. DRF's format suffix converter wants ".json"
        for candidate in (value, f".{value}", str(DUMMY_ID), str(uuid.UUID(int=1)), "x1"):
            if re.fullmatch(regex, candidate):
                return candidate
        return value

    return re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def _fill_regex(regex: str) -> str:
    text = regex.lstrip("^").rstrip("$").replace(r"\Z", "")
    # named groups, innermost first
    while True:
        match = re.search(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", text)
        if not match:
            break
        text = text[: match.start()] + _value_for(match.group(1), match.group(2)) + text[match.end() :]
    text = re.sub(r"\(\?:([^()]*)\)\?", "", text)  # optional non-capturing groups: leave out
    text = text.replace(r"\.", ".").replace("/?", "/").replace("?", "")
    return text


def _walk(resolvers, prefix: str = "", namespace: str = ""):
    for entry in resolvers:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            piece = _fill_route(str(pattern))
        elif isinstance(pattern, RegexPattern):
            piece = _fill_regex(pattern.regex.pattern)
        else:  # LocalePrefixPattern and friends
            piece = str(pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + piece, ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(path="/" + prefix + piece, name=name, pattern=prefix + str(pattern))


def all_routes() -> list[Route]:
    routes, seen = [], set()
    for route in _walk(get_resolver().url_patterns):
        if route.path not in seen:
            seen.add(route.path)
            routes.append(route)
    return routes


def _login_redirect(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and "/login/" in location


def _harmless(method: str, response) -> bool:
    """Denied, sent to a login page, or (GET only) redirected: the target is walked on its own."""
    if response.status_code in DENIED or _login_redirect(response):
        return True
    return method == "get" and response.status_code in (301, 302)


@pytest.fixture
def some_rows(db, admin_user):
    """One row of each master-data model with id ``DUMMY_ID``, so detail URLs hit something real."""
    from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory

    return PartyFactory(id=DUMMY_ID), ProductFactory(id=DUMMY_ID), WarehouseFactory(id=DUMMY_ID)


def test_every_url_pattern_resolves_with_dummy_parameters():
    # given
    routes = all_routes()

    # when
    unresolved = []
    for route in routes:
        try:
            resolve(route.path)
        except Exception:
            unresolved.append(route.pattern)

    # then the walk covers the project: nothing it generated fails to resolve
    assert len(routes) > 40
    assert unresolved == []


@pytest.mark.django_db
def test_anonymous_visitors_see_only_public_pages(client, some_rows):
    # given
    client.raise_request_exception = False  # a crash is reported with the others, as a 500
    leaks = []

    # when
    for route in all_routes():
        for method in ("get", "post"):
            response = getattr(client, method)(route.path)
            public = route.name in (PUBLIC_POST if method == "post" else PUBLIC)
            ok = (public and response.status_code < 500) or _harmless(method, response)
            if not ok:
                leaks.append(f"{method.upper()} {route.path} ({route.name}) -> {response.status_code}")

    # then
    assert leaks == [], "\n".join(leaks)


@pytest.mark.django_db
def test_users_without_a_role_see_nothing(client, make_user, some_rows):
    # given a logged-in user in no group, with no object permissions
    nobody = make_user()
    client.force_login(nobody)
    client.raise_request_exception = False
    leaks = []

    # when
    for route in all_routes():
        for method in ("get", "post"):
            if route.name in ("logout", "admin:logout"):
                continue  # would end the session for the routes after it
            response = getattr(client, method)(route.path)
            allowed = (PUBLIC_POST if method == "post" else PUBLIC) | LOGGED_IN
            ok = (route.name in allowed and response.status_code < 500) or _harmless(method, response)
            if not ok:
                leaks.append(f"{method.upper()} {route.path} ({route.name}) -> {response.status_code}")

    # then
    assert leaks == [], "\n".join(leaks)


@pytest.mark.django_db
def test_the_home_page_of_a_user_without_role_shows_no_counts(client, make_user, some_rows):
    # given
    client.force_login(make_user())

    # when
    response = client.get("/")

    # then
    assert response.status_code == 200
    assert response.context["counts"] == []


def test_navigation_highlights_only_the_most_specific_section(rf, make_user):
    # given a warehouse user on a lot page (under the receiving section's URL prefix)
    from django.urls import reverse

    from erp.context_processors import navigation

    user = make_user("warehouse")
    items = navigation(_request(rf, user, reverse("traceability:lot_list")))["nav_items"]

    # then exactly one entry is active
    assert [item["url"] for item in items if item["active"]] == [reverse("traceability:lot_list")]


def _request(rf, user, path):
    request = rf.get(path)
    request.user = user
    return request
