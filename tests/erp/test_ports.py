"""The port registry (erp.kernel.ports): order, keys, single ports, temporary registration."""

from __future__ import annotations

import pytest

from erp.kernel.ports import PORTS, Port, port


def _fresh(name: str, **kwargs) -> Port:
    PORTS.pop(name, None)
    return Port(name, **kwargs)


def test_port_calls_implementations_in_order_then_registration_order():
    # given a port with three implementations
    hooks = _fresh("tests.ordered")
    calls: list[str] = []
    hooks.register(lambda: calls.append("b"), app="b", order=200)
    hooks.register(lambda: calls.append("a1"), app="a")
    hooks.register(lambda: calls.append("a2"), app="a")
    # when it is called
    hooks.call_all()
    # then lower orders run first, equal orders in registration order
    assert calls == ["a1", "a2", "b"]
    assert port("tests.ordered") is hooks


def test_keyed_port_keeps_implementations_per_key_and_refuses_missing_key():
    # given a keyed port
    providers = _fresh("tests.keyed", keyed=True)
    first, second = object(), object()
    providers.register(first, app="x", key="order.saved")
    providers.register(second, app="y", key="lot.status_changed")
    providers.register(first, app="x", key="order.saved")  # idempotent
    # then each key has its own
    assert providers.implementations("order.saved") == [first]
    assert providers.keys() == ["order.saved", "lot.status_changed"]
    with pytest.raises(TypeError):
        providers.register(object(), app="z")


def test_single_port_refuses_a_second_implementation_for_a_key():
    # given a single keyed port with one implementation
    refreshers = _fresh("tests.single", keyed=True, single=True)
    refreshers.register(len, app="orders", key="orders.salesorder")
    # when another registers for the same key, then it is refused
    with pytest.raises(RuntimeError):
        refreshers.register(max, app="other", key="orders.salesorder")
    assert refreshers.get("orders.salesorder") is len
    assert refreshers.get("unknown") is None


def test_temporarily_registers_for_a_block_only():
    # given a keyed port with one implementation
    providers = _fresh("tests.temp", keyed=True)
    real, fake = object(), object()
    providers.register(real, app="x", key="k")
    # when a test plugs in its own, alone
    with providers.temporarily(fake, key="k", only=True):
        assert providers.implementations("k") == [fake]
    # then the registry is as before afterwards
    assert providers.implementations("k") == [real]


def test_a_port_name_is_declared_once():
    _fresh("tests.twice")
    with pytest.raises(RuntimeError):
        Port("tests.twice")
