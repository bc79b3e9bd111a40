"""The Session Tabs strip: tabs in creation order, close buttons and close requests, the actions,
attention, busy and progress marks, the session timer and the session-limit banner."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.support import close_shell, open_shell
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.qt.session_tabs import SessionTabsControl
from usd_desktop.hosted_controls.qt.session_tabs_widget import MAX_NAME_WIDTH, format_elapsed
from usd_desktop.testing import until

CONFIG = """
name: Tabs
options: {maxNumberOfSessions: 2}
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: Session Tabs, type: SessionTabs}
  - {name: Notes A, type: Notes, is_global: false, panel: MainPanel}
action_calls:
  - {name: Note request, control: Global Manager, action: CopyToContext, data: "asked=[[SessionId]]"}
session_lines:
  - {name: Caller, order: 1, type: session_name, display: "[[$Context.who]]"}
  - {name: Phone, order: 1, type: session_overview, display: "Phone [[$Context.phone]]"}
"""


async def make_shell(text: str = CONFIG):
    desktop, window, host = await open_shell(text)
    tabs = desktop.instance("Session Tabs")
    assert isinstance(tabs, SessionTabsControl) and tabs.tabs_widget is not None
    return desktop, window, host, tabs


def labels(tabs: SessionTabsControl) -> list[str]:
    bar = tabs.tabs_widget.bar
    return [bar.tabText(i) for i in range(bar.count())]


def test_elapsed_format():
    assert [format_elapsed(s) for s in (0, 65, 3599, 3600, 3725, -3)] == [
        "00:00", "01:05", "59:59", "1:00:00", "1:02:05", "00:00"]


async def test_tabs_follow_the_sessions_with_names_and_overview():
    desktop, window, host, tabs = await make_shell(CONFIG.replace("maxNumberOfSessions: 2", "maxNumberOfSessions: 5"))
    widget = tabs.tabs_widget
    assert widget.placeholder.isVisible() and widget.placeholder.text() == "No customer session"
    assert not widget.bar.isVisible()
    first = await desktop.create_session(context={"who": "Ann Smith", "phone": "+358 40 123"})
    second = await desktop.create_session(name="Walk-in")
    long = await desktop.create_session(context={"who": "Maximilian Alexander von Habsburg-Lothringen-Este"})
    assert not widget.placeholder.isVisible() and widget.bar.isVisible()
    assert labels(tabs)[:2] == ["Ann Smith", "Walk-in"]
    assert labels(tabs)[2].endswith("…") and widget.bar.fontMetrics().horizontalAdvance(labels(tabs)[2]) <= MAX_NAME_WIDTH
    tip = widget.bar.tabToolTip(0)
    assert "Ann Smith" in tip and "Phone +358 40 123" in tip
    assert widget.bar.currentIndex() == 2 and desktop.sessions.active is long
    # the name follows the session lines
    first.store.set("$Context", "who", "Ann <b>Jones</b>")
    await until(lambda: labels(tabs)[0] == "Ann <b>Jones</b>", "the renamed tab")
    assert "Ann &lt;b&gt;Jones&lt;/b&gt;" in widget.bar.tabToolTip(0)  # data never becomes markup
    await desktop.close_session(second)
    assert labels(tabs) == ["Ann <b>Jones</b>", labels(tabs)[1]] and len(labels(tabs)) == 2
    await desktop.close_session(first)
    await desktop.close_session(long)
    assert widget.placeholder.isVisible() and widget.bar.count() == 0
    await close_shell(desktop, window, host)


async def test_the_close_button_requests_closing():
    desktop, window, host, tabs = await make_shell()
    a = await desktop.create_session(name="A")
    b = await desktop.create_session(name="B")
    QTest.mouseClick(tabs.tabs_widget.tail(a.id).close_button, Qt.MouseButton.LeftButton)
    await until(lambda: desktop.sessions.get(a.id) is None, "A closed")
    events = [r.name for r in desktop.dispatcher.journal.find(kind="event")
              if r.control == "Session Tabs"]
    assert events == ["SessionCloseRequested", "SessionClosing", "SessionClosed"]
    assert labels(tabs) == ["B"] and desktop.sessions.active is b
    await close_shell(desktop, window, host)


async def test_a_handled_close_request_keeps_the_session():
    text = CONFIG + """events:
  - {control: Session Tabs, name: SessionCloseRequested, action_calls: [Note request]}
