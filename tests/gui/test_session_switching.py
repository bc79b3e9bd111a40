"""Ten customer sessions in the main window: only the active session's controls are in the panels,
each panel keeps its front tab per session, tabs switch by click and by keyboard."""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.support import close_shell, open_shell
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.qt.session_tabs import SessionTabsControl
from usd_desktop.testing import until

CONFIG = """
name: Switching
options: {maxNumberOfSessions: 12}
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: Session Tabs, type: SessionTabs}
  - {name: Overview, type: SessionOverview}
  - {name: Desk Notes, type: Notes, panel: MainPanel}
  - {name: Notes A, type: Notes, is_global: false, panel: MainPanel}
  - {name: Notes B, type: Notes, is_global: false, panel: MainPanel}
  - {name: Side Notes, type: Notes, is_global: false, panel: RightPanel}
action_calls:
  - {name: Open A, control: Notes A, action: default}
  - {name: Open B, control: Notes B, action: default}
events:
  - {control: Global Manager, name: SessionNew, action_calls: [Open A, Open B]}
"""


async def make_shell(text: str = CONFIG):
    desktop, window, _ = await open_shell(text)
    return desktop, window


async def open_sessions(desktop, count: int) -> list:
    sessions = []
    for n in range(1, count + 1):
        done = await desktop.dispatcher.run_action("Global Manager", "CreateSession", f"name=S{n}")
        assert done.outcome is Outcome.RAN, done.reason
        sessions.append(desktop.sessions.get(done.result))
    return sessions


def notes(desktop, session) -> list:
    return [desktop.instance(name, session).widget() for name in ("Notes A", "Notes B")]


def assert_only_shown(desktop, window, active, sessions) -> None:
    main = window.layout_widget.panels["MainPanel"]
    desk = desktop.instance("Desk Notes").widget()
    assert main.widgets == [desk, *notes(desktop, active)]
    for session in sessions:
        if session is active:
            continue
        for widget in notes(desktop, session):
            assert not main.contains(widget) and window.placement.is_parked(widget)
            assert not widget.isVisible()


async def test_only_the_active_sessions_controls_are_in_the_panels(tmp_path):
    desktop, window = await make_shell()
    main = window.layout_widget.panels["MainPanel"]
    assert main.widgets == [desktop.instance("Desk Notes").widget()]
    sessions = await open_sessions(desktop, 10)
    assert desktop.sessions.active is sessions[-1]
    assert_only_shown(desktop, window, sessions[-1], sessions)
    assert window.windowTitle() == "S10 — usd_desktop — Switching"

    tabs = desktop.instance("Session Tabs")
    assert isinstance(tabs, SessionTabsControl)
    bar = tabs.tabs_widget.bar
    assert [bar.tabText(i) for i in range(bar.count())] == [f"S{n}" for n in range(1, 11)]
    for index in (2, 0, 6):  # click the tabs
        bar.ensurePolished()
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         bar.tabRect(index).center())
        await until(lambda i=index: desktop.sessions.active is sessions[i], f"session {index + 1}")
        assert bar.currentIndex() == index
        assert_only_shown(desktop, window, sessions[index], sessions)
        assert window.windowTitle().startswith(f"S{index + 1} — ")
        assert all(w.isVisibleTo(window) or main.tabs.currentWidget() is not w
                   for w in notes(desktop, sessions[index]))
    await close_shell(desktop, window)


async def test_each_panel_keeps_its_front_tab_per_session(tmp_path):
    desktop, window = await make_shell()
    main = window.layout_widget.panels["MainPanel"]
    s1, s2, s3 = await open_sessions(desktop, 3)
    await desktop.switch_session(s1)
    main.show_widget(desktop.instance("Notes B", s1).widget())
    await desktop.switch_session(s2)
    main.show_widget(desktop.instance("Notes A", s2).widget())
    await desktop.switch_session(s3)
    main.show_widget(desktop.instance("Desk Notes").widget())  # a global control in front
    for session, front in ((s1, "Notes B"), (s2, "Notes A"), (s1, "Notes B")):
        await desktop.switch_session(session)
        assert main.current_widget() is desktop.instance(front, session).widget()
    await desktop.switch_session(s3)
    assert main.current_widget() is desktop.instance("Desk Notes").widget()
    # the global view (no customer session) shows the global controls only
    await desktop.switch_session(desktop.sessions.global_session)
    assert main.widgets == [desktop.instance("Desk Notes").widget()]
    assert window.windowTitle() == "usd_desktop — Switching"
    await close_shell(desktop, window)


