"""The desktop process of tests/integration/test_session_crash.py (run as a script, never imported).

It runs the real application (``usd_desktop.app.run``) on the test's configuration and data, with
an ``after_ready`` hook:

``sessions_child.py open <config> <data url> <contact id>...`` opens a customer session per contact
(through the Global Manager's CreateSession; the SessionNew action call opens the contact in the
session's form), types a note into each session's Notes control with key events (never saved: the
save delay is an hour), writes a value into each session's ``$Context``, switches to the second
session, prints ``READY <json of what it did>`` and blocks until the test kills it.

``sessions_child.py check <config> <data url>`` starts the desktop again with ``--restore always``,
prints ``STATE <json of what it found>`` (sessions, their context, forms, notes editors, the active
session) and closes the window: a normal close.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from usd_desktop.app import RunOptions, run
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.hosted_controls.qt.notes import NotesControl, NotesWidget
from usd_desktop.testing import until

NOTES = ["Router reboots nightly.\nCalled back — parolă ✓", "東京 office: no dial tone", "Wants a refund"]


def type_text(target: QWidget, text: str) -> None:
    for char in text:  # one key event per character, as the agent types
        if char == "\n":
            QTest.keyClick(target, Qt.Key.Key_Return)
        elif char.isascii():
            QTest.keyClicks(target, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(target, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def state(runner: Any) -> dict[str, Any]:
    desktop = runner.desktop
    sessions = []
    for session in desktop.sessions.customer_sessions:
        form = desktop.instance("Customer", session)
        notes = desktop.instance("Notes", session)
        editor = notes.widget().editor.toPlainText() if isinstance(notes, NotesControl) else None
        sessions.append({
            "id": session.id,
            "name": session.name,
            "entity": session.entity,
            "started": session.started.isoformat(),
            "context": dict(session.store.section("$Context")),
            "contact": session.store.get("contact", "id"),
            "form": [form.entity, form.record_id] if isinstance(form, EntityForm) else None,
            "notes": editor,
            "unsaved": bool(isinstance(notes, NotesControl) and notes.dirty),
            "overview": [line.text for line in session.view.overview] if session.view else [],
        })
    return {"sessions": sessions, "active": desktop.sessions.active.id}


async def open_sessions(runner: Any, contacts: list[str]) -> None:
    desktop = runner.desktop
    for n, contact in enumerate(contacts):
        session = await desktop.create_session(entity="contact",
                                               context={"Id": contact, "ani": f"+35840123456{n}"})
        form = desktop.instance("Customer", session)
        await until(lambda f=form, c=contact: isinstance(f, EntityForm) and f.record_id == c,
                    "the customer opened", timeout=30)
        notes = desktop.resolve("Notes", session)
        assert isinstance(notes, NotesControl)
        widget = notes.widget()
        assert isinstance(widget, NotesWidget)
        await until(lambda c=notes: c.attachment is not None, "the note attached", timeout=30)
        widget.editor.setFocus()
        type_text(widget.editor, NOTES[n % len(NOTES)])
        session.store.set("$Context", "wrapup", f"step {n}")
    second = desktop.sessions.customer_sessions[1]
    await desktop.switch_session(second)
    others = [desktop.instance("Notes", s) for s in desktop.sessions.customer_sessions if s is not second]
    await until(lambda: not any(n.dirty for n in others), "the other sessions' notes saved", timeout=30)
    notes = desktop.instance("Notes", second)
    assert isinstance(notes, NotesControl)
    notes.widget().editor.setFocus()
    notes.widget().editor.moveCursor(QTextCursor.MoveOperation.End)
    type_text(notes.widget().editor, "\nUNSAVED: call back at 15:00")
    await asyncio.sleep(0)
    runner.recorder.flush()
    print("READY " + json.dumps(state(runner), ensure_ascii=False), flush=True)
    time.sleep(3600)  # blocks the event loop: nothing more is written until the kill


async def report(runner: Any) -> None:
    await until(lambda: all(
        isinstance(f, EntityForm) and f.record_id
        for f in (runner.desktop.instance("Customer", s) for s in runner.desktop.sessions.customer_sessions)
    ), "the restored forms loaded", timeout=30)
    print("STATE " + json.dumps(state(runner), ensure_ascii=False), flush=True)
    assert runner.window is not None
    runner.window.close()


def main(argv: list[str]) -> int:
    mode, config, url = argv[1:4]
    contacts = argv[4:]
    NotesControl.SAVE_DELAY = 3600.0  # only the draft may hold the text when the process dies
    hook = (lambda runner: open_sessions(runner, contacts)) if mode == "open" else report
    return run(RunOptions(config=Path(config), data=url, demo_data=False, user="tracie",
                          remember_state=False, restore="always" if mode == "check" else "never",
                          after_ready=hook))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
