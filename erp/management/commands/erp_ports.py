"""``manage.py erp_ports``: every port (erp/kernel/ports.py), what it is for, and what each app plugged in.

Ports are the only way a lower layer reaches a higher one (docs/architecture.md); this command is the one
place to read who plugged in what. ``--markdown`` prints the table pasted into docs/architecture.md.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand

from erp.kernel.our_apps import OUR_APPS
from erp.kernel.ports import PORTS, Implementation, Port


def _declare_all() -> None:
    """Import every app's ``ports`` module, so a port nobody filled in yet is listed too."""
    for app in OUR_APPS:
        if find_spec(f"{app}.ports") is not None:
            import_module(f"{app}.ports")


def _target(item: Implementation) -> str:
    """A function or class by its dotted name; a value (a URL name, a dataclass) as its repr; an object whose
    repr is the default one (a fact provider) as an instance of its class, so the listing is the same on
    every run."""
    target = item.target
    if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target):
        return item.label
    if type(target).__repr__ is object.__repr__:
        return f"{type(target).__module__}.{type(target).__qualname__}()"
    return repr(target)


def _kind(port: Port) -> str:
    if port.keyed:
        return "keyed, one per key" if port.single else "keyed"
    return "one" if port.single else "list"


class Command(BaseCommand):
    help = "List every port, its purpose and what each app plugged into it."

    def add_arguments(self, parser):
        parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the docs)")

    def handle(self, *args, **options) -> None:
        _declare_all()
        ports = [PORTS[name] for name in sorted(PORTS)]
        if options["markdown"]:
            self.stdout.write("| port | kind | what for | plugged in (app: key → implementation) |")
            self.stdout.write("| --- | --- | --- | --- |")
            for port in ports:
                plugged = "<br>".join(
                    f"{item.app}: {item.key + ' → ' if item.key else ''}`{_target(item)}`" for item in port.describe()
                )
                self.stdout.write(f"| `{port.name}` | {_kind(port)} | {port.doc} | {plugged or '—'} |")
            return
        for port in ports:
            self.stdout.write(f"{port.name}  [{_kind(port)}]")
            if port.doc:
                self.stdout.write(f"    {port.doc}")
            items = port.describe()
            if not items:
                self.stdout.write("    (nothing plugged in)")
            for item in items:
                key = f"{item.key}: " if item.key else ""
                self.stdout.write(f"    - {item.app} (order {item.order}) {key}{_target(item)}")
