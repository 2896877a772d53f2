"""``manage.py check --deploy`` is clean under production variables (DEBUG off, real secret, hosts)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_under_production_variables():
    # given the environment a production deployment sets, and nothing of the test or debug set-up
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "ERP_TESTING", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="erp.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://erp.example.com",
    )

    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output


def test_settings_refuse_to_start_without_a_secret_key_when_not_debugging():
    # given a production-like environment (a configured database) without a secret key
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "ERP_TESTING", "DJANGO_SECRET_KEY")}
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/erp"

    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
