"""Notes: the agent writes a note on the customer or the case, and it is never lost.

Every change is written at once to the desktop's crash-safe draft store
(``data_services().drafts``, key ``notes:<session id or 'global'>:<control name>``), before the next
keystroke is handled; the note itself is saved to the data source ~1.5 s after the last keystroke
(:attr:`NotesControl.SAVE_DELAY`), on ``Save``, when the editor loses focus and when the control
closes. Once a save holds everything typed, the draft is deleted.

Attachment: ``Attach`` (``LogicalName=contact|account|case|interaction``, ``id=``); otherwise the
session's ``[[case.id]]``, else ``[[contact.id]]``, else ``[[account.id]]``, following them as they
change (a global Notes control follows the active session). A note being written when the record
changes is saved to the record it was started on, and a new note starts on the new one; text typed
before there was any record goes with the first record. The earlier notes of the record are shown
under the editor.

Recovery: a draft for this control's key is put back in the editor when the control is created;
the desktop's first Notes control also saves the drafts a crashed process left behind (their
sessions no longer exist) to their records. The agent is told ("Recovered a note you were writing
at 14:02").

Actions: ``Attach``; ``AppendText`` (the remainder appended, then saved; returns the note id);
``Save`` (returns the note id); ``New`` (saves the note and starts another); and
``UpdateReplacementParameters``, which publishes ``[[Name.text]]``, ``[[Name.Id]]``,
``[[Name.LogicalName]]`` and ``[[Name.AttachedId]]`` (as in USD, the text is not pushed on every
change). Events: ``Loaded`` (``LogicalName``, ``Id``: the record attached and its notes shown) and
``NoteSaved`` (``Id``). The author is ``[[$User.username]]``, else the data services' user.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.core.context import ChangeSet
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.data.errors import DataError
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import NOTES
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.notes_support import (
    NOTE_KEYS,
    Attachment,
    Recovered,
    draft_key,
    local_time,
    new_note_id,
    orphaned,
    previous_notes_html,
    previous_notes_search,
    recover_orphans,
    resolve_attachment,
    save_note,
)

log = logging.getLogger(__name__)

#: The session records a note follows, in order of preference.
DEFAULT_ORDER = ("case", "contact", "account")

#: The DataServices whose orphaned drafts a Notes control has already looked for.
_orphans_checked: weakref.WeakSet[DataServices] = weakref.WeakSet()


class NoteEditor(QPlainTextEdit):
    """The editor; tells the control when it loses focus (a save point)."""

    def __init__(self, on_focus_out: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_focus_out = on_focus_out

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._on_focus_out()


class NotesWidget(QWidget):
    """Header (what the note is on, save state), recovery banner, editor, buttons, earlier notes."""

    def __init__(self, control: NotesControl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        head = QHBoxLayout()
        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.header.setWordWrap(True)
        self.status = QLabel(self)
        self.status.setStyleSheet("color: #666;")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.header, 1)
        head.addWidget(self.status)
        layout.addLayout(head)

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e8d48a; border-radius: 3px;"
            " padding: 4px 6px;"
        )
        self.banner.hide()
        layout.addWidget(self.banner)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        top = QWidget(splitter)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.editor = NoteEditor(control.flush_soon, top)
        self.editor.setPlaceholderText("Write a note… it is kept as you type.")
        top_layout.addWidget(self.editor, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.new_button = QPushButton("New note", top)
        self.save_button = QPushButton("Save", top)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        top_layout.addLayout(buttons)

        bottom = QWidget(splitter)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 4, 0, 0)
        self.previous_label = QLabel("Earlier notes", bottom)
        self.previous_label.setStyleSheet("color: #444; font-weight: bold;")
        self.previous = QTextBrowser(bottom)
        self.previous.setOpenLinks(False)
        bottom_layout.addWidget(self.previous_label)
        bottom_layout.addWidget(self.previous, 1)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)


class NotesControl(QtHostedControl):
    """A note on the session's case or customer, saved as the agent types (see the module doc)."""

    control_type = NOTES
    #: Seconds after the last keystroke before the note is saved to the data source.
    SAVE_DELAY = 1.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = draft_key(None if self.session.is_global else self.session.id, self.name)
        self._text = ""
        self._note_id = new_note_id()
        self._note_exists: bool | None = False  # None: a recovered note that may have been saved
        self._version = 0
        self._saved_version = 0
        self._attachment: Attachment | None = None
        self._auto_key: tuple[str, str] | None = None  # the session record last followed
        self._previous: list[Mapping[str, Any]] = []
        self._previous_loading = False
        self._status = ""
        self.recovered: list[Recovered] = []
        self._save_lock = asyncio.Lock()
        self._attach_lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._quiet = False  # the editor is being changed by the control, not the agent
        self._editor: NoteEditor | None = None
        sessions = self.env.dispatcher.sessions
        self.follow_context(self._on_context_changed)
        if self.session.is_global:
            self.keep(sessions.active_changed.connect(lambda _s: self._follow_session()))
        self._restore_own_draft()
        self.start_task(self._begin())

    # ------------------------------------------------------------------ small helpers
    @property
    def services(self) -> DataServices | None:
        return self.env.data

    @property
    def text(self) -> str:
        return self._text

    @property
    def note_id(self) -> str:
        return self._note_id

    @property
    def attachment(self) -> Attachment | None:
        return self._attachment

    @property
    def dirty(self) -> bool:
        return self._version != self._saved_version




    def _author(self) -> str:
        user = self.env.dispatcher.sessions.global_session.store.get("$User", "username")
        services = self.services
        return user or (services.user if services is not None else "")

    def _payload(self) -> dict[str, Any]:
        return {
            "text": self._text,
            "note_id": self._note_id,
            "note_exists": bool(self._note_exists),
            "attachment": self._attachment.as_payload() if self._attachment else None,
            "author": self._author(),
            "session": self.session.id,
            "control": self.name,
        }

    def _raise(self, event: str, parameters: Mapping[str, Any]) -> None:
        if not self.closed:
            self.raise_event(event, parameters)

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = NotesWidget(self)
        self._editor = widget.editor
        self._set_editor_text(self._text)
        widget.editor.textChanged.connect(self._on_editor_changed)
        widget.save_button.clicked.connect(self._spawn_save)
        widget.new_button.clicked.connect(lambda: self.start_task(self._new_quietly()))
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._refresh_ui(widget)
        return widget

    def _widget_destroyed(self, widget: NotesWidget) -> None:
        if self._widget is widget:
            self._widget = None
        self._editor = None

    @property
    def notes_widget(self) -> NotesWidget | None:
        widget = self._widget
        return widget if isinstance(widget, NotesWidget) else None

    def _refresh_ui(self, widget: NotesWidget | None = None) -> None:
        widget = widget or self.notes_widget
        if widget is None:
            return
        attachment = self._attachment
        widget.header.setText(attachment.caption if attachment else "Note — not attached to a record yet")
        widget.status.setText(self._status)
        if self.recovered:
            widget.banner.setText(self.recovery_message)
            widget.banner.show()
        else:
            widget.banner.hide()
        widget.previous.setHtml(previous_notes_html(list(self._previous), loading=self._previous_loading))
        widget.previous_label.setText(
            f"Earlier notes on {attachment.label}" if attachment and attachment.label else "Earlier notes"
        )

    def _set_status(self, text: str) -> None:
        self._status = text
        widget = self.notes_widget
        if widget is not None:
            widget.status.setText(text)

    @property
    def recovery_message(self) -> str:
        parts = []
        for item in self.recovered:
            at = local_time(item.updated, "%H:%M")
            where = "" if item.where == "the editor" else f" (saved to {item.where})"
            parts.append(f"Recovered a note you were writing at {at}{where}.")
        return " ".join(parts)

    def _set_editor_text(self, text: str) -> None:
        editor = self._editor
        if editor is None:
            return
        self._quiet = True
        try:
            editor.setPlainText(text)
            editor.moveCursor(QTextCursor.MoveOperation.End)
        finally:
            self._quiet = False

    # ------------------------------------------------------------------ typing
    def _on_editor_changed(self) -> None:
        if self._quiet or self._editor is None:
            return
        text = self._editor.toPlainText()
        if text != self._text:
            self._text = text
            self._edited()

    def _edited(self) -> None:
        """The text changed: on disk now, to the data source after :attr:`SAVE_DELAY`."""
        self._version += 1
        services = self.services
        if services is not None:
            try:
                services.drafts.put(self.key, self._payload())
            except Exception:  # the drafts file is gone or full: say so, keep typing
                log.exception("%s: the draft could not be written", self.name)
                self._set_status("Draft NOT kept (disk problem)")
            else:
                self._set_status("Draft kept")
        self._schedule_save()

    def _schedule_save(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_event_loop()
        self._timer = loop.call_later(self.SAVE_DELAY, self._debounced)

    def _debounced(self) -> None:
        self._timer = None
        if not self.closed:
            self._spawn_save()

    def flush_soon(self) -> None:
        """Save now (focus left the editor)."""
        if self.dirty and not self.closed:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._spawn_save()

    def _spawn_save(self) -> None:
        # owned by the desktop, not by this control: a save outlives the control's closing, and
        # the desktop's shutdown cancels it (the draft then stays for the next start)
        self.env.spawn(self._save_quietly())

    async def _save_quietly(self) -> None:
        try:
            await self.save()
        except (ActionError, DataError) as exc:
            log.warning("%s: %s", self.name, exc)

    async def _new_quietly(self) -> None:
        try:
            await self.new_note()
        except (ActionError, DataError) as exc:
            self._set_status(str(exc).removeprefix(f"{self.name}: "))

    # ------------------------------------------------------------------ saving
    async def save(self) -> str:
        """Save the note to the data source if it changed; returns its id ('' when there is none yet)."""
        async with self._save_lock:
            return await self._save_locked()

    async def _save_locked(self) -> str:
        services = self.services
        if services is None:
            raise ActionError(f"{self.name} ({NOTES.name}) needs the service-desk data")
        text, version = self._text, self._version
        if version == self._saved_version:
            return self._note_id if self._note_exists else ""
        attachment = self._attachment
        if attachment is None:
            self._set_status("Draft kept — not attached to a record yet")
            return ""
        if not self._note_exists and not text.strip():
            self._saved_version = version  # nothing worth a note
            if self._version == version:
                services.drafts.delete(self.key)
            self._set_status("")
            return ""
        self._set_status("Saving…")
        known = self._note_exists
        if known is False:
            self._note_exists = None  # unknown until the create returns (it may be cancelled)
        try:
            await save_note(services, self._note_id, attachment, text, self._author(),
                            exists=known, session=self.context_session())
        except DataError as exc:
            self._note_exists = known
            self._set_status("Not saved — kept as a draft")
            raise ActionError(f"{self.name}: the note could not be saved ({exc}); it is kept as a draft") \
                from None
        self._note_exists = True
        self._saved_version = max(self._saved_version, version)
        if self._version == version:
            services.drafts.delete(self.key)
            self._set_status(f"Saved {datetime.now().strftime('%H:%M')}")
        else:
            services.drafts.put(self.key, self._payload())  # now known to exist
        self._raise("NoteSaved", {"Id": self._note_id})
        return self._note_id

    async def new_note(self) -> str:
        """Save the current note and start an empty one; returns the saved note's id."""
        saved = await self.save()
        for _ in range(3):  # typed while the save ran: save that too before clearing
            if not self.dirty or self._attachment is None:
                break
            saved = await self.save()
        if self._text.strip() and self._attachment is None:
            raise ActionError(f"{self.name}: attach the note to a record before starting another "
                              "(it would have nowhere to be saved)")
        self._note_id = new_note_id()
        self._note_exists = False
        self._text = ""
        self._version = self._saved_version = 0
        self._set_editor_text("")
        services = self.services
        if services is not None:
            services.drafts.delete(self.key)
        self._set_status("")
        if saved and self._attachment is not None:
            self.start_task(self._load_previous())
        return saved

    # ------------------------------------------------------------------ attachment
    def _session_default(self) -> tuple[str, str] | None:
        store = self.context_session().store
        for entity in DEFAULT_ORDER:
            value = store.get(entity, "id")
            if value:
                return (entity, value)
        return None

    def _on_context_changed(self, change: ChangeSet) -> None:
        if self.closed or change.session_id != self.context_session().id:
            return
        if change.roots & set(DEFAULT_ORDER):
            self._follow_session()

    def _follow_session(self) -> None:
        if self.closed:
            return
        wanted = self._session_default()
        if wanted is not None and wanted != self._auto_key:
            self._auto_key = wanted
            self.start_task(self.attach(*wanted))

    async def attach(self, entity: str, id: str) -> Attachment:
        """Put the note on ``entity``/``id``: the note in progress is saved where it was started."""
        services = self.services
        if services is None:
            raise ActionError(f"{self.name} ({NOTES.name}) needs the service-desk data")
        async with self._attach_lock:
            target = await resolve_attachment(services, entity, id)
            current = self._attachment
            if current is not None and current.key == target.key:
                return current
            saved = ""
            if current is not None and (self._text.strip() or self._note_exists):
                saved = await self.new_note()  # saved on the record it was started on
            self._attachment = target
            self._refresh_ui()
            if saved and current is not None:
                self._set_status(f"The last note was saved on {current.label or current.entity}")
            if self._text.strip():  # typed before there was a record: it goes with this one
                services.drafts.put(self.key, self._payload())
                await self.save()
            await self._load_previous()
            self._raise("Loaded", {"LogicalName": target.entity, "Id": target.id})
            return target

    async def _load_previous(self) -> None:
        attachment = self._attachment
        services = self.services
        if attachment is None or services is None:
            return
        self._previous_loading = not self._previous
        self._refresh_ui()
        try:
            result = await services.search(previous_notes_search(attachment), announce=False)
        except DataError as exc:
            log.warning("%s: earlier notes could not be read: %s", self.name, exc)
            result = None
        self._previous_loading = False
        if self._attachment is attachment and result is not None:
            self._previous = [row for row in result.rows if row.get("id") != self._note_id]
        self._refresh_ui()

    # ------------------------------------------------------------------ start and recovery
    def _restore_own_draft(self) -> None:
        services = self.services
        if services is None:
            return
        draft = services.drafts.get(self.key)
        if draft is None:
            return
        payload = draft.payload
        text = str(payload.get("text") or "")
        if not text.strip():
            services.drafts.delete(self.key)
            return
        self._text = text
        self._note_id = str(payload.get("note_id") or self._note_id)
        self._note_exists = None  # saved before the crash? looked up when saving
        self._attachment = Attachment.from_payload(payload.get("attachment"))
        self._version = 1
        self.recovered.append(Recovered(draft.updated, text, "the editor"))
        log.info("%s: recovered a draft note (%d characters)", self.name, len(text))

    async def _begin(self) -> None:
        services = self.services
        if services is None:
            return
        if services not in _orphans_checked:
            _orphans_checked.add(services)
            await self._recover_orphans(services)
        if self._attachment is not None:  # a restored draft: back on its record
            await self._load_previous()
            if self.dirty:
                await self._save_quietly()
            self._raise("Loaded", {"LogicalName": self._attachment.entity, "Id": self._attachment.id})
        wanted = self._session_default()
        if wanted is not None and wanted != self._auto_key:
            self._auto_key = wanted
            await self.attach(*wanted)

    async def _recover_orphans(self, services: DataServices) -> None:
        config = self.env.config
        global_notes = {d.name for d in config.hosted_controls if d.type == NOTES.name and d.is_global}
        orphans = orphaned(services.drafts.pending("notes:"), self.env.dispatcher.sessions,
                           global_notes, self.key)
        if not orphans:
            return
        saved, unattached = await recover_orphans(services, orphans, self._author())
        self.recovered.extend(saved)
        for draft in unattached:  # nowhere to save it: into this editor, after what is there
            text = str(draft.payload.get("text") or "")
            self._replace_text(f"{self._text.rstrip()}\n\n{text}" if self._text.strip() else text)
            services.drafts.delete(draft.key)
            self.recovered.append(Recovered(draft.updated, text, "the editor"))
        self._refresh_ui()

    def _replace_text(self, text: str) -> None:
        """Set the note's text as if typed (drafted at once, saved after the delay)."""
        if self._editor is not None:
            self._set_editor_text(text)
        self._text = text
        self._edited()

    # ------------------------------------------------------------------ UII actions
    @uii_action("Attach")
    async def attach_action(self, data: ActionData, call: CallContext) -> str:
        entity = (data.take("LogicalName") or data.take("entity") or "").strip().lower()
        id = (data.take("id") or "").strip()
        if not entity or not id:
            raise ActionError(f"Attach needs LogicalName=<{'|'.join(NOTE_KEYS)}> and id=<record id>")
        attachment = await self.attach(entity, id)
        return attachment.label

    @uii_action("AppendText")
    async def append_text(self, data: ActionData, call: CallContext) -> str:
        addition = data.remainder()
        if not addition.strip():
            return self._note_id if self._note_exists else ""
        separator = "" if not self._text or self._text.endswith("\n") else "\n"
        editor = self._editor
        if editor is not None:
            cursor = editor.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(separator + addition)  # through textChanged: drafted at once
            editor.setTextCursor(cursor)
        else:
            self._text = self._text + separator + addition
            self._edited()
        return await self.save()

    @uii_action("Save")
    async def save_action(self, data: ActionData, call: CallContext) -> str:
        if self.dirty and self._attachment is None:
            raise ActionError(f"{self.name}: the note is not attached to a record yet; Attach it first")
        return await self.save()

    @uii_action("New")
    async def new_action(self, data: ActionData, call: CallContext) -> str:
        return await self.new_note()

    @uii_action("UpdateReplacementParameters")
    def update_replacement_parameters(self, data: ActionData, call: CallContext) -> None:
        attachment = self._attachment
        self.publish({
            "text": self._text,
            "Id": self._note_id if self._note_exists else "",
            "LogicalName": attachment.entity if attachment else "",
            "AttachedId": attachment.id if attachment else "",
        })

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self.closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.cancel_tasks()
        if self.dirty and self._attachment is not None and self.services is not None:
            self._spawn_save()  # the last save outlives the session

        self._editor = None
        super().close()
