"""Notes: drafted on every keystroke, saved after a pause, attached to the session's case or customer."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QFocusEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.notes import NotesControl, NotesWidget
from usd_desktop.hosted_controls.qt.notes_support import draft_key
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: notes-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Notes
        type: Notes
        is_global: false
    """)

GLOBAL_CONFIG = textwrap.dedent("""\
    name: notes-global
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Desk Notes
        type: Notes
    """)

USER = {"firstname": "Tracie", "fullname": "Tracie Agent", "username": "tracie.agent"}


@pytest.fixture(autouse=True)
def _short_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotesControl, "SAVE_DELAY", 0.15)


def services_for(tmp_path: Path) -> DataServices:
    return make_data_services(f"sqlite:///{tmp_path / 'data.db'}", drafts=str(tmp_path / "drafts.db"))


@asynccontextmanager
async def running(tmp_path: Path, yaml_text: str = CONFIG) -> AsyncIterator[tuple[Desktop, DataServices]]:
    data = services_for(tmp_path)
    desktop = make_desktop(yaml_text, data=data, user=USER)
    await desktop.start()
    try:
        yield desktop, data
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        data.close()


async def customer(data: DataServices) -> tuple[dict[str, Any], dict[str, Any]]:
    contact_id = await data.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    case_id = await data.create("case", {"title": "Router keeps rebooting", "contact_id": contact_id})
    contact = await data.get("contact", contact_id)
    case = await data.get("case", case_id)
    assert contact is not None and case is not None
    return contact, case


async def notes_of(data: DataServices, field: str, value: str) -> list[dict[str, Any]]:
    search = EntitySearch(name="notes", entity="note", filters=[SearchFilter(field=field, value=value)],
                          columns=["body", "author", "case_id", "contact_id"])
    return (await data.search(search, announce=False)).rows


def open_notes(desktop: Desktop, session: Session) -> tuple[NotesControl, NotesWidget]:
    control = desktop.resolve("Notes", session)
    assert isinstance(control, NotesControl)
    widget = control.widget()
    assert isinstance(widget, NotesWidget)
    return control, widget


