"""The examples shipped with the guides work as the guides say (Qt-free; no PySide6 needed).

* ``docs/examples/first-config`` (docs/admin-guide.md): loads, lints clean, and its Qt-free part
  (the Global Manager's DesktopReady calls, the page's BrowserDocumentComplete call and the Home
  button's enable condition) behaves as the walk-through describes.
* ``docs/examples/partner-control`` (docs/partner-guide.md): its entry point names its ControlType,
  and the Counter control's actions, ``$Return``, ``[[Counter.count]]`` and ``CountChanged`` work.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from usd_desktop.config.lint import lint
from usd_desktop.config.loader import dump_configuration, load_configuration
from usd_desktop.core.replacement import render
from usd_desktop.core.toolbar import ToolbarModel
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import CONNECTION_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.desktop import Desktop, MemorySettings
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_desktop

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
FIRST_CONFIG = EXAMPLES / "first-config"
PARTNER = EXAMPLES / "partner-control"


# ---------------------------------------------------------------------- the admin guide's example
def first_desktop(host: RecordingHost, settings: MemorySettings | None = None) -> Desktop:
    """The example on a desktop with only the Qt-free types (the Qt ones become problems)."""
    text = dump_configuration(load_configuration(FIRST_CONFIG))
    return make_desktop(
        text,
        host=host,
        settings=settings,
        registry=Registry([GLOBAL_MANAGER, CONNECTION_MANAGER]),
        user={"firstname": "Ana", "fullname": "Ana Agent"},
    )


def test_first_config_loads_from_three_files_and_lints_clean() -> None:
    assert sorted(p.name for p in FIRST_CONFIG.glob("*.yaml")) == [
        "actions.yaml", "configuration.yaml", "controls.yaml"]
    config = load_configuration(FIRST_CONFIG)
    issues = lint(config, Registry.discover().type_infos())
    assert [str(issue) for issue in issues] == []  # no errors, and no warnings either
    assert {c.type for c in config.hosted_controls} == {
        "GlobalManager", "PanelLayout", "ToolbarContainer", "StandardWebApplication", "Debugger"}
    assert [b.name for b in config.toolbars[0].buttons] == ["Home", "Debugger"]


async def test_first_config_desktop_ready_welcomes_the_agent() -> None:
    host = RecordingHost()
    desktop = first_desktop(host)
    await desktop.start()
    journal = desktop.dispatcher.journal

    # Without Qt the four Qt controls are reported and skipped; the desktop still starts.
    for name, kind in [("Panel Layout", "PanelLayout"), ("Main Toolbar", "ToolbarContainer"),
                       ("Start Page", "StandardWebApplication"), ("Debugger", "Debugger")]:
        assert f"{name}: unknown hosted-control type {kind!r}" in desktop.problems

    [ready] = journal.find(kind="event", name="DesktopReady")
    assert ready.outcome is Outcome.FIRED and ready.reason == "2 action call(s)"
    [remember] = journal.find(name="Remember the agent")
    assert remember.outcome is Outcome.RAN and remember.parent == ready.seq
    assert remember.data.startswith("AgentName=Ana\nStartedAt=")
    [welcome] = journal.find(name="Welcome the agent")
    assert welcome.outcome is Outcome.RAN and welcome.condition == '"yes" == "yes"'
    assert welcome.data == "caption=Start page\nWelcome, Ana. Your desktop is ready."
    [noted] = journal.find(name="Note the welcome")
    assert noted.outcome is Outcome.RAN and noted.parent == welcome.seq  # the sub-action call
    assert remember.seq < welcome.seq < noted.seq  # order 1, then order 2 and its sub-action call

    assert host.of("display_message") == [("Welcome, Ana. Your desktop is ready.", "Start page")]
    context = desktop.sessions.global_session.store.section("$Context")
    assert context["AgentName"] == "Ana"
    assert context["WelcomedAt"] == context["StartedAt"] != ""
    await desktop.shutdown()


async def test_first_config_no_welcome_when_the_agent_turned_it_off() -> None:
    host = RecordingHost()
    desktop = first_desktop(host, MemorySettings({"ShowWelcome": "no"}))
    await desktop.start()
    journal = desktop.dispatcher.journal
    [welcome] = journal.find(name="Welcome the agent")
    assert welcome.outcome is Outcome.SKIPPED and welcome.reason == "condition false"
    assert welcome.condition == '"no" == "yes"'
    assert journal.find(name="Note the welcome") == []  # a skipped call runs no sub-action calls
    assert host.of("display_message") == []
    assert journal.find(name="Remember the agent")[0].outcome is Outcome.RAN
    await desktop.shutdown()


async def test_first_config_home_is_enabled_once_the_page_has_loaded() -> None:
    desktop = first_desktop(RecordingHost())
    await desktop.start()
    sessions = desktop.sessions
    model = ToolbarModel(desktop.config.toolbars, lambda: sessions.data_for(sessions.active))
    toolbar = desktop.config.toolbars[0]
    home, debugger = toolbar.buttons
    assert not model.state(toolbar, home).enabled
    assert model.state(toolbar, debugger).enabled

    # What the Start Page raises after each successful load, with its url parameter.
    await desktop.dispatcher.fire_event(
        "Start Page", "BrowserDocumentComplete", {"url": "https://example.org/"})
    assert sessions.global_session.store.get("$Context", "PageUrl") == "https://example.org/"
    model.invalidate()
    assert model.state(toolbar, home).enabled
    await desktop.shutdown()


# ---------------------------------------------------------------------- the partner guide's example
@pytest.fixture
def usd_counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example package, imported from its folder (as if installed), forgotten afterwards."""
    monkeypatch.syspath_prepend(str(PARTNER))
    module = importlib.import_module("usd_counter")
    yield module
    for name in [n for n in sys.modules if n == "usd_counter" or n.startswith("usd_counter.")]:
        del sys.modules[name]


