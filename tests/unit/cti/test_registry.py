"""CTI adapters through entry points: discovery, broken plugins, settings validation, keyring secrets."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import ClassVar

import keyring
import pytest

from usd_desktop.core import plugins
from usd_desktop.cti import registry as registry_module
from usd_desktop.cti.adapters.http_listener import KEYRING_SERVICE, HttpListenerAdapter
from usd_desktop.cti.adapters.simulator import SimulatorAdapter
from usd_desktop.cti.contract import Adapter, AdapterSettings, CtiError
from usd_desktop.cti.registry import GROUP, AdapterRegistry


class _Settings(AdapterSettings):
    username: str = ""
    api_key_keyring: bool | str = False
    port: int = 1


class _Keyed(Adapter):
    name: ClassVar[str] = "keyed"
    settings_model: ClassVar[type[AdapterSettings]] = _Settings
    keyring_service: ClassVar[str | None] = "usd-desktop/cti/keyed"
    capabilities: ClassVar[frozenset[str]] = frozenset({"dial"})

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass


class _Abstract(Adapter):
    name: ClassVar[str] = "abstract"


class _Typo(_Keyed):
    name: ClassVar[str] = "typo"
    capabilities: ClassVar[frozenset[str]] = frozenset({"dial", "teleport"})


class _Exploding(_Keyed):
    name: ClassVar[str] = "exploding"

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")


def _mine(registry: AdapterRegistry) -> list[str]:
    return [str(p) for p in registry.problems if p.source.split(" = ")[0] in ("simulator", "http_listener")]


def test_discovers_the_builtins_through_entry_points():
    registry = AdapterRegistry.discover()
    assert {"simulator", "http_listener"} <= set(registry.names())
    assert registry.get("simulator") is SimulatorAdapter
    assert registry.get("http_listener") is HttpListenerAdapter
    assert _mine(registry) == []
    assert registry.names() == sorted(registry.names())


def test_a_broken_plugin_is_reported_and_skipped(monkeypatch: pytest.MonkeyPatch):
    real = list(plugins.entry_points(group=GROUP))
    fake = [
        *real,
        EntryPoint("broken", "no_such_module_xyz:Thing", GROUP),
        EntryPoint("wrong", "usd_desktop.core.paths:APP", GROUP),
        EntryPoint("renamed", "usd_desktop.cti.adapters.simulator:SimulatorAdapter", GROUP),
    ]

    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == GROUP
        return fake

    monkeypatch.setattr(plugins, "entry_points", entry_points)
    registry = AdapterRegistry.discover()
    messages = [str(p) for p in registry.problems]
    assert any(m.startswith("broken = no_such_module_xyz:Thing: could not be loaded: ModuleNotFoundError")
               for m in messages)
    assert any("wrong" in m and "not an Adapter subclass" in m for m in messages)
    assert any("renamed" in m and "declares the name 'simulator'" in m for m in messages)
    assert {"simulator", "http_listener"} <= set(registry.names())
    assert "broken" not in registry.names() and "renamed" not in registry.names()
    with pytest.raises(CtiError, match=r"unknown CTI adapter 'broken' \(it failed to load"):
        registry.create("broken", {})


def test_register_refuses_abstract_unknown_capabilities_and_duplicates():
    registry = AdapterRegistry([SimulatorAdapter])
    assert registry.register(_Abstract) is False
    assert registry.register(_Typo) is False
    assert registry.register(SimulatorAdapter) is False
    messages = [str(p) for p in registry.problems]
    assert any("abstract" in m and "close, connect" in m for m in messages)
    assert any("unknown capabilities: teleport" in m for m in messages)
    assert any("'simulator' is already registered" in m for m in messages)
    assert registry.names() == ["simulator"]


def test_create_validates_settings_naming_the_adapter_and_each_field():
    registry = AdapterRegistry([SimulatorAdapter, HttpListenerAdapter])
    with pytest.raises(CtiError) as info:
        registry.create("simulator", {"speed": -1, "colour": "blue", "scenario": None})
    text = str(info.value)
    assert "CTI adapter simulator, setting speed: Input should be greater than 0" in text
    assert "CTI adapter simulator, setting colour: Extra inputs are not permitted" in text
    with pytest.raises(CtiError, match=r"CTI adapter http_listener, setting host: Value error, 0\.0\.0\.0 is not a loopback"):
        registry.create("http_listener", {"host": "0.0.0.0"})
    with pytest.raises(CtiError, match=r"unknown CTI adapter 'nope'; known adapters: http_listener, simulator"):
        registry.create("nope", {})


def test_create_gives_a_validated_adapter():
    registry = AdapterRegistry([SimulatorAdapter])
    adapter = registry.create("simulator", {"speed": "2.5", "scenario": None})
    assert isinstance(adapter, SimulatorAdapter)
    assert adapter.settings.speed == 2.5
    assert adapter.secrets == {}
    assert "speed" in registry.settings_schema("simulator")["properties"]


def test_an_adapter_that_fails_to_build_is_a_cti_error(tmp_path):
    registry = AdapterRegistry([SimulatorAdapter, _Exploding])
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(CtiError, match=r"simulator scenario .*nowhere\.yaml: cannot be read"):
        registry.create("simulator", {"scenario": str(missing)})
    with pytest.raises(CtiError, match=r"CTI adapter exploding could not be created: RuntimeError: boom"):
        registry.create("exploding", {})


def test_the_listener_token_is_read_from_the_keyring():
    registry = AdapterRegistry([HttpListenerAdapter])
    with pytest.raises(CtiError) as info:
        registry.create("http_listener", {"token_keyring": True, "port": 0})
    assert "its token is not in the keyring" in str(info.value)
    assert f"keyring set {KEYRING_SERVICE} token" in str(info.value)

    keyring.set_password(KEYRING_SERVICE, "token", "s3cret")
    adapter = registry.create("http_listener", {"token_keyring": True, "port": 0})
    assert adapter.secrets == {"token": "s3cret"}
    assert adapter.settings.model_dump()["token"] is None  # never in the configuration


def test_username_password_and_named_keyring_entries():
    registry = AdapterRegistry([_Keyed])
    # a username without a stored password: the adapter decides (no error here)
    assert registry.create("keyed", {"username": "alice"}).secrets == {}
    keyring.set_password("usd-desktop/cti/keyed", "alice", "pw-alice")
    keyring.set_password("usd-desktop/cti/keyed", "prod-key", "k-123")
    adapter = registry.create("keyed", {"username": "alice", "api_key_keyring": "prod-key"})
    assert adapter.secrets == {"password": "pw-alice", "api_key": "k-123"}
    with pytest.raises(CtiError, match=r"its api_key is not in the keyring .*name 'api_key'"):
        registry.create("keyed", {"api_key_keyring": True})


def test_no_keyring_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    import keyring.errors

    def no_keyring(service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("no backend")

    monkeypatch.setattr(registry_module.keyring, "get_password", no_keyring)
    registry = AdapterRegistry([HttpListenerAdapter])
    with pytest.raises(CtiError, match="no OS keyring is available to read its token"):
        registry.create("http_listener", {"token_keyring": True})
