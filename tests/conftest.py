"""Shared fixtures: users per role, API clients. Factories live in tests/<app>/factories.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Production hashing (PBKDF2, 1M rounds) costs ~0.5 s per user; tests need no strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """Create a user in the given roles (group names from erp.roles.ROLES)."""
    counter = {"n": 0}

    def _make(*roles: str, username: str | None = None, **extra):
        counter["n"] += 1
        name = username or f"{'_'.join(roles) or 'plain'}{counter['n']}"
        user = get_user_model().objects.create_user(
            username=name, password=PASSWORD, email=f"{name}@example.com", **extra
        )
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return _make


@pytest.fixture
def sales_user(make_user):
    return make_user("sales")


@pytest.fixture
def manager_user(make_user):
    return make_user("sales_manager")


@pytest.fixture
def auditor_user(make_user):
    return make_user("auditor")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def api_client_for():
    """An API client authenticated as the given user by token (as integrators call us)."""

    def _client(user) -> APIClient:
        from rest_framework.authtoken.models import Token

        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
