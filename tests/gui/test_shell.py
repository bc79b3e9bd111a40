"""The shell, driven through the dispatcher (not by clicking pixels): panels, toolbar, host actions."""

from __future__ import annotations

import asyncio
import json
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QApplication

from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.shell.host import QtDesktopHost
from usd_desktop.shell.main_window import MainWindow
from usd_desktop.testing import make_desktop, until

CONFIG = """
name: Shell test
hosted_controls:
  - {name: Global Manager, type: GlobalManager, sort_order: 2, panel: HiddenPanel}
  - name: Layout
    type: PanelLayout
    sort_order: 1
    settings:
      layout:
        box: vertical
        children:
          - {panel: ToolbarPanel, kind: stack, orientation: horizontal}
          - split: horizontal
            children:
              - {panel: MainPanel, kind: tab, collapse: false}
              - {panel: RightPanel, kind: deck}
  - {name: Toolbar, type: ToolbarContainer, panel: ToolbarPanel}
  - {name: Debugger, type: Debugger, display_name: "Trace of [[$User.firstname]+]", panel: MainPanel}
  - {name: Late, type: Debugger, is_dynamic: true, panel: RightPanel}
  - {name: Lost, type: Debugger, panel: NoSuchPanel}
action_calls:
  - {name: Show late, control: Global Manager, action: ShowTab, data: Late}
  - {name: Move late, control: Global Manager, action: MoveToPanel, data: "app=Late\\npanel=MainPanel"}
  - {name: Dark, control: Global Manager, action: SetTheme, data: dark}
  - {name: Loaded, control: Global Manager, action: CopyToContext, data: "loaded=yes"}
  - {name: Hide bar, control: Toolbar, action: HideToolbar, data: Main}
  - {name: Show bar, control: Toolbar, action: ShowToolbar, data: Main}
  - {name: Disable go, control: Toolbar, action: DisableToolbarButton, data: Go}
  - {name: Hello, control: Global Manager, action: DisplayMessage, data: "caption=Note\\nHi there", shortcut: Ctrl+Shift+H}
toolbars:
  - name: Main
    title: Test
    container: Toolbar
    buttons:
      - {name: Go, text: "Go [[$Context.loaded]+]", enable_condition: '"[[$Context.loaded]+]" == "yes"', action_calls: [Show late]}
      - name: Menu
        text: Menu
        buttons:
          - {name: Dark, text: Dark, action_calls: [Dark]}
"""




async def make_shell(tmp_path):
    host = QtDesktopHost()
    desktop: Desktop = make_desktop(CONFIG, host=host, registry=Registry.discover())
    window = MainWindow(desktop, state_file=tmp_path / "window.json")
    host.bind(window)
    window.show()
    await desktop.start()
    return desktop, window, host


async def close_shell(desktop, window):
    window.close()
    await desktop.shutdown()
    window.deleteLater()
    await asyncio.sleep(0)


async def test_controls_are_placed_in_their_panels(tmp_path):
    desktop, window, _ = await make_shell(tmp_path)
    panels = window.layout_widget.panels
    debugger = desktop.instance("Debugger")
    assert debugger is not None and panels["MainPanel"].contains(debugger.widget())
    assert panels["ToolbarPanel"].contains(desktop.instance("Toolbar").widget())
    assert desktop.instance("Late") is None  # dynamic: created on first use
    assert panels["Unknown"].contains(desktop.instance("Lost").widget())
    assert any("NoSuchPanel" in p for p in desktop.problems)
    tabs = panels["MainPanel"].tabs
    assert tabs.tabText(tabs.indexOf(debugger.widget())) == "Trace of Tracie"
    assert not panels["RightPanel"].isVisible()  # empty collapsible panel takes no room
    await close_shell(desktop, window)


async def test_toolbar_conditions_and_actions(tmp_path):
    desktop, window, _ = await make_shell(tmp_path)
    toolbar = desktop.instance("Toolbar")
    go = toolbar.action_for("Main", "Go")
    assert go is not None and not go.isEnabled() and go.text() == "Go "
    await desktop.dispatcher.run_action_call("Loaded")
    await until(go.isEnabled)
    assert go.text() == "Go yes"
    go.trigger()  # a click runs the button's action calls: ShowTab of a dynamic control
    await until(lambda: desktop.instance("Late") is not None)
    right = window.layout_widget.panels["RightPanel"]
    await until(right.isVisible)
    assert (await desktop.dispatcher.run_action_call("Disable go")).outcome is Outcome.RAN
    assert not go.isEnabled()
    bar = toolbar.widget().findChild(type(toolbar._bars["Main"]), "toolbar:Main")
    await desktop.dispatcher.run_action_call("Hide bar")
    assert bar.isHidden()
    await desktop.dispatcher.run_action_call("Show bar")
    assert not bar.isHidden()
    await close_shell(desktop, window)