async def test_keyboard_switches_and_closes_sessions(tmp_path):
    desktop, window = await make_shell()
    sessions = await open_sessions(desktop, 5)
    bar = desktop.instance("Session Tabs").tabs_widget.bar
    active = lambda: desktop.sessions.active  # noqa: E731
    window.activateWindow()  # keys reach the shortcuts of the active window only
    await until(lambda: QApplication.activeWindow() is window, "the window active")

    async def press(key, modifiers, expected) -> None:
        QTest.keyClick(window, key, modifiers)
        await until(lambda: active() is expected, f"{expected.name} after the key")
        assert bar.currentIndex() == sessions.index(expected)

    ctrl = Qt.KeyboardModifier.ControlModifier
    await press(Qt.Key.Key_Tab, ctrl, sessions[0])  # wraps around from the last
    await press(Qt.Key.Key_PageDown, ctrl, sessions[1])
    await press(Qt.Key.Key_Backtab, ctrl | Qt.KeyboardModifier.ShiftModifier, sessions[0])
    await press(Qt.Key.Key_PageUp, ctrl, sessions[4])
    await press(Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier, sessions[2])
    assert_only_shown(desktop, window, sessions[2], sessions)
    QTest.keyClick(window, Qt.Key.Key_9, Qt.KeyboardModifier.AltModifier)  # no 9th session: nothing
    await asyncio.sleep(0)
    assert active() is sessions[2]
    widgets = notes(desktop, sessions[2])
    QTest.keyClick(window, Qt.Key.Key_F4, ctrl)  # asks to close the active session
    await until(lambda: desktop.sessions.get(sessions[2].id) is None, "the session closed")
    assert active() is sessions[4]  # the newest remaining one
    assert_only_shown(desktop, window, sessions[4], [s for s in sessions if s is not sessions[2]])
    await until(lambda: not any(shiboken6.isValid(w) for w in widgets), "the closed session's widgets deleted")
    assert bar.count() == 4
    await close_shell(desktop, window)


async def test_background_session_controls_are_parked(tmp_path):
    desktop, window = await make_shell()
    (first,) = await open_sessions(desktop, 1)
    done = await desktop.dispatcher.run_action("Global Manager", "CreateSession", "name=Later\nBackGround=true")
    background = desktop.sessions.get(done.result)
    assert desktop.sessions.active is first
    side = desktop.resolve("Side Notes", background).widget()
    right = window.layout_widget.panels["RightPanel"]
    assert window.placement.is_parked(side) and not right.contains(side)
    assert not right.isVisible()  # the empty panel stays collapsed
    assert_only_shown(desktop, window, first, [first, background])
    await desktop.switch_session(background)
    assert right.contains(side) and right.isVisible()
    assert_only_shown(desktop, window, background, [first, background])
    await desktop.switch_session(first)
    assert not right.contains(side) and not right.isVisible()
    await close_shell(desktop, window)


async def test_titles_follow_the_session_while_parked(tmp_path):
    text = CONFIG.replace("{name: Notes A, type: Notes,",
                          "{name: Notes A, type: Notes, display_name: 'Notes on [[$Context.who]+]',")
    desktop, window = await make_shell(text)
    s1, _s2 = await open_sessions(desktop, 2)
    s1.store.set("$Context", "who", "Ann")  # written while s1 is in the background
    window.refresh_titles()  # touches only the panels' tabs, not the parked widgets
    await desktop.switch_session(s1)
    tabs = window.layout_widget.panels["MainPanel"].tabs
    widget = desktop.instance("Notes A", s1).widget()
    assert tabs.tabText(tabs.indexOf(widget)) == "Notes on Ann"
    await close_shell(desktop, window)
