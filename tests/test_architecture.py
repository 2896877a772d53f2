"""House rules that keep the flow readable (STYLE.md): no signals for domain logic, side effects only
after commit, no eval."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "erp",
    "masterdata",
    "orders",
    "exceptions_center",
    "traceability",
    "quality",
    "compliance",
    "channels_mgmt",
    "finance",
]


def _python_files(*, under: str | None = None):
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if under and under not in path.parts and path.stem != under:
                continue
            yield path


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def test_no_domain_signal_receivers():
    # given every module of our apps
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            # when a function is decorated with @receiver(post_save/pre_save/post_delete ...)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    text = ast.unparse(deco)
                    if text.startswith("receiver(") and any(
                        s in text for s in ("post_save", "pre_save", "post_delete", "pre_delete", "m2m_changed")
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for call in _calls(tree):
            text = ast.unparse(call.func)
            if text.endswith((".post_save.connect", ".pre_save.connect", ".post_delete.connect")) or text in (
                "post_save.connect",
                "pre_save.connect",
                "post_delete.connect",
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    # then there are none: services call the next step explicitly
    assert offenders == []


def test_services_queue_tasks_only_on_commit():
    # given every services module (services.py or services/*.py)
    offenders = []
    for path in _python_files(under="services"):
        tree = ast.parse(path.read_text(), filename=str(path))
        on_commit_lambdas = set()
        for call in _calls(tree):
            if ast.unparse(call.func).endswith("on_commit"):
                for arg in call.args:
                    for inner in ast.walk(arg):
                        on_commit_lambdas.add(id(inner))
        # when a task is queued with .delay()/.apply_async() outside a transaction.on_commit callback
        for call in _calls(tree):
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("delay", "apply_async")
                and id(call) not in on_commit_lambdas
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    # then none: use transaction.on_commit / delay_on_commit so nothing runs for a rolled-back write
    assert offenders == []


def test_no_eval_or_exec_in_project_code():
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for call in _calls(tree):
            if isinstance(call.func, ast.Name) and call.func.id in ("eval", "exec"):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_openapi_schema_is_valid_without_warnings():
    # given the whole API
    from django.core.management import call_command

    # when the schema is generated and validated, warnings counting as failures
    # then it succeeds (SystemExit on a warning or an invalid schema)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
