"""The call bar (CallControl) on a desktop whose CTI Desktop Manager drives the FakeAdapter: the
active line, the buttons by state and capability, the timer, the line switcher, wrap-up, the dial
pad, the transfer dialog, errors in the status line and a desktop without CTI; and screenshots of
the CtiPanel with a ringing call and in wrap-up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.support import close_shell, open_shell
from usd_desktop.core.trace import Outcome
from usd_desktop.cti.contract import OPERATIONS
from usd_desktop.cti.manager import CtiManager
from usd_desktop.cti.registry import AdapterRegistry
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.qt.call_control import CallControl, bar_view
from usd_desktop.hosted_controls.qt.call_control_widget import CallBarWidget
from usd_desktop.hosted_controls.qt.call_dialogs import DirectoryEntry, dial_text, parse_directory
from usd_desktop.shell import themes
from usd_desktop.testing import until
from usd_desktop.testing.fake_adapter import FakeAdapter

DIRECTORY = """
      directory:
        - {name: Support queue, number: "1001", kind: queue}
        - {name: Billing queue, number: "1002", kind: queue}
        - {name: Maria Virtanen, number: "+358 40 555 0101", kind: agent}
        - {name: Pekka Agent, number: "+358 40 555 0102", kind: agent}
"""
CONFIG = """
name: CTI
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - name: CTI
    type: CtiDesktopManager
    panel: HiddenPanel
    settings: {adapter: ADAPTER, pop_on: POP, wrap_up_seconds: 60, dispositions: [Resolved, Callback, Escalated]}
  - name: Call Bar
    type: CallControl
    panel: CtiPanel
    settings:
""" + DIRECTORY + """
  - {name: Agent State, type: AgentStateSelector, panel: CtiPanel}
"""
NO_CTI = """
name: No CTI
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: Call Bar, type: CallControl, panel: CtiPanel}
  - {name: Agent State, type: AgentStateSelector, panel: CtiPanel}
