"""The desktop process of tests/integration/test_cti_crash.py (run as a script, never imported).

``cti_child.py call <data url> <drafts file>`` builds a desktop with a CTI Desktop Manager (the
``http_listener`` adapter on a free port), a customer form and a Notes control per session and a
CTI rule that finds the caller by phone. It prints ``LISTENING <url>``; the test pops a call there.
The customer's session pops, the agent answers (the ``Answer`` action), the interaction row is
written (offered, answered, the customer linked), a note is typed into the session's Notes control
with key events (never saved to the data source: the save delay is an hour), and it prints
``READY <json>`` (the call, its interaction, the session, the note's draft key) and blocks the
event loop until the test kills it.

``cti_child.py recover <data url> <drafts file> <contact id>`` builds the same desktop in a new
process: the CTI control's recorder writes the interaction left behind, the first Notes control
(in a session opened on the contact) saves the orphaned note. It prints ``RECOVERED <json>`` (the
interaction rows, the contact's notes, the drafts left) and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from datetime import datetime
from typing import Any

import qasync
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core.trace import Outcome
from usd_desktop.cti.adapters.http_listener import HttpListenerAdapter
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.notes import NotesControl, NotesWidget
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: cti-crash
    hosted_controls:
      - {name: Global Manager, type: GlobalManager}
      - {name: CTI, type: CtiDesktopManager,
         settings: {adapter: http_listener, adapter_settings: {port: 0, ring_seconds: null}, wrap_up_seconds: 60}}
      - {name: Customer, type: EntityForm, is_global: false, settings: {entity: contact}}
      - {name: Notes, type: Notes, is_global: false}
    window_navigation_rules:
      - name: Known callers
        order: 1
        target_tab: Customer
        cti:
          searches: [{name: Caller, entity: contact, filters: [{field: phone, value: "[[cti.ani]]"}]}]
          single_match: {decision: create_session_load_match_then_do_action}
          no_match: {decision: next_rule}
    """)
USER = {"firstname": "Tracie", "fullname": "Tracie Agent", "username": "tracie"}
NOTE = "Router reboots nightly — parolă ✓.\nCall back at 15:00"
TIMEOUT = 30.0
COLUMNS = ["offered_at", "answered_at", "ended_at", "wrap_up_ended_at", "contact_id", "address", "subject",
           "agent", "disposition", "hold_seconds"]


def type_text(target: QWidget, text: str) -> None:
    for char in text:  # one key event per character, as the agent types
        if char == "\n":
            QTest.keyClick(target, Qt.Key.Key_Return)
        elif char.isascii():
            QTest.keyClicks(target, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(target, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def cti(desktop: Desktop) -> CtiDesktopManager:
    control = desktop.instance("CTI")
    assert isinstance(control, CtiDesktopManager) and control.manager is not None, desktop.problems
    return control


async def interactions(data: DataServices) -> list[dict[str, Any]]:
    search = EntitySearch(name="i", entity="interaction", columns=["id", *COLUMNS])
    return [plain(row) for row in (await data.search(search, announce=False)).rows]


async def call(url: str, drafts: str) -> None:
    NotesControl.SAVE_DELAY = 3600.0  # only the draft may hold the note when the process dies
    data = make_data_services(url, drafts=drafts)
    desktop = make_desktop(CONFIG, data=data, user=USER)
    await desktop.start()
    control = cti(desktop)
    manager = control.manager
    assert manager is not None
    await until(lambda: manager.connection.connected, "the listener started", timeout=TIMEOUT)
    assert isinstance(manager.adapter, HttpListenerAdapter)
    print(f"LISTENING {manager.adapter.url}", flush=True)

    # the test pops a call: the customer's session opens with the contact in its form
    session = await until(lambda: next(iter(desktop.sessions.customer_sessions), None), "the screen pop",
                          timeout=TIMEOUT)
    await until(lambda: session.store.get("contact", "id"), "the customer loaded", timeout=TIMEOUT)
    call_id = str(session.store.get("cti", "callid"))
    answered = await desktop.dispatcher.run_action("CTI", "Answer", "")
    assert answered.outcome is Outcome.RAN, answered.reason
    line = manager.calls[call_id]
    assert line.state == "connected" and line.interaction_id

    notes = desktop.resolve("Notes", session)
    assert isinstance(notes, NotesControl)
    widget = notes.widget()
    assert isinstance(widget, NotesWidget)
    widget.resize(600, 400)
    widget.show()
    await until(lambda: notes.attachment is not None, "the note attached", timeout=TIMEOUT)
    widget.editor.setFocus()
    type_text(widget.editor, NOTE)
    assert widget.editor.toPlainText() == NOTE, widget.editor.toPlainText()

    assert control.recorder is not None
    await control.recorder.flush()  # the row as the call stands now is in the data source
    print("READY " + json.dumps({
        "call": call_id, "interaction": line.interaction_id, "session": session.id,
        "state": line.state, "notes_key": notes.key, "rows": await interactions(data),
    }, ensure_ascii=False), flush=True)
    time.sleep(3600)  # blocks the event loop: nothing more happens until the kill


def _open_states(data: DataServices) -> list[str]:
    """The agents' state periods with no end (only the running desktop's own should be open)."""
    table = data.entities["agent_state_period"].table
    with data.repository.engine.connect() as conn:  # type: ignore[attr-defined]
        return [str(r.state) for r in conn.execute(table.select().where(table.c.ended_at.is_(None)))]


async def recover(url: str, drafts: str, contact_id: str) -> None:
    data = make_data_services(url, drafts=drafts)
    desktop = make_desktop(CONFIG, data=data, user=USER)
    await desktop.start()
    control = cti(desktop)  # its recorders recover the interaction and agent state left behind

    def own() -> set[str]:  # this run's open agent-state period is a draft until it ends
        current = control.states.current if control.states is not None else None
        return {f"agent_state:{current}"} if current else set()

    await until(lambda: not data.drafts.pending("interaction:"), "the interaction recovered", timeout=TIMEOUT)
    await until(lambda: {d.key for d in data.drafts.pending("agent_state:")} <= own(),
                "the agent state periods recovered", timeout=TIMEOUT)
    contact = await data.get("contact", contact_id)
    assert contact is not None
    session = desktop.sessions.create("Aino")  # the first Notes control saves the orphaned note
    publish_record(session, "contact", contact)
    notes = desktop.resolve("Notes", session)
    assert isinstance(notes, NotesControl)
    await until(lambda: not data.drafts.pending("notes:"), "the note recovered", timeout=TIMEOUT)
    search = EntitySearch(name="notes", entity="note", columns=["body"],
                          filters=[SearchFilter(field="contact_id", value=contact_id)])
    print("RECOVERED " + json.dumps({
        "rows": await interactions(data),
        "notes": [row["body"] for row in (await data.search(search, announce=False)).rows],
        "recovered": [r.where for r in notes.recovered],
        "drafts": [d.key for d in data.drafts.pending("") if d.key not in own()],
        "open_states": await data.call(_open_states, data),
    }, ensure_ascii=False), flush=True)
    await desktop.shutdown()
    data.close()


def main(argv: list[str]) -> int:
    mode, url, drafts = argv[1:4]
    app = QApplication.instance() or QApplication(argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    work = call(url, drafts) if mode == "call" else recover(url, drafts, argv[4])
    with loop:
        loop.run_until_complete(work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