COUNTER_CONFIG = """
name: Counter example
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Counter, type: Counter}
action_calls:
  - {name: Add three, control: Counter, action: Increment, data: "by=3"}
  - {name: Add one, control: Counter, action: Increment}
  - {name: Start over, control: Counter, action: Reset}
  - {name: Remember the count, control: Global Manager, action: CopyToContext, data: "LastCount=[[count]]"}
events:
  - {control: Counter, name: CountChanged, action_calls: [Remember the count]}
"""


def test_partner_entry_point_names_the_control_type(usd_counter: ModuleType) -> None:
    project = tomllib.loads((PARTNER / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = project["project"]["entry-points"]["usd_desktop.hosted_controls"]
    assert entry_points == {"Counter": "usd_counter:COUNTER"}
    counter = usd_counter.COUNTER
    assert isinstance(counter, ControlType) and counter.name == "Counter"
    assert counter.actions == {"Increment", "Reset"} and counter.events == {"CountChanged"}
    assert "usd_counter.control" not in sys.modules  # the descriptor does not import the code

    registry = Registry([GLOBAL_MANAGER, counter])
    implementation = registry.implementation("Counter")
    assert implementation is not None and issubclass(implementation, HostedControl)
    assert not registry.problems
    deferring = {"executeontimeout", "executeondataavailable", "executeonexpressiontrue"}
    assert implementation.implemented_actions() == {a.lower() for a in counter.all_actions} - deferring


async def test_partner_counter_increments_resets_publishes_and_raises(usd_counter: ModuleType) -> None:
    desktop = make_desktop(COUNTER_CONFIG, registry=Registry([GLOBAL_MANAGER, usd_counter.COUNTER]))
    assert [str(i) for i in lint(desktop.config, desktop.registry.type_infos())] == []
    await desktop.start()
    run = desktop.dispatcher.run_action_call
    store = desktop.sessions.global_session.store
    journal = desktop.dispatcher.journal

    def published() -> str:
        return render("[[Counter.count]]", desktop.sessions.data_for())

    assert published() == "0"  # published when the control was created

    added = await run("Add three")
    assert added.outcome is Outcome.RAN and added.result == "3"
    assert store.get("$Return", "Add three") == "3"
    assert published() == "3"
    [event] = journal.find(kind="event", name="CountChanged")
    assert event.control == "Counter" and event.parameters == {"count": "3"}
    [remembered] = journal.find(name="Remember the count")
    assert remembered.outcome is Outcome.RAN and remembered.parent == event.seq
    assert remembered.data == "LastCount=3"
    assert added.record is not None and event.chain == added.record.chain  # the action's chain

    assert (await run("Add one")).result == "4"
    assert published() == "4" and store.get("$Context", "LastCount") == "4"

    reset = await run("Start over")
    assert reset.result == "0" and store.get("$Return", "Start over") == "0"
    assert published() == "0" and store.get("$Context", "LastCount") == "0"
    assert len(journal.find(name="Remember the count", outcome=Outcome.RAN)) == 3

    bad = await desktop.dispatcher.run_action("Counter", "Increment", "by=lots")
    assert bad.outcome is Outcome.FAILED and bad.reason == "by='lots' is not a whole number"
    assert published() == "0"
    await desktop.shutdown()
