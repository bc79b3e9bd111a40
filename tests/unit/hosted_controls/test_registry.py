"""Hosted-control types through entry points; broken plugins are reported and skipped."""

from __future__ import annotations

from importlib.metadata import EntryPoint

from usd_desktop.config.lint import lint
from usd_desktop.config.loader import load_configuration
from usd_desktop.core import plugins
from usd_desktop.core.paths import resources_dir
from usd_desktop.hosted_controls.base import ControlType
from usd_desktop.hosted_controls.catalog import BUILTIN_TYPES, GLOBAL_MANAGER
from usd_desktop.hosted_controls.global_manager import ConnectionManager, GlobalManager
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_desktop


def test_builtins_register_through_entry_points():
    registry = Registry.discover()
    assert {t.name for t in BUILTIN_TYPES} <= set(registry.types)
    assert not registry.problems


def test_qt_free_types_implement_exactly_their_declared_actions():
    for cls in (GlobalManager, ConnectionManager):
        declared = {a.lower() for a in cls.control_type.all_actions}
        assert cls.implemented_actions() == declared - {
            "executeontimeout", "executeondataavailable", "executeonexpressiontrue"
        }


def test_a_broken_plugin_is_reported_and_skipped(monkeypatch):
    found = [EntryPoint("Broken", "no_such_module_xyz:THING", "g"), EntryPoint("Wrong", "usd_desktop.core.paths:APP", "g")]
    monkeypatch.setattr(plugins, "entry_points", lambda *, group: found if group == "g" else [])
    registry = Registry.discover("g")
    registry.register(GLOBAL_MANAGER)
    registry.register(GLOBAL_MANAGER)
    messages = [str(p) for p in registry.problems]
    assert any("Broken" in m and "could not be loaded" in m for m in messages)
    assert any("not a ControlType" in m for m in messages)
    assert any("already registered" in m for m in messages)
    assert "GlobalManager" in registry.types


async def test_desktop_starts_when_a_control_type_cannot_load():
    bad = ControlType(name="Fancy", factory="no_such_module_xyz:Fancy")
    registry = Registry([GLOBAL_MANAGER, bad])
    d = make_desktop(
        """
name: T
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Fancy One, type: Fancy}
  - {name: Stranger, type: NotRegistered}
action_calls:
  - {name: Ready, control: Global Manager, action: CopyToContext, data: "up=1"}
events:
  - {control: Global Manager, name: DesktopReady, action_calls: [Ready]}
""",
        registry=registry,
        host=RecordingHost(),
    )
    await d.start()
    assert d.sessions.global_session.store.get("$Context", "up") == "1"
    assert any("Fancy" in p and "could not be imported" in p for p in d.problems)
    assert any("Stranger" in p and "unknown hosted-control type" in p for p in d.problems)
    await d.shutdown()


def test_the_starter_configuration_loads_and_lints_clean():
    config = load_configuration(resources_dir() / "starter")
    issues = lint(config, Registry(BUILTIN_TYPES).type_infos())
    assert [str(i) for i in issues] == []
    assert {c.type for c in config.hosted_controls} >= {
        "GlobalManager", "PanelLayout", "ToolbarContainer", "StandardWebApplication", "Debugger"}


def test_a_qt_type_without_pyside6_is_reported(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "PySide6" else real(name, *a))
    qt_type = ControlType(name="Web", factory="usd_desktop.hosted_controls.qt.web_application:X",
                          needs_qt=True)
    registry = Registry([qt_type])
    assert registry.implementation("Web") is None
    assert "needs PySide6" in str(registry.problems[0])