"""
ALL_BUTTONS = ("answer", "reject", "hangup", "hold", "mute", "dialpad", "transfer", "consult")


class LimitedFake(FakeAdapter):
    """A fake backend that can neither hold, transfer, consult nor send tones."""

    name = "limited"
    capabilities = OPERATIONS - {"hold", "retrieve", "blind_transfer", "consult", "send_dtmf"}


@pytest.fixture(autouse=True)
def _fake_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AdapterRegistry, "discover",
                        classmethod(lambda cls, group="": cls([FakeAdapter, LimitedFake])))


async def make_shell(adapter: str = "fake", *, pop: str = "manual", text: str | None = None):
    desktop, window, host = await open_shell(
        text if text is not None else CONFIG.replace("ADAPTER", adapter).replace("POP", pop))
    control = desktop.instance("Call Bar")
    assert isinstance(control, CallControl)
    control.widget()
    assert isinstance(control.bar, CallBarWidget)
    cti = desktop.instance("CTI")
    if isinstance(cti, CtiDesktopManager) and cti.manager is not None:
        manager = cti.manager
        await until(lambda: manager.connection.connected, "the fake backend connected")
    return desktop, window, host, control


def parts(control: CallControl):
    manager = control.manager
    assert isinstance(manager, CtiManager) and isinstance(manager.adapter, FakeAdapter)
    bar = control.bar
    assert bar is not None
    return manager, manager.adapter, bar


def enabled(bar: CallBarWidget) -> set[str]:
    return {key for key in ALL_BUTTONS if bar.buttons[key].isEnabled()}


def shown(bar: CallBarWidget) -> set[str]:
    return {key for key in ALL_BUTTONS if bar.shown(key)}


def test_directory_and_dial_text():
    entries = parse_directory([{"name": "Support", "number": "1001", "kind": "queue"},
                               {"name": "No number"}, "junk", {"number": "+358 40 1", "kind": "robot"}])
    assert entries == (DirectoryEntry("Support", "1001", "queue"), DirectoryEntry("+358 40 1", "+358 40 1"))
    maria = DirectoryEntry("Maria Virtanen", "+358 40 555 0101", "agent")
    assert maria.matches("mar vir") and maria.matches("agent") and maria.matches("40 555")
    assert not maria.matches("queue") and not maria.matches("0102")
    assert dial_text(" tel:+358-40-123;phone-context=x ") == "+35840123"
    assert dial_text("sip:alice@pbx") == "sip:alice@pbx" and dial_text("040 123") == "040 123"
    assert bar_view(None, "why").unavailable == "why"


async def test_a_ringing_call_shows_the_number_and_answer_answers():
    desktop, window, host, control = await make_shell()
    _manager, fake, bar = parts(control)
    assert bar.texts()["number"] == "No call" and enabled(bar) == {"dialpad"}
    assert not control.timer.isActive()  # no call: the timer rests
    cid = fake.offer(ani="+358401234567", queue="support", caller_name="Ann Smith")
    await until(lambda: bar.texts()["state"] == "Ringing", "the ringing line")
    texts = bar.texts()
    assert texts["number"] == "+358 40 1234567" and texts["name"] == "Ann Smith"
    assert enabled(bar) == {"answer", "reject", "dialpad"}
    assert shown(bar) == {"answer", "reject", "dialpad"}  # what does not apply stays off the bar
    assert bar.property("ringing") is True and bar.buttons["answer"].property("accent") is True
    assert "Incoming call from Ann Smith" in bar.accessibleDescription()
    assert "Queue: support" in bar.number_label.toolTip()
    assert control.timer.isActive()
    bar.buttons["answer"].click()
    await until(lambda: fake.ops("answer") == [(cid,)], "the adapter answered")
    await until(lambda: bar.texts()["state"] == "Connected", "the connected line")
    assert enabled(bar) == {"hangup", "hold", "mute", "dialpad", "transfer", "consult"}
    assert shown(bar) == enabled(bar)
    assert bar.property("ringing") is False and not bar.buttons["answer"].property("accent")
    # hold toggles to retrieve, mute to unmute
    bar.buttons["hold"].click()
    await until(lambda: bar.texts()["state"] == "On hold", "the held line")
    assert fake.ops("hold") == [(cid,)]
    assert bar.buttons["hold"].text() == "Retrieve" and bar.buttons["hold"].isChecked()
    assert "mute" not in enabled(bar) and "mute" in shown(bar)  # on hold: still there, disabled
    bar.buttons["hold"].click()
    await until(lambda: bar.texts()["state"] == "Connected", "retrieved")
    assert fake.ops("retrieve") == [(cid,)] and bar.buttons["hold"].text() == "Hold"
    bar.buttons["mute"].click()
    await until(lambda: bar.buttons["mute"].text() == "Unmute", "muted")
    assert fake.ops("mute") == [(cid, True)] and bar.buttons["mute"].isChecked()
    bar.buttons["hangup"].click()
    await until(lambda: fake.ops("hangup") == [(cid,)], "hung up")
    await until(lambda: bar.texts()["state"] == "Wrap-up", "wrap-up after the call")
    await close_shell(desktop, window, host)


async def test_the_timer_follows_ring_talk_and_hold_time():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    t0 = fake.clock()
    now = [t0]
    control.clock = lambda: now[0]
    cid = fake.offer(ani="0401234567", at=t0)
    await until(lambda: bar.texts()["state"] == "Ringing", "ringing")
    control.tick()
    assert bar.texts()["timer"] == "00:00" and bar.timer_label.toolTip() == "Ringing for"
    now[0] = t0 + timedelta(seconds=65)
    control.tick()
    assert bar.texts()["timer"] == "01:05"
    fake.answer_remote(cid, at=t0 + timedelta(seconds=70))
    await until(lambda: bar.texts()["state"] == "Connected", "connected")
    now[0] = t0 + timedelta(seconds=100)
    control.tick()
    assert bar.texts()["timer"] == "00:30" and bar.timer_label.toolTip() == "Talk time"
    fake.hold_remote(cid, at=t0 + timedelta(seconds=100))
    await until(lambda: bar.texts()["state"] == "On hold", "held")
    now[0] = t0 + timedelta(seconds=3712)
    control.tick()
    assert bar.texts()["timer"] == "1:00:12" and bar.timer_label.toolTip() == "On hold for"
    fake.end(cid)
    await until(lambda: bar.texts()["state"] == "Wrap-up", "wrap-up")
    await manager.complete_wrap_up("Resolved")
    await until(lambda: not manager.calls, "the line is gone")
    assert bar.texts()["number"] == "No call" and not control.timer.isActive()
    await close_shell(desktop, window, host)


async def test_two_lines_show_the_switcher():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    first = fake.offer(ani="+358401111111", caller_name="Ann Smith")
    await until(lambda: bar.texts()["state"] == "Ringing", "the first call")
    assert not bar.lines_box.isVisible()
    await manager.answer(first)
    second = fake.offer(ani="+358402222222", caller_name="Bob Jones")
    await until(lambda: len(bar.line_buttons) == 2, "two lines")
    assert bar.lines_box.isVisible()
    assert manager.active is not None and manager.active.id == first  # the connected call stays active
    assert bar.texts()["name"] == "Ann Smith"
    assert bar.line_buttons[first].isChecked() and not bar.line_buttons[second].isChecked()
    assert bar.line_buttons[second].property("ringing") is True  # the waiting call draws attention
    assert "Bob Jones" in bar.line_buttons[second].text() and "Ringing" in bar.line_buttons[second].text()
    assert bar.line_buttons[second].accessibleName() == "Line 2: Bob Jones, ringing"
    bar.line_buttons[second].click()
    await until(lambda: manager.active is not None and manager.active.id == second, "line 2 selected")
    assert bar.texts()["name"] == "Bob Jones" and bar.texts()["state"] == "Ringing"
    assert bar.line_buttons[second].isChecked() and "answer" in enabled(bar)
    bar.buttons["answer"].click()
    await until(lambda: fake.ops("answer") == [(first,), (second,)], "line 2 answered")
    await close_shell(desktop, window, host)


async def test_wrap_up_counts_down_and_done_completes_it():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    cid = fake.offer(ani="0401234567")
    await manager.answer(cid)
    fake.end(cid)
    await until(lambda: bar.texts()["state"] == "Wrap-up", "wrap-up")
    deadline = manager.agent_status.wrap_up_deadline
    assert deadline is not None
    control.clock = lambda: deadline - timedelta(seconds=42)
    control.tick()
    assert bar.texts()["timer"] == "00:42 left" and bar.timer_label.toolTip() == "Wrap-up time left"
    assert bar.wrap_box.isVisible() and enabled(bar) == shown(bar) == {"dialpad"}
    items = [bar.disposition.itemText(i) for i in range(bar.disposition.count())]
    assert items == ["Disposition…", "Resolved", "Callback", "Escalated"]
    done = bar.buttons["done"]
    assert not done.isEnabled() and done.toolTip() == "Choose a disposition first"
    bar.disposition.setCurrentIndex(2)
    assert done.isEnabled()
    call = manager.calls[cid]
    done.click()
    await until(lambda: not manager.calls, "the wrap-up completed")
    assert call.disposition == "Callback" and fake.ops("complete_wrap_up") == [(cid, "Callback")]
    assert not bar.wrap_box.isVisible() and bar.texts()["number"] == "No call"
    await close_shell(desktop, window, host)


async def test_buttons_follow_the_adapters_capabilities():
    desktop, window, host, control = await make_shell("limited")
    manager, fake, bar = parts(control)
    cid = fake.offer(ani="0401234567")
    await manager.answer(cid)
    await until(lambda: bar.texts()["state"] == "Connected", "connected")
    assert enabled(bar) == {"hangup", "mute"}
    assert shown(bar) == {"hangup", "hold", "mute", "dialpad", "transfer", "consult"}
    assert bar.buttons["hold"].toolTip() == "The limited adapter cannot hold"
    assert bar.buttons["transfer"].toolTip() == "The limited adapter cannot blind transfer"
    assert bar.buttons["dialpad"].toolTip() == "The limited adapter cannot send dtmf"
    await close_shell(desktop, window, host)


async def test_the_dial_pad_dials_and_sends_tones(qtbot):
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    bar.buttons["dialpad"].click()
    pad = control.dial_pad
    assert pad is not None and pad.isVisible() and not pad.tones
    assert not pad.call_button.isEnabled()
    QTest.keyClicks(pad.field, "040")
    pad.keys["1"].click()
    pad.keys["2"].click()
    assert pad.field.text() == "04012" and pad.call_button.isEnabled()
    QTest.keyClick(pad.field, Qt.Key.Key_Return)
    await until(lambda: fake.ops("dial") == [("04012", None)], "dialled")
    assert not pad.isVisible()
    await until(lambda: bar.texts()["state"] == "Calling", "the outbound call")
    assert "4012" in bar.texts()["number"]
    fake.answer_remote(manager.active.id)
    await until(lambda: bar.texts()["state"] == "Connected", "connected")
    bar.buttons["dialpad"].click()
    assert pad.isVisible() and pad.tones and pad.field.isReadOnly() and not pad.call_button.isVisible()
    cid = manager.active.id
    pad.keys["5"].click()
    QTest.keyClick(pad, Qt.Key.Key_NumberSign, Qt.KeyboardModifier.NoModifier)
    await until(lambda: fake.ops("send_dtmf") == [(cid, "5"), (cid, "#")], "tones sent")
    assert pad.field.text() == "5#"
    await manager.hangup(cid)
    await manager.complete_wrap_up("Resolved")
    # a pasted tel: link becomes its number
    control.show_dial_pad()
    assert not pad.tones and pad.field.text() == ""
    QApplication.clipboard().setText("tel:+358-40-765;phone-context=example.com")
    pad.field.paste()
    assert pad.field.text() == "+35840765"
    pad.call_button.click()
    await until(lambda: [a[0] for a in fake.ops("dial")] == ["04012", "+35840765"], "the link dialled")
    await close_shell(desktop, window, host)


async def test_the_transfer_dialog_filters_the_directory_and_transfers():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    cid = fake.offer(ani="0401234567", caller_name="Ann Smith")
    await manager.answer(cid)
    await until(lambda: "transfer" in enabled(bar), "connected")
    bar.buttons["transfer"].click()
    dialog = control.transfer_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.heading.text() == "Transfer Ann Smith"
    assert [e.name for e in dialog.visible_entries()] == [
        "Support queue", "Billing queue", "Maria Virtanen", "Pekka Agent"]
    QTest.keyClicks(dialog.search, "queue")
    assert [e.name for e in dialog.visible_entries()] == ["Support queue", "Billing queue"]
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "maria")
    assert [e.number for e in dialog.visible_entries()] == ["+358 40 555 0101"]
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "040 555")
    assert [e.name for e in dialog.visible_entries()] == ["040 555", "Maria Virtanen", "Pekka Agent"]
    QTest.keyClick(dialog.search, Qt.Key.Key_Down)
    assert dialog.current_entry() == DirectoryEntry("Maria Virtanen", "+358 40 555 0101", "agent")
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "nobody")
    assert dialog.visible_entries() == [] and dialog.empty.isVisible()
    assert not dialog.transfer_button.isEnabled() and not dialog.consult_button.isEnabled()
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "billing")
    dialog.transfer_button.click()
    await until(lambda: fake.ops("blind_transfer") == [(cid, "1002")], "transferred")
    assert not dialog.isVisible()
    await close_shell(desktop, window, host)


async def test_consult_then_complete_cancel_or_conference():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    cid = fake.offer(ani="0401234567", caller_name="Ann Smith")
    await manager.answer(cid)
    await until(lambda: "consult" in enabled(bar), "connected")
    assert not bar.shown("complete") and bar.shown("consult")
    bar.buttons["consult"].click()
    dialog = control.transfer_dialog
    QTest.keyClicks(dialog.search, "support")
    dialog.consult_button.click()
    await until(lambda: fake.ops("consult") == [(cid, "1001")], "consulting")
    await until(lambda: bar.shown("complete"), "the consultation buttons")
    await until(lambda: manager.active is not None and manager.active.consultation_of == cid,
                "the consultation is the active line")
    consultation = manager.active
    assert bar.texts()["number"] == "1001" and bar.texts()["state"] == "Connected"
    assert {"complete", "cancel", "conference"} <= {k for k, b in bar.buttons.items() if b.isEnabled()}
    assert not bar.shown("transfer") and not bar.shown("consult")  # the trio took their place
    assert len(bar.line_buttons) == 2  # the caller on hold and the consultation
    bar.buttons["cancel"].click()
    await until(lambda: fake.ops("cancel_transfer") == [(cid, consultation.id)], "cancelled")
    await until(lambda: not bar.shown("complete"), "back to the caller")
    assert bar.texts()["state"] == "Connected" and bar.texts()["name"] == "Ann Smith"
    # again, and complete the transfer this time
    await manager.consult("1001", cid)
    await until(lambda: bar.shown("complete"), "consulting again")
    bar.buttons["complete"].click()
    await until(lambda: len(fake.ops("complete_transfer")) == 1, "transfer completed")
    assert fake.ops("complete_transfer")[0][0] == cid
    await close_shell(desktop, window, host)


async def test_errors_show_in_the_status_line():
    desktop, window, host, control = await make_shell()
    manager, fake, bar = parts(control)
    cid = fake.offer(ani="0401234567")
    await manager.answer(cid)
    await until(lambda: "hold" in enabled(bar), "connected")
    fake.fail("hold")
    bar.buttons["hold"].click()
    await until(lambda: "the backend refused" in bar.texts()["status"], "the error shown")
    assert bar.texts()["status"] == "Hold failed: the backend refused" and bar.status.property("error") is True
    assert bar.texts()["state"] == "Connected" and not bar.buttons["hold"].isChecked()
    fake.clear()
    bar.buttons["hold"].click()
    await until(lambda: bar.texts()["state"] == "On hold", "held")
    assert bar.texts()["status"] == "" and bar.status.property("error") is False
    # a lost connection disables the buttons and says so
    manager.reconnect_delays = (30.0,)
    fake.lose_connection("network down")
    await until(lambda: bar.texts()["status"].startswith("Disconnected"), "disconnected")
    assert enabled(bar) == set()
    fake.restore_connection()
    await until(lambda: "hangup" in enabled(bar), "connected again")
    await close_shell(desktop, window, host)


async def test_without_a_cti_manager_everything_is_disabled_with_the_reason():
    desktop, window, host, control = await make_shell(text=NO_CTI)
    bar = control.bar
    assert bar is not None and control.manager is None
    assert bar.texts()["number"] == "CTI unavailable"
    assert bar.texts()["status"] == "No CTI: no CTI Desktop Manager in this configuration"
    assert enabled(bar) == set() and not bar.buttons["done"].isEnabled()
    control.command("answer")  # nothing to do it with: said, not raised
    assert bar.texts()["status"] == "Answer: no CTI Desktop Manager in this configuration"
    await close_shell(desktop, window, host)
    # the adapter could not be created
    desktop, window, host, control = await make_shell("missing")
    bar = control.bar
    assert bar is not None and control.manager is None
    assert bar.texts()["number"] == "CTI unavailable"
    assert "unknown CTI adapter 'missing'" in bar.number_label.toolTip()
    assert bar.texts()["status"].startswith("No CTI: unknown CTI adapter 'missing'")
    assert enabled(bar) == set()
    await close_shell(desktop, window, host)


async def test_show_dial_pad_and_transfer_actions():
    desktop, window, host, control = await make_shell()
    manager, fake, _bar = parts(control)
    done = await desktop.dispatcher.run_action("Call Bar", "ShowDialPad", "number=0409876")
    assert done.outcome is Outcome.RAN, done.reason
    assert control.dial_pad is not None and control.dial_pad.isVisible()
    assert control.dial_pad.field.text() == "0409876"
    refused = await desktop.dispatcher.run_action("Call Bar", "ShowTransfer", "")
    assert refused.outcome is not Outcome.RAN and "no call to transfer" in str(refused.reason)
    cid = fake.offer(ani="0401234567", caller_name="Ann Smith")
    await manager.answer(cid)
    done = await desktop.dispatcher.run_action("Call Bar", "ShowTransfer", "")
    assert done.outcome is Outcome.RAN, done.reason
    assert control.transfer_dialog is not None and control.transfer_dialog.isVisible()
    await close_shell(desktop, window, host)


async def grab(window, path: Path, theme: str = "light") -> QImage:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    themes.apply(app, theme)
    await until(window.isVisible, "the window")
    for _ in range(5):  # let Qt lay out and polish the new theme (posted events, on the loop)
        await asyncio.sleep(0)
    image = window.grab().toImage()
    assert image.save(str(path))
    return image


def colour_at(window, widget, image: QImage) -> str:
    """The colour of ``widget``'s fill (inside its border, left of its text) in the window's ``image``."""
    point = widget.mapTo(window, QPoint(4, widget.height() // 2))
    ratio = image.devicePixelRatio()
    return image.pixelColor(int(point.x() * ratio), int(point.y() * ratio)).name()


async def test_screenshots_of_the_cti_panel(tmp_path):
    """The CtiPanel with a ringing call and in wrap-up (/tmp/cti-ringing.png, /tmp/cti-wrapup.png),
    and in every theme the ringing call's accent comes from the theme's palette."""
    desktop, window, host, control = await make_shell(pop="offer")
    window.resize(1440, 900)
    manager, fake, bar = parts(control)
    await until(bar.isVisible, "the call bar shown")
    selector = desktop.instance("Agent State")
    await manager.set_agent_state("available")
    try:
        cid = fake.offer(ani="+358401234567", queue="support", caller_name="Ann Smith",
                         data={"account": "ACME-1001"})
        await until(lambda: bar.texts()["state"] == "Ringing", "ringing")
        await until(lambda: selector.selector.shown_text == "Available", "the agent state")
        for theme in ("dark", "high-contrast", "light"):
            path = Path("/tmp/cti-ringing.png") if theme == "light" else tmp_path / f"ringing-{theme}.png"
            image = await grab(window, path, theme)
            highlight = themes.palette(theme).color(QPalette.ColorRole.Highlight).name()
            assert colour_at(window, bar.buttons["answer"], image) == highlight, theme
            assert colour_at(window, bar.state_label, image) == highlight, theme
        await manager.answer(cid)
        fake.end(cid)
        await until(lambda: bar.texts()["state"] == "Wrap-up", "wrap-up")
        bar.disposition.setCurrentIndex(1)
        control.tick()
        await grab(window, Path("/tmp/cti-wrapup.png"))
    finally:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        themes.apply(app, "light")
    await close_shell(desktop, window, host)
