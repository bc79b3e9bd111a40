"""The agent-state selector (AgentStateSelector) on a desktop whose CTI Desktop Manager drives the
FakeAdapter: the state with its dot and duration, Not ready with a reason, the states that follow
the calls, the connection line with the reconnection countdown and the last problem, errors, the
adapter's capabilities and a desktop without CTI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.gui.support import close_shell, open_shell
from usd_desktop.cti.contract import OPERATIONS
from usd_desktop.cti.manager import CtiManager
from usd_desktop.cti.registry import AdapterRegistry
from usd_desktop.hosted_controls.qt.agent_state import (
    DEFAULT_REASONS,
    AgentStateSelector,
    AgentStateWidget,
    connection_text,
)
from usd_desktop.testing import until
from usd_desktop.testing.fake_adapter import FakeAdapter

CONFIG = """
name: CTI
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: CTI, type: CtiDesktopManager, panel: HiddenPanel,
     settings: {adapter: ADAPTER, pop_on: manual, wrap_up_seconds: 60}}
  - {name: Agent State, type: AgentStateSelector, panel: CtiPanel, SETTINGS}
"""


class NoStates(FakeAdapter):
    """A fake backend without agent states (a plain softphone)."""

    name = "nostates"
    capabilities = OPERATIONS - {"set_agent_state", "login", "logout"}


@pytest.fixture(autouse=True)
def _fake_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AdapterRegistry, "discover",
                        classmethod(lambda cls, group="": cls([FakeAdapter, NoStates])))


async def make_shell(adapter: str = "fake", settings: str = "", *, text: str | None = None):
    config = CONFIG.replace("ADAPTER", adapter).replace(", SETTINGS", f", settings: {settings}" if settings else "")
    desktop, window, host = await open_shell(text if text is not None else config)
    control = desktop.instance("Agent State")
    assert isinstance(control, AgentStateSelector)
    control.widget()
    assert isinstance(control.selector, AgentStateWidget)
    manager = control.manager
    if manager is not None:
        await until(lambda: manager.connection.connected, "the fake backend connected")
    return desktop, window, host, control


def parts(control: AgentStateSelector) -> tuple[CtiManager, FakeAdapter, AgentStateWidget]:
    manager = control.manager
    assert isinstance(manager, CtiManager) and isinstance(manager.adapter, FakeAdapter)
    assert control.selector is not None
    return manager, manager.adapter, control.selector


async def test_not_ready_with_a_reason_and_back():
    desktop, window, host, control = await make_shell()
    manager, fake, widget = parts(control)
    await until(lambda: widget.shown_text == "Offline", "the first state")
    assert widget.dot.state == "offline" and widget.button.isEnabled()
    assert widget.connection.text() == "Connected to fake backend"
    # the menu: Available, Not ready with each reason, Offline
    assert sorted(widget.state_actions) == sorted(
        [("available", ""), ("offline", ""), *(("not_ready", r) for r in DEFAULT_REASONS)])
    assert widget.action("offline", "").isChecked()
    widget.action("not_ready", "Lunch").trigger()
    await until(lambda: fake.ops("set_agent_state") == [("not_ready", "Lunch")], "asked the backend")
    await until(lambda: widget.shown_text == "Not ready: Lunch", "not ready shown")
    assert widget.dot.state == "not_ready" and widget.action("not_ready", "Lunch").isChecked()
    assert not widget.action("offline", "").isChecked()
    assert widget.button.accessibleName() == "Agent state: Not ready: Lunch"
    # how long it has lasted
    since = manager.agent_status.since
    control.clock = lambda: since + timedelta(seconds=754)
    control.tick()
    assert widget.duration.text() == "12:34"
    widget.action("available").trigger()
    await until(lambda: widget.shown_text == "Available", "available")
    assert fake.ops("set_agent_state")[-1] == ("available", "")
    assert widget.dot.state == "available" and control.timer is not None and control.timer.isActive()
    await close_shell(desktop, window, host)


async def test_the_calls_decide_on_a_call_and_wrap_up():
    desktop, window, host, control = await make_shell()
    manager, fake, widget = parts(control)
    await manager.set_agent_state("available")
    cid = fake.offer(ani="0401234567")
    await manager.answer(cid)
    await until(lambda: widget.shown_text == "On a call", "on a call")
    assert widget.dot.state == "on_call"
    assert not any(s in ("on_call", "wrap_up") for s, _r in widget.state_actions)  # not selectable
    widget.action("not_ready", "Break").trigger()  # asked during the call: applies after it
    await until(lambda: widget.shown_text == "On a call → Not ready: Break", "the next state shown")
    assert widget.button.toolTip() == "After this call: Not ready: Break"
    fake.end(cid)
    await until(lambda: widget.shown_text.startswith("Wrap-up"), "wrap-up")
    assert widget.dot.state == "wrap_up"
    await manager.complete_wrap_up()
    await until(lambda: widget.shown_text == "Not ready: Break", "the state asked for")
    await close_shell(desktop, window, host)


async def test_the_connection_line_counts_down_and_shows_the_problem():
    desktop, window, host, control = await make_shell()
    manager, fake, widget = parts(control)
    manager.reconnect_delays = (30.0,)
    now = [manager.clock()]
    control.clock = lambda: now[0]
    fake.lose_connection("network down")
    await until(lambda: widget.connection.text().startswith("Disconnected"), "disconnected")
    assert widget.connection.text() == "Disconnected — retrying in 30 s (attempt 1)"
    assert "the connection to the backend was lost (network down)" in widget.connection.toolTip()
    assert not widget.button.isEnabled() and widget.button.toolTip() == "Not connected to the CTI backend"
    now[0] += timedelta(seconds=12)
    control.tick()
    assert widget.connection.text() == "Disconnected — retrying in 18 s (attempt 1)"
    now[0] += timedelta(seconds=40)
    control.tick()
    assert widget.connection.text() == "Disconnected — retrying now (attempt 1)"
    fake.restore_connection("pbx.example")
    await until(lambda: widget.connection.text() == "Connected to pbx.example", "connected again")
    assert widget.button.isEnabled()
    assert "network down" in widget.connection.toolTip()  # the last problem stays in the tooltip
    await close_shell(desktop, window, host)


def test_connection_texts():
    class Manager:
        def __init__(self, status):
            self.connection = status

    from usd_desktop.cti.manager import ConnectionStatus

    assert connection_text(Manager(ConnectionStatus(True, "pbx"))) == "Connected to pbx"
    assert connection_text(Manager(ConnectionStatus(False, "connecting"))) == "Connecting…"
    assert connection_text(Manager(ConnectionStatus(False, "refused"))) == "Disconnected: refused"
    assert connection_text(Manager(ConnectionStatus(False, "x", 5.0, 2))) == (
        "Disconnected — retrying in 5 s (attempt 3)")


async def test_errors_and_custom_reasons():
    desktop, window, host, control = await make_shell(settings="{not_ready_reasons: [Coaching, After call]}")
    _manager, fake, widget = parts(control)
    assert sorted(r for s, r in widget.state_actions if s == "not_ready") == ["After call", "Coaching"]
    fake.fail("set_agent_state")
    widget.action("not_ready", "Coaching").trigger()
    await until(lambda: widget.status.isVisibleTo(widget), "the error shown")
    assert "the backend refused" in widget.status.toolTip()
    assert widget.shown_text == "Offline" and widget.action("offline").isChecked()
    fake.clear()
    widget.action("available").trigger()
    await until(lambda: widget.shown_text == "Available", "available")
    assert not widget.status.isVisibleTo(widget)
    await close_shell(desktop, window, host)


async def test_an_adapter_without_agent_states_disables_the_menu():
    desktop, window, host, control = await make_shell("nostates")
    _manager, _fake, widget = parts(control)
    assert not widget.button.isEnabled()
    assert widget.button.toolTip() == "The nostates adapter cannot change the agent state"
    assert widget.connection.text() == "Connected to fake backend"
    await close_shell(desktop, window, host)


async def test_without_a_cti_manager_it_says_why():
    text = """
name: No CTI
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: Agent State, type: AgentStateSelector, panel: CtiPanel}
"""
    desktop, window, host, control = await make_shell(text=text)
    widget = control.selector
    assert widget is not None and control.manager is None
    assert widget.shown_text == "CTI unavailable" and not widget.button.isEnabled()
    assert not widget.dot.isEnabled()
    assert widget.connection.text() == "no CTI Desktop Manager in this configuration"
    control.set_state("available")  # said, not raised
    assert "no CTI Desktop Manager" in widget.status.toolTip()
    await close_shell(desktop, window, host)
    # the adapter could not be created
    desktop, window, host, control = await make_shell("missing")
    widget = control.selector
    assert widget is not None and control.manager is None and not widget.button.isEnabled()
    assert "unknown CTI adapter 'missing'" in widget.connection.toolTip() + widget.connection.text()
    await close_shell(desktop, window, host)