async def test_typing_drafts_at_once_and_saves_after_the_pause(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        contact, _ = await customer(data)
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        control, widget = open_notes(desktop, session)
        await until(lambda: control.attachment is not None, "the contact attached")
        assert widget.header.text() == "Note on Maria Popescu"
        key = draft_key(session.id, "Notes")

        QTest.keyClicks(widget.editor, "Customer asked")
        # no await since the keystrokes: the draft is already on disk, the note not saved yet
        draft = data.drafts.get(key)
        assert draft is not None and draft.payload["text"] == "Customer asked"
        assert draft.payload["attachment"]["entity"] == "contact"
        assert await notes_of(data, "contact_id", contact["id"]) == []

        await until(lambda: data.drafts.get(key) is None, "the draft deleted after the save")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Customer asked" and note["author"] == "tracie.agent"
        assert note["id"] == control.note_id

        QTest.keyClicks(widget.editor, " about roaming")
        assert data.drafts.get(key) is not None
        await until(lambda: data.drafts.get(key) is None, "the update saved")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Customer asked about roaming"  # the same note, updated


async def test_leaving_the_editor_saves_at_once(qtbot: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotesControl, "SAVE_DELAY", 3600.0)  # only the focus change can save it
    async with running(tmp_path) as (desktop, data):
        contact, _ = await customer(data)
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        control, widget = open_notes(desktop, session)
        await until(lambda: control.attachment is not None, "the contact attached")
        QTest.keyClicks(widget.editor, "Short one")
        QApplication.sendEvent(widget.editor, QFocusEvent(QEvent.Type.FocusOut))
        await until(lambda: not control.dirty, "saved on focus out")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Short one"
        assert data.drafts.get(draft_key(session.id, "Notes")) is None


async def test_attach_append_new_and_earlier_notes(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        contact, case = await customer(data)
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        control, widget = open_notes(desktop, session)
        await until(lambda: control.attachment is not None, "the contact attached")
        run = desktop.dispatcher.run_action

        appended = await run("Notes", "AppendText", "Prefers e-mail.", session=session)
        assert appended.outcome is Outcome.RAN and appended.result == control.note_id
        [on_contact] = await notes_of(data, "contact_id", contact["id"])
        assert on_contact["body"] == "Prefers e-mail."

        attached = await run("Notes", "Attach", f"LogicalName=case\nid={case['id']}", session=session)
        assert attached.outcome is Outcome.RAN
        assert widget.header.text() == f"Note on case {case['case_number']} · Router keeps rebooting"
        assert widget.editor.toPlainText() == ""  # the contact's note stays saved there

        await run("Notes", "AppendText", "Rebooted the router.", session=session)
        await run("Notes", "AppendText", "Works now.", session=session)
        assert widget.editor.toPlainText() == "Rebooted the router.\nWorks now."
        [on_case] = await notes_of(data, "case_id", case["id"])
        assert on_case["body"] == "Rebooted the router.\nWorks now."
        assert on_case["contact_id"] == contact["id"]  # so the customer's timeline shows it

        new = await run("Notes", "New", session=session)
        assert new.outcome is Outcome.RAN and new.result == on_case["id"]
        assert widget.editor.toPlainText() == "" and control.note_id != on_case["id"]
        await until(lambda: "Rebooted the router." in widget.previous.toPlainText(), "the earlier note")

        saved = await run("Notes", "Save", session=session)
        assert saved.outcome is Outcome.RAN and saved.result == ""  # nothing typed yet

        bad = await run("Notes", "Attach", "LogicalName=knowledge_article\nid=1", session=session)
        assert bad.outcome is Outcome.FAILED and "not on 'knowledge_article'" in bad.reason
        missing = await run("Notes", "Attach", "LogicalName=case\nid=nope", session=session)
        assert missing.outcome is Outcome.FAILED and "no case record" in missing.reason


async def test_follows_the_session_case_then_customer(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        contact, case = await customer(data)
        session = desktop.sessions.create("Maria")
        control, widget = open_notes(desktop, session)
        assert widget.header.text().endswith("not attached to a record yet")
        QTest.keyClicks(widget.editor, "Called about the router")
        await asyncio.sleep(NotesControl.SAVE_DELAY * 2)
        assert control.dirty  # nowhere to save it yet; kept as a draft
        assert data.drafts.get(draft_key(session.id, "Notes")) is not None

        publish_record(session, "contact", contact)  # the text goes with the first record
        await until(lambda: not control.dirty, "the note saved on the contact")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Called about the router"
        loaded = await until(lambda: desktop.dispatcher.journal.find(kind="event", name="Loaded"), "Loaded")
        assert loaded[-1].parameters == {"LogicalName": "contact", "Id": contact["id"]}

        publish_record(session, "case", case)  # a case in the session wins
        await until(lambda: control.attachment is not None and control.attachment.entity == "case",
                    "the case attached")
        assert widget.header.text().startswith(f"Note on case {case['case_number']}")
        assert widget.editor.toPlainText() == ""
        assert "Called about the router" not in widget.previous.toPlainText()  # a note on the contact


async def test_update_replacement_parameters_publishes_on_request(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        contact, _ = await customer(data)
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        control, widget = open_notes(desktop, session)
        await until(lambda: control.attachment is not None, "the contact attached")
        QTest.keyClicks(widget.editor, "Line one")
        assert session.store.get("Notes", "text") is None  # not pushed as the agent types
        outcome = await desktop.dispatcher.run_action("Notes", "UpdateReplacementParameters", session=session)
        assert outcome.outcome is Outcome.RAN
        assert session.store.get("Notes", "text") == "Line one"
        assert session.store.get("Notes", "LogicalName") == "contact"
        assert session.store.get("Notes", "AttachedId") == contact["id"]
        await until(lambda: not control.dirty, "saved")
        await desktop.dispatcher.run_action("Notes", "UpdateReplacementParameters", session=session)
        assert session.store.get("Notes", "Id") == control.note_id
        saved = await until(lambda: desktop.dispatcher.journal.find(kind="event", name="NoteSaved"), "NoteSaved")
        assert saved[-1].parameters == {"Id": control.note_id}


async def test_closing_the_session_saves_what_was_typed(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        contact, _ = await customer(data)
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        control, widget = open_notes(desktop, session)
        await until(lambda: control.attachment is not None, "the contact attached")
        QTest.keyClicks(widget.editor, "Closing right away")
        desktop.sessions.close(session)
        key = draft_key(session.id, "Notes")
        await until(lambda: data.drafts.get(key) is None, "the last save")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Closing right away"


async def test_a_draft_for_the_control_is_restored_into_the_editor(qtbot: Any, tmp_path: Path) -> None:
    data = services_for(tmp_path)
    contact, _ = await customer(data)
    data.drafts.put(draft_key(None, "Desk Notes"), {
        "text": "Half a thought", "note_id": "6f1c2d3e-0000-4000-8000-000000000001",
        "attachment": {"entity": "contact", "id": contact["id"], "label": "Maria Popescu",
                       "fields": {"contact_id": contact["id"]}},
    })
    data.close()
    async with running(tmp_path, GLOBAL_CONFIG) as (desktop, data):
        control = desktop.resolve("Desk Notes", desktop.sessions.global_session)
        assert isinstance(control, NotesControl)
        widget = control.widget()
        assert isinstance(widget, NotesWidget)
        assert widget.editor.toPlainText() == "Half a thought"
        assert widget.banner.isVisibleTo(widget)
        assert widget.banner.text().startswith("Recovered a note you were writing at ")
        await until(lambda: data.drafts.get(draft_key(None, "Desk Notes")) is None, "the restored note saved")
        [note] = await notes_of(data, "contact_id", contact["id"])
        assert note["body"] == "Half a thought" and note["id"] == "6f1c2d3e-0000-4000-8000-000000000001"


async def test_drafts_of_vanished_sessions_are_saved_to_their_records(qtbot: Any, tmp_path: Path) -> None:
    data = services_for(tmp_path)
    contact, case = await customer(data)
    orphan = draft_key("0123456789abcdef0123456789abcdef", "Notes")
    data.drafts.put(orphan, {
        "text": "Typed before the crash", "note_id": "6f1c2d3e-0000-4000-8000-000000000002",
        "attachment": {"entity": "case", "id": case["id"], "label": "case X",
                       "fields": {"case_id": case["id"], "contact_id": contact["id"]}},
    })
    data.drafts.put(draft_key("fedcba9876543210fedcba9876543210", "Notes"), {"text": "no record"})
    data.close()
    async with running(tmp_path) as (desktop, data):
        session = desktop.sessions.create("Someone")
        _control, widget = open_notes(desktop, session)
        await until(lambda: data.drafts.get(orphan) is None, "the orphan saved")
        [note] = await notes_of(data, "case_id", case["id"])
        assert note["body"] == "Typed before the crash"
        assert "saved to case X" in widget.banner.text()
        # the one with nowhere to go is put into this editor, drafted under this control's key
        assert widget.editor.toPlainText() == "no record"
        assert data.drafts.pending("notes:") == [data.drafts.get(draft_key(session.id, "Notes"))]