async def test_host_actions_move_theme_message_and_shortcut(tmp_path):
    desktop, window, host = await make_shell(tmp_path)
    await desktop.dispatcher.run_action_call("Show late")
    await desktop.dispatcher.run_action_call("Move late")
    late = desktop.instance("Late").widget()
    assert window.layout_widget.panels["MainPanel"].contains(late)
    assert desktop.sessions.global_session.store.get("$Panel", "Late") == "MainPanel"
    await desktop.dispatcher.run_action_call("Dark")
    assert QApplication.instance().property("usdTheme") == "dark"
    hello = window.findChild(QShortcut, "shortcut:Hello")
    assert hello is not None
    hello.activated.emit()
    await until(lambda: bool(host.open_messages))
    assert host.open_messages[0].text() == "Hi there"
    for box in host.open_messages:
        box.done(0)
    await asyncio.sleep(0)
    await close_shell(desktop, window)


async def test_window_state_is_remembered(tmp_path):
    desktop, window, _ = await make_shell(tmp_path)
    window.resize(640, 480)
    await close_shell(desktop, window)
    state = json.loads((tmp_path / "window.json").read_text())
    assert state["geometry"] and "root.1" in state["splitters"]
    desktop2, window2, _ = await make_shell(tmp_path)
    assert (window2.width(), window2.height()) == (640, 480)
    await close_shell(desktop2, window2)


class _Emitter(QObject):
    fired = Signal(bool)


def test_pyside_signal_emission_keeps_refcounts_flat(qapp):
    """PySide6 6.12.0 leaks a reference to True per emit and aborts Python 3.11 (machine recipes)."""
    emitter = _Emitter()
    received = [0]

    def count(value: bool) -> None:
        received[0] += 1

    emitter.fired.connect(count)
    before = sys.getrefcount(True)
    for _ in range(3000):
        emitter.fired.emit(True)
    assert received[0] == 3000
    assert sys.getrefcount(True) - before < 100


PANELS = """
name: Panels
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - name: Layout
    type: PanelLayout
    settings:
      layout:
        split: horizontal
        children:
          - {panel: MainPanel, kind: tab, collapse: false}
          - {panel: Deck, kind: deck}
          - {panel: Stack, kind: stack, orientation: horizontal}
  - {name: D1, type: Debugger, panel: Deck}
  - {name: D2, type: Debugger, panel: Deck, is_dynamic: true}
  - {name: S1, type: Debugger, panel: Stack}
  - {name: F1, type: Debugger, panel: FloatingPanel}
  - {name: H1, type: Debugger, panel: HiddenPanel}
action_calls:
  - {name: Load D2, control: Global Manager, action: ShowTab, data: D2}
  - {name: Size F1, control: F1, action: SetSize, data: "width=760\\nheight=520"}
  - {name: Size S1, control: S1, action: SetSize, data: "width=150"}
"""


async def test_panel_kinds(tmp_path):
    host = QtDesktopHost()
    desktop = make_desktop(PANELS, host=host, registry=Registry.discover())
    window = MainWindow(desktop, state_file=None)
    host.bind(window)
    window.show()
    await desktop.start()
    panels = window.layout_widget.panels
    deck = panels["Deck"]
    assert deck.tabs.tabBar().isHidden()  # a deck shows its tab strip only with two controls
    await desktop.dispatcher.run_action_call("Load D2")
    await until(lambda: not deck.tabs.tabBar().isHidden(), "the deck's tab strip")
    assert deck.tabs.currentWidget() is desktop.instance("D2").widget()  # ShowTab focused it
    floating = desktop.instance("F1").widget()
    assert floating.window() is not window and floating.window().isVisible()
    await desktop.dispatcher.run_action_call("Size F1")
    assert (floating.window().width(), floating.window().height()) == (760, 520)
    await desktop.dispatcher.run_action_call("Size S1")
    assert desktop.instance("S1").widget().minimumWidth() == 150
    assert not desktop.instance("H1").widget().isVisible()
    window.close()
    await desktop.shutdown()
    window.deleteLater()


async def test_a_broken_layout_falls_back_to_the_standard_one(tmp_path):
    text = PANELS.replace("kind: deck", "kind: tabs")
    desktop = make_desktop(text, host=QtDesktopHost(), registry=Registry.discover())
    window = MainWindow(desktop, state_file=None)
    assert "MainPanel" in window.layout_widget.panels and "RightPanel" in window.layout_widget.panels
    assert any("unknown panel kind 'tabs'" in p for p in desktop.problems)
    await desktop.start()  # the desktop still starts; controls of missing panels are parked
    assert window.layout_widget.panels["Unknown"].contains(desktop.instance("D1").widget())
    window.close()
    await desktop.shutdown()
    window.deleteLater()
