"""Never a 5xx, tried by machine: schemathesis generates requests from the whole OpenAPI schema (valid and
invalid ones: missing fields, wrong types, odd strings, boundary numbers, ids such as ``null,null``) and
sends them to the application in-process (WSGI), as an administrator and as a sales rep.

The one check is ``not_a_server_error``. The run is bounded so that both users together take about two
minutes on two cores: few examples per operation, a fixed seed (the same requests every run, so a
failure is reproducible), no shrinking. Raise ``ERP_SCHEMATHESIS_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.exceptions_center.factories import event_for, rule_with_route
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory

MAX_EXAMPLES = int(os.environ.get("ERP_SCHEMATHESIS_EXAMPLES", "10"))


def _auth_headers(client) -> dict[str, str]:
    """The ``Authorization`` header of an API client logged in as integrators are (``api_client_for``)."""
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


def _config(headers) -> SchemathesisConfig:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261204,
            "suppress-health-check": ["all"],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "mode": "all",
                "no-shrink": True,
                "database": "none",
                "deterministic": True,
            },
            # The coverage phase (every boundary of every parameter) sends ~10,000 requests per user here,
            # far over the suite's budget; the bad-input cases it finds are pinned in test_bad_input.py.
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": False}, "fuzzing": {"enabled": True}},
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        }
    )
    config.projects.default.update(headers=headers)
    return config


def _some_rows() -> None:
    """A few rows of each kind, so that generated ids sometimes hit something."""
    for _ in range(2):
        PartyFactory()
        ProductFactory()
        WarehouseFactory()
    event_for(rule_with_route("compliance", "quality", category="compliance", severity="high"))


def _schema(client):
    _some_rows()
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", WSGIHandler(), config=_config(_auth_headers(client))
    )


@pytest.fixture
def _keep_connection():
    """As Django's test client does: a request must not close the connection that holds the test's
    transaction (``close_old_connections`` runs when each request starts and finishes)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_schema(db, _keep_connection, make_user, api_client_for):
    return _schema(api_client_for(make_user("admin", is_staff=True, is_superuser=True)))


@pytest.fixture
def sales_schema(db, _keep_connection, make_user, api_client_for):
    return _schema(api_client_for(make_user("sales")))


admin_api = schemathesis.pytest.from_fixture("admin_schema")
sales_api = schemathesis.pytest.from_fixture("sales_schema")


@admin_api.parametrize()
def test_no_server_error_as_admin(case):
    case.call_and_validate(checks=[not_a_server_error])


@sales_api.parametrize()
def test_no_server_error_as_sales_rep(case):
    case.call_and_validate(checks=[not_a_server_error])
