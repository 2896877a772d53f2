"""Ports: the extension points a lower layer offers and higher apps fill in ``AppConfig.ready()``.

A lower layer never imports a higher one (docs/architecture.md). When it must reach one — the exception
center needs facts about an order, traceability must move an order when its shipment leaves — the lower
module declares a ``Port`` next to the code that calls it, and the higher app registers an implementation
from its ``AppConfig.ready()``::

    # traceability/ports.py (lower layer)
    shipment_dispatched = Port("traceability.shipment_dispatched", doc="A shipment left the warehouse.")

    # orders/apps.py (higher layer)
    def ready(self):
        from traceability.ports import shipment_dispatched
        shipment_dispatched.register(lifecycle.on_shipment_dispatched, app="orders")

Implementations are called in a defined order (``order``, then registration order) inside the caller's
transaction. A keyed port holds implementations per key (a trigger event, a model label). Every port is
listed by ``manage.py erp_ports``, so what is plugged in where can be read in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Every port declared in the process, by name (for ``manage.py erp_ports`` and the tests).
PORTS: dict[str, Port] = {}


@dataclass(frozen=True)
class Implementation:
    """One registered implementation: the callable (or provider object), who registered it and its rank."""

    target: Any
    app: str
    order: int
    key: str | None

    @property
    def label(self) -> str:
        target = self.target
        module = getattr(target, "__module__", None) or type(target).__module__
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        return f"{module}.{name}"


@dataclass
class Port:
    """A named extension point. ``keyed`` ports hold implementations per key; ``single`` ones at most one
    per key (a second registration for the same key is a programming error and raises)."""

    name: str
    doc: str = ""
    keyed: bool = False
    single: bool = False
    _items: list[Implementation] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.name in PORTS:
            raise RuntimeError(f"port {self.name!r} is declared twice")
        PORTS[self.name] = self

    def register(self, target: Any, *, app: str, key: str | None = None, order: int = 100) -> Any:
        """Plug ``target`` in (idempotent: registering the same target for the same key twice keeps one)."""
        if self.keyed and key is None:
            raise TypeError(f"port {self.name!r} is keyed: pass key=")
        if not self.keyed and key is not None:
            raise TypeError(f"port {self.name!r} takes no key")
        if any(item.target is target and item.key == key for item in self._items):
            return target
        if self.single and any(item.key == key for item in self._items):
            raise RuntimeError(f"port {self.name!r} already has an implementation for {key!r}")
        self._items.append(Implementation(target=target, app=app, order=order, key=key))
        # Stable sort: equal orders keep registration order.
        self._items.sort(key=lambda item: item.order)
        return target

    def implementations(self, key: str | None = None) -> list[Any]:
        """The targets registered (for ``key`` on a keyed port), in call order."""
        return [item.target for item in self._items if not self.keyed or item.key == key]

    def keys(self) -> list[str]:
        seen: list[str] = []
        for item in self._items:
            if item.key is not None and item.key not in seen:
                seen.append(item.key)
        return seen

    def get(self, key: str | None = None) -> Any | None:
        """The one implementation of a ``single`` port for ``key`` (None when nothing is plugged in)."""
        found = self.implementations(key)
        return found[0] if found else None

    def call_all(self, *args: Any, key: str | None = None, **kwargs: Any) -> list[Any]:
        """Call every implementation in order with the same arguments; return their results."""
        return [target(*args, **kwargs) for target in self.implementations(key)]

    def describe(self) -> list[Implementation]:
        return list(self._items)

    @contextmanager
    def temporarily(
        self, target: Any, *, app: str = "tests", key: str | None = None, order: int = 100, only: bool = False
    ) -> Iterator[None]:
        """Register ``target`` for the duration of a ``with`` block (tests). ``only``: hide the others for
        that key meanwhile."""
        saved = list(self._items)
        if only:
            self._items = [item for item in self._items if self.keyed and item.key != key]
        self.register(target, app=app, key=key, order=order)
        try:
            yield
        finally:
            self._items = saved


def port(name: str) -> Port:
    """The declared port called ``name`` (KeyError when no module declared it)."""
    return PORTS[name]