"""
    desktop, window, host, tabs = await make_shell(text)
    a = await desktop.create_session(name="A")
    QTest.mouseClick(tabs.tabs_widget.tail(a.id).close_button, Qt.MouseButton.LeftButton)
    await until(lambda: a.store.get("$Context", "asked") == a.id, "the handler ran")
    assert desktop.sessions.get(a.id) is a and labels(tabs) == ["A"]
    # the configuration closes it itself
    done = await desktop.dispatcher.run_action("Session Tabs", "CloseSession", f"SessionId={a.id}")
    assert done.outcome is Outcome.RAN, done.reason
    assert desktop.sessions.get(a.id) is None and labels(tabs) == []
    await close_shell(desktop, window, host)


async def test_hide_session_close_button():
    text = CONFIG.replace("{name: Session Tabs, type: SessionTabs}",
                          "{name: Session Tabs, type: SessionTabs, settings: {HideSessionCloseButton: true}}")
    desktop, window, host, tabs = await make_shell(text)
    a = await desktop.create_session(name="A")
    assert tabs.tabs_widget.tail(a.id).close_button.isHidden()
    tabs.close_active_tab()  # Ctrl+F4 follows the setting
    await asyncio.sleep(0)
    assert desktop.sessions.get(a.id) is a
    await close_shell(desktop, window, host)


async def test_switch_and_close_actions():
    text = CONFIG.replace("maxNumberOfSessions: 2", "maxNumberOfSessions: 5")
    desktop, window, host, tabs = await make_shell(text)
    a = await desktop.create_session(name="A")
    b = await desktop.create_session(name="B")
    c = await desktop.create_session(name="C")
    run = desktop.dispatcher.run_action
    assert (await run("Session Tabs", "SwitchSession", f"SessionId={a.id}")).outcome is Outcome.RAN
    assert desktop.sessions.active is a and tabs.tabs_widget.bar.currentIndex() == 0
    assert (await run("Session Tabs", "SwitchSession", b.id)).outcome is Outcome.RAN  # the first line
    assert desktop.sessions.active is b
    gid = desktop.sessions.global_session.id
    assert (await run("Session Tabs", "SwitchSession", "SessionId=[[$Session.Global]g]")).outcome is Outcome.RAN
    assert desktop.sessions.active.id == gid
    failed = await run("Session Tabs", "SwitchSession", "SessionId=nope")
    assert failed.outcome is Outcome.FAILED and "no session" in failed.reason
    assert (await run("Session Tabs", "CloseActive")).outcome is Outcome.FAILED  # nothing active
    await desktop.switch_session(c)
    assert (await run("Session Tabs", "CloseActive")).outcome is Outcome.RAN
    assert desktop.sessions.get(c.id) is None
    assert (await run("Session Tabs", "CloseSession")).outcome is Outcome.RAN  # the active one: B
    assert labels(tabs) == ["A"]
    await close_shell(desktop, window, host)


async def test_attention_marks():
    text = CONFIG.replace("maxNumberOfSessions: 2", "maxNumberOfSessions: 5")
    desktop, window, host, tabs = await make_shell(text)
    a = await desktop.create_session(name="A")
    assert a.id not in tabs.attention  # created and activated at once: no flash
    b = await desktop.create_session(name="B", background=True, context={"phone": "1"})
    await until(lambda: b.id in tabs.attention, "the background session's mark")
    assert tabs.tabs_widget.marks(b.id).attention
    await desktop.switch_session(b)
    assert b.id not in tabs.attention and not tabs.tabs_widget.marks(b.id).attention
    a.store.set("$Context", "phone", "2")  # a background session's data changed
    await until(lambda: a.id in tabs.attention, "the mark after a change")
    await desktop.switch_session(a)
    assert not tabs.attention
    run = desktop.dispatcher.run_action
    await run("Session Tabs", "ShowAttention", f"SessionId={b.id}")
    assert tabs.tabs_widget.marks(b.id).attention
    await run("Session Tabs", "HideAttention", f"SessionId={b.id}")
    assert not tabs.tabs_widget.marks(b.id).attention
    await run("Session Tabs", "ShowAttention")  # default: the active session
    assert tabs.tabs_widget.marks(a.id).attention
    await close_shell(desktop, window, host)


async def test_timer_progress_and_busy_marks():
    desktop, window, host, tabs = await make_shell()
    a = await desktop.create_session(name="A")
    now = [a.started + timedelta(seconds=65)]
    tabs.clock = lambda: now[0]
    assert tabs.timer is not None and tabs.timer.isActive() and tabs.timer.interval() == 1000
    tabs.tick()
    tail = tabs.tabs_widget.tail(a.id)
    assert tail.timer.text() == "01:05"
    now[0] += timedelta(hours=1)
    tabs.tick()
    assert tail.timer.text() == "1:01:05"
    run = desktop.dispatcher.run_action
    await run("Session Tabs", "ResetProgressIndicator")
    marks = tabs.tabs_widget.marks(a.id)
    assert marks.progress == 0.0 and marks.width() > 0
    now[0] += timedelta(seconds=90)
    tabs.tick()
    assert marks.progress == pytest.approx(0.5)
    now[0] += timedelta(minutes=5)
    tabs.tick()
    assert marks.progress == 1.0
    await run("Session Tabs", "HideProgressIndicator")
    assert marks.progress is None and marks.width() == 0
    notes = desktop.resolve("Notes A", a)
    blocker = asyncio.Event()
    task = notes.start_task(blocker.wait())
    tabs.tick()
    assert not marks.busy  # a short piece of work never flashes the mark
    now[0] += timedelta(seconds=1)
    tabs.tick()
    assert marks.busy
    blocker.set()
    await task
    tabs.tick()
    assert not marks.busy
    await desktop.close_session(a)
    assert not tabs.timer.isActive()  # no session: no timer
    await close_shell(desktop, window, host)


async def test_session_limit_banner_and_redo():
    desktop, window, host, tabs = await make_shell()
    widget = tabs.tabs_widget
    a = await desktop.create_session(name="A")
    await desktop.create_session(name="B")
    assert widget.banner.isHidden()
    refused = await desktop.dispatcher.run_action("Global Manager", "CreateSession", "name=C\nphone=3")
    assert refused.outcome is Outcome.FAILED
    assert widget.banner.isVisible()
    assert widget.banner_text.text() == "Session limit reached (2): close a session, then Redo screen pop"
    assert not widget.redo_button.isEnabled()
    await desktop.close_session(a)
    assert widget.redo_button.isEnabled()
    QTest.mouseClick(widget.redo_button, Qt.MouseButton.LeftButton)
    await until(lambda: "C" in labels(tabs), "the redone pop")
    assert widget.banner.isHidden() and desktop.sessions.active.store.get("$Context", "phone") == "3"
    # RedoScreenPop as an action: nothing waiting
    done = await desktop.dispatcher.run_action("Session Tabs", "RedoScreenPop")
    assert done.result == "false"
    await close_shell(desktop, window, host)
