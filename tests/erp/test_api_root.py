"""``/api/v1/`` lists the API's resources, and every path under ``/api/`` that no endpoint serves answers
a JSON 404 in the one error shape (never Django's HTML page), for any method and any caller."""

import pytest

from tests.masterdata.test_api import assert_error_shape

pytestmark = pytest.mark.django_db


def test_api_root_lists_the_resources_with_their_urls(api_client_for, make_user):
    # given
    client = api_client_for(make_user("integrator"))

    # when
    response = client.get("/api/v1/")

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    resources = body["resources"]
    assert resources["masterdata/parties"] == "http://testserver/api/v1/masterdata/parties/"
    assert resources["orders"] == "http://testserver/api/v1/orders/"
    assert {"masterdata/products", "exceptions/events", "traceability/lots"} <= set(resources)
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["auth_token"] == "http://testserver/api/v1/auth/token/"


def test_every_resource_the_root_names_answers(api_client_for, make_user):
    # given
    client = api_client_for(make_user("admin", is_staff=True, is_superuser=True))
    resources = client.get("/api/v1/").json()["resources"]

    # when
    statuses = {name: client.get(url).status_code for name, url in resources.items()}

    # then a list, or 405 for a resource that only takes POSTs (stock operations)
    assert {name: code for name, code in statuses.items() if code not in (200, 405)} == {}


def test_api_root_needs_authentication(client):
    # when
    response = client.get("/api/v1/")

    # then
    assert_error_shape(response, 401, "not_authenticated")


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/nope", "/api/nope/", "/api/v2/masterdata/parties/"])
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_unknown_api_paths_answer_a_json_404(client, path, method):
    # when
    response = getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="en")

    # then
    assert response["Content-Type"].startswith("application/json")
    body = assert_error_shape(response, 404, "not_found")
    assert body["message"] == "Not found."


def test_an_unknown_api_path_gets_its_message_in_chinese_by_default(api_client_for, make_user):
    # when
    response = api_client_for(make_user("integrator")).get("/api/v1/masterdata/nope/")

    # then
    body = assert_error_shape(response, 404, "not_found")
    assert body["message"] != "Not found."


def test_a_get_without_the_trailing_slash_is_still_redirected(api_client_for, make_user):
    # given
    client = api_client_for(make_user("integrator"))

    # when
    response = client.get("/api/v1/masterdata/parties?page_size=5")

    # then
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/masterdata/parties/?page_size=5"


def test_a_post_without_the_trailing_slash_is_told_the_right_path(api_client_for, make_user):
    # given
    client = api_client_for(make_user("integrator"))

    # when
    response = client.post("/api/v1/masterdata/warehouses", {"code": "WH-X"}, format="json")

    # then nothing is created and the body is not silently dropped by a redirect
    body = assert_error_shape(response, 404, "not_found")
    assert body["details"] == {"did_you_mean": "/api/v1/masterdata/warehouses/"}


def test_pages_outside_the_api_keep_the_html_404(client, admin_user):
    # given
    client.force_login(admin_user)

    # when
    response = client.get("/masterdata/nope/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
