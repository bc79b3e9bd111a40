"""The desktop process of tests/integration/test_notes_crash.py (run as a script, never imported).

``notes_child.py type <data url> <drafts file> <config: session|global> <contact id> <text>``
builds a desktop with a Notes control attached to the contact, types ``text`` into it with key
events, prints ``TYPED`` and blocks, until the test kills it.

``notes_child.py recover <data url> <drafts file> <config> <contact id>`` builds the same desktop
in a new process, lets the Notes control recover what the killed one left, prints one JSON line
(``editor``, ``banner``, ``notes``: the bodies of the contact's notes, ``drafts``: the notes drafts
left) and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time

import qasync
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core.context import Session
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.notes import NotesControl, NotesWidget
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIGS = {
    "session": textwrap.dedent("""\
        name: crash-session
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
          - {name: Notes, type: Notes, is_global: false}
        """),
    "global": textwrap.dedent("""\
        name: crash-global
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
          - {name: Desk Notes, type: Notes}
        """),
}
USER = {"firstname": "Tracie", "fullname": "Tracie Agent", "username": "tracie"}


def type_char(target: QWidget, char: str) -> None:
    """One key press and release for ``char`` (QTest's ASCII key table cannot make ``ă`` or ``東``)."""
    if char == "\n":
        QTest.keyClick(target, Qt.Key.Key_Return)
    elif char.isascii():
        QTest.keyClicks(target, char)
    else:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def notes_control(desktop: Desktop, kind: str, session: Session | None) -> NotesControl:
    if kind == "global":
        control = desktop.resolve("Desk Notes", desktop.sessions.global_session)
    else:
        assert session is not None
        control = desktop.resolve("Notes", session)
    assert isinstance(control, NotesControl)
    return control


async def run(mode: str, url: str, drafts: str, kind: str, contact_id: str, text: str) -> None:
    # No save to the data source may happen before the kill: only the draft may keep the text.
    NotesControl.SAVE_DELAY = 3600.0
    data = make_data_services(url, drafts=drafts)
    desktop = make_desktop(CONFIGS[kind], data=data, user=USER)
    await desktop.start()
    contact = await data.get("contact", contact_id)
    assert contact is not None
    session = desktop.sessions.create("Maria")
    publish_record(session, "contact", contact)
    control = notes_control(desktop, kind, session)
    widget = control.widget()
    assert isinstance(widget, NotesWidget)
    widget.resize(600, 400)
    widget.show()

    if mode == "type":
        if kind == "global":
            await desktop.dispatcher.run_action(control.name, "Attach", f"LogicalName=contact\nid={contact_id}")
        await until(lambda: control.attachment is not None, "the contact attached")
        widget.editor.setFocus()
        for char in text:  # one key event per character, as the agent types
            type_char(widget.editor, char)
        assert widget.editor.toPlainText() == text, widget.editor.toPlainText()
        print("TYPED", flush=True)
        time.sleep(3600)  # blocks the event loop: nothing more happens until the kill
        return

    await until(lambda: control.recovered and not control.dirty, "the recovered note saved", timeout=30)
    search = EntitySearch(name="notes", entity="note", filters=[SearchFilter(field="contact_id", value=contact_id)],
                          columns=["body"])
    rows = (await data.search(search, announce=False)).rows
    print(json.dumps({
        "editor": widget.editor.toPlainText(),
        "banner": widget.banner.text(),
        "notes": [row["body"] for row in rows],
        "drafts": [d.key for d in data.drafts.pending("notes:")],
    }), flush=True)
    await desktop.shutdown()
    data.close()


def main(argv: list[str]) -> int:
    mode, url, drafts, kind, contact_id = argv[1:6]
    text = argv[6] if len(argv) > 6 else ""
    app = QApplication.instance() or QApplication(argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(run(mode, url, drafts, kind, contact_id, text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
