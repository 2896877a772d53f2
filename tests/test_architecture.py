"""House rules that keep the flow readable (STYLE.md): no signals for domain logic, side effects only
after commit, no eval."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from erp.kernel.our_apps import OUR_APPS

ROOT = Path(__file__).resolve().parent.parent
APPS = list(OUR_APPS)


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


# --- layers (docs/architecture.md) -----------------------------------------------------------------

# Function-local imports of another app are allowed only where the registry requires them: in
# ``AppConfig.ready()``, which runs once every model is loaded and plugs the app into lower ports.
LOCAL_IMPORT_ALLOWED_IN = {"ready"}


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in OUR_APPS else None


def test_no_function_local_imports_of_another_app():
    # given every module of our apps
    offenders = []
    for path in _python_files():
        app = path.relative_to(ROOT).parts[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef) or func.name in LOCAL_IMPORT_ALLOWED_IN:
                continue
            # when a function imports a module of another of our apps
            for node in ast.walk(func):
                modules = []
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                for module in modules:
                    if _app_of(module) not in (None, app):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    # then none: imports sit at the top where the layers contract sees them; a lower app that must
    # reach a higher one does it through a port (erp/kernel/ports.py)
    assert offenders == []


def _order_status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a sales order's status: ``<…order…>.status = …`` and ``status=OrderStatus.X``
    given to a call (create/update/constructor), except the initial ``OrderStatus.DRAFT``."""
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for inner in ast.walk(target):
                if (
                    isinstance(inner, ast.Attribute)
                    and inner.attr == "status"
                    and "order" in ast.unparse(inner.value).lower()
                ):
                    lines.append(node.lineno)
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = ast.unparse(keyword.value) if keyword.arg == "status" else ""
                if value.startswith("OrderStatus.") and value != "OrderStatus.DRAFT":
                    lines.append(node.lineno)
    return lines


# Demo data (``manage.py seed_demo``) writes two already-approved orders as rows, as fixtures do.
STATUS_WRITE_ALLOWED = {"orders/lifecycle.py", "traceability/demo.py"}


def test_only_the_order_lifecycle_sets_an_order_status():
    # given every module of our apps but orders/lifecycle.py
    offenders = []
    for path in _python_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in STATUS_WRITE_ALLOWED:
            continue
        # when one assigns a status to an order
        tree = ast.parse(path.read_text(), filename=str(path))
        offenders += [f"{relative}:{line}" for line in _order_status_writes(tree)]
    # then none: orders.lifecycle.order_transition is the only way (its table says who may)
    assert offenders == []


def test_the_status_write_check_sees_a_direct_assignment():
    # given code that sets an order's status directly, three ways
    tree = ast.parse(
        "order.status = OrderStatus.SHIPPED\n"
        "SalesOrder.objects.filter(pk=1).update(status=OrderStatus.CLOSED)\n"
        "self.order.status = 'closed'\n"
        "SalesOrder(status=OrderStatus.DRAFT)\n"
        "lot.status = LotStatus.RELEASED\n"
    )
    # then each is found, the initial draft and other models' status are not
    assert _order_status_writes(tree) == [1, 3, 2]


def _importlinter_config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["importlinter"]


def test_the_layers_contract_names_our_apps_and_every_erp_module():
    # given the import-linter configuration and the one app list
    config = _importlinter_config()
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    # then the contract covers exactly our apps
    assert set(config["root_packages"]) == set(OUR_APPS)
    assert set(OUR_APPS) - {"erp"} <= named
    # and every module of erp/ is in the bottom (generic) or top (aggregation) layer
    modules = {
        f"erp.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "erp").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert modules - {"erp.migrations"} <= named


def test_the_layers_contract_is_kept():
    # given the code / when import-linter checks the contracts (as `make lint` and CI do)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # then every contract is kept: no layer imports a higher one, no cycle between apps
    assert result.returncode == 0, result.stdout[-3000:]
