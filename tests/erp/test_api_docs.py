"""The API docs pages work offline (DESIGN.md: no CDN at run time): the pages name no external host,
every asset they load is served by the application, and Swagger UI's online validator badge is off."""

import re

import pytest

pytestmark = pytest.mark.django_db

DOCS_PAGES = ["/api/docs/", "/api/redoc/"]
EXTERNAL = re.compile(r"""(?:https?:)?//(?!testserver[/:"'])[\w.-]+\.[a-z]{2,}""", re.IGNORECASE)


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_reference_no_external_host(client, path):
    # when
    response = client.get(path)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert EXTERNAL.findall(html) == []
    assert "fonts.googleapis.com" not in html


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_load_only_assets_this_server_serves(client, path):
    # given
    html = client.get(path).content.decode()
    assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)

    # when
    statuses = {url: client.get(url).status_code for url in assets}

    # then
    assert assets, "the page loads its UI from somewhere"
    # Swagger UI's start-up script is its own URL (the split view: no inline script under the CSP)
    assert all(url.startswith("/static/") or url == "/api/docs/?script=" for url in assets), assets
    assert statuses == dict.fromkeys(assets, 200)


def test_swagger_ui_does_not_send_the_schema_to_the_online_validator(client):
    # when (the split view serves the start-up script, with the settings, at ?script=)
    script = client.get("/api/docs/", {"script": ""}).content.decode()

    # then
    assert '"validatorUrl": null' in script


def test_the_schema_documents_the_change_reason_header_on_writes_only(client):
    # when
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    # then
    def headers(path, method):
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "header"}

    parties, party = "/api/v1/masterdata/parties/", "/api/v1/masterdata/parties/{id}/"
    assert "X-Change-Reason" in headers(parties, "post")
    assert "X-Change-Reason" in headers(party, "put") and "X-Change-Reason" in headers(party, "patch")
    assert "X-Change-Reason" not in headers(parties, "get") | headers(party, "get")
    # a write whose service keeps no reason does not advertise one
    assert "X-Change-Reason" not in headers("/api/v1/traceability/shipments/", "post")
