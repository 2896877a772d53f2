"""Our apps, listed once. Settings (``INSTALLED_APPS``), the URLconf and API root, the roles, the
tests and the layer checks all read this list; the layers themselves (which app may import which) are
the import-linter contract in ``pyproject.toml`` (a test keeps its app list equal to this one).

Adding an app: add it here (in ``INSTALLED_APPS`` order: templates, static files and translations of an
earlier app win), put it in its layer in ``pyproject.toml`` and ``docs/architecture.md``.
"""

from __future__ import annotations

# Every app of ours, in INSTALLED_APPS order.
OUR_APPS: tuple[str, ...] = (
    "erp",
    "masterdata",
    "orders",
    "exceptions_center",
    "traceability",
    "quality",
    "compliance",
    "channels_mgmt",
    "finance",
)

# The business apps: each has urls.py, api/urls.py and model permissions the roles hand out.
DOMAIN_APPS: tuple[str, ...] = tuple(app for app in OUR_APPS if app != "erp")

# The API path segment of an app, where it is not the app's name (/api/v1/exceptions/…).
API_PREFIX: dict[str, str] = {"exceptions_center": "exceptions", "channels_mgmt": "channels"}
