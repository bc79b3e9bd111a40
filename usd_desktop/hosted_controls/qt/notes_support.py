"""What the Notes control needs besides its widget: attachments, searches, drafts and recovery.

Kept apart from :mod:`.notes` so the control reads as behaviour; nothing here touches a widget.

* :class:`Attachment`: the record a note is on (``case``, ``contact``, ``account``,
  ``interaction``), its label ("case CAS-… · Billing question", "Maria Popescu") and the note
  fields that link to it. A note on a case or an interaction also carries the case's customer, so
  the customer's timeline shows it.
* :func:`previous_notes_search`: the notes of a record, newest first, as a declarative search.
* :func:`recover_orphans`: drafts that a crashed process left behind (their session ids no longer
  exist) saved to their records, so nothing typed is lost.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter, SortKey
from usd_desktop.core.context import Sessions
from usd_desktop.core.errors import ActionError
from usd_desktop.data.drafts import Draft
from usd_desktop.data.errors import DataError
from usd_desktop.data.services import DataServices

log = logging.getLogger(__name__)

#: The entities a note can be on, and the note field that points at each.
NOTE_KEYS = {
    "case": "case_id",
    "contact": "contact_id",
    "account": "account_id",
    "interaction": "interaction_id",
}
#: How many earlier notes of a record are shown.
PREVIOUS_LIMIT = 50
#: The longest subject kept (the first line of the note, cut).
SUBJECT_LENGTH = 120
DRAFT_PREFIX = "notes:"


def new_note_id() -> str:
    return str(uuid.uuid4())


def draft_key(session_id: str | None, control: str) -> str:
    """``notes:<session id or 'global'>:<control name>``."""
    return f"{DRAFT_PREFIX}{session_id or 'global'}:{control}"


def split_draft_key(key: str) -> tuple[str, str] | None:
    """``(session id or 'global', control name)`` of a notes draft key, else ``None``."""
    if not key.startswith(DRAFT_PREFIX):
        return None
    session, sep, control = key[len(DRAFT_PREFIX):].partition(":")
    return (session, control) if sep else None


def subject_of(text: str) -> str:
    """The note's subject: its first non-blank line, cut to :data:`SUBJECT_LENGTH` characters."""
    for raw in text.splitlines():
        line = raw.strip()
        if line:
            return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"
    return ""


def local_time(value: Any, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored datetime (UTC) or epoch seconds in the agent's local time."""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value).astimezone()
    if isinstance(value, datetime):
        return value.astimezone().strftime(fmt)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Attachment:
    """The record a note is on."""

    entity: str
    id: str
    label: str = ""
    #: The note's link fields (``case_id``, and the case's ``contact_id``/``account_id``).
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity, self.id)

    @property
    def caption(self) -> str:
        """"Note on case CAS-… · title" / "Note on Maria Popescu"."""
        return f"Note on {self.label or self.entity + ' ' + self.id}"

    def as_payload(self) -> dict[str, Any]:
        return {"entity": self.entity, "id": self.id, "label": self.label, "fields": dict(self.fields)}

    @classmethod
    def from_payload(cls, payload: Any) -> Attachment | None:
        if not isinstance(payload, Mapping) or not payload.get("entity") or not payload.get("id"):
            return None
        fields = payload.get("fields")
        return cls(
            str(payload["entity"]),
            str(payload["id"]),
            str(payload.get("label") or ""),
            {str(k): str(v) for k, v in fields.items() if v} if isinstance(fields, Mapping) else {},
        )


def label_of(entity: str, record: Mapping[str, Any]) -> str:
    """How the agent recognises ``record``: a case by its number and title, a person by name."""
    if entity == "case":
        number = record.get("case_number") or ""
        title = record.get("title") or ""
        return f"case {number}" + (f" · {title}" if title else "")
    if entity == "contact":
        return str(record.get("full_name") or record.get("last_name") or "contact")
    if entity == "account":
        return str(record.get("name") or "account")
    subject = record.get("subject") or local_time(record.get("offered_at"))
    return f"{record.get('channel') or ''} interaction {subject}".strip()


def link_fields(entity: str, id: str, record: Mapping[str, Any]) -> dict[str, str]:
    """The note fields for a note on ``record`` (a case's note carries the case's customer too)."""
    fields = {NOTE_KEYS[entity]: id}
    if entity in ("case", "interaction"):
        for name in ("contact_id", "account_id") + (("case_id",) if entity == "interaction" else ()):
            value = record.get(name)
            if value:
                fields[name] = str(value)
    return fields


async def resolve_attachment(services: DataServices, entity: str, id: str) -> Attachment:
    """The :class:`Attachment` for ``entity``/``id``; :class:`ActionError` when there is no such record."""
    entity = entity.strip().lower()
    if entity not in NOTE_KEYS:
        raise ActionError(f"a note can be on a {', '.join(NOTE_KEYS)}; not on {entity!r}")
    try:
        record = await services.get(entity, id)
    except DataError as exc:
        raise ActionError(f"cannot read the {entity} {id}: {exc}") from None
    if record is None:
        raise ActionError(f"there is no {entity} record {id!r} to attach the note to")
    return Attachment(entity, id, label_of(entity, record), link_fields(entity, id, record))


def previous_notes_search(attachment: Attachment) -> EntitySearch:
    """The notes on ``attachment``'s record, newest first."""
    return EntitySearch(
        name="notes of the attached record",
        entity="note",
        filters=[SearchFilter(field=NOTE_KEYS[attachment.entity], operator="eq", value=attachment.id)],
        order_by=[SortKey(field="created_at", descending=True)],
        columns=["subject", "body", "author", "created_at", "updated_at"],
        max_count=PREVIOUS_LIMIT,
    )


def previous_notes_html(notes: list[Mapping[str, Any]], *, loading: bool = False) -> str:
    """The earlier notes as cards: author and time over the subject and the start of the text."""
    if loading:
        return "<p style='color:#777'>Loading earlier notes…</p>"
    if not notes:
        return "<p style='color:#777'>No earlier notes.</p>"
    parts = []
    for note in notes:
        body = str(note.get("body") or "")
        subject = str(note.get("subject") or subject_of(body))
        rest = body.strip()
        if rest.startswith(subject.rstrip("…")):
            rest = rest[len(subject.rstrip("…")):].lstrip(" \n.,:;!?-—")
        rest = rest if len(rest) <= 400 else rest[:399] + "…"
        meta = " · ".join(p for p in (str(note.get("author") or ""), local_time(note.get("created_at"))) if p)
        parts.append(
            "<div style='margin-bottom:10px'>"
            f"<div style='color:#666; font-size:small'>{html.escape(meta)}</div>"
            f"<div><b>{html.escape(subject) or '(empty note)'}</b></div>"
            + (f"<div style='white-space:pre-wrap'>{html.escape(rest)}</div>" if rest else "")
            + "</div>"
        )
    return "".join(parts)


# ----------------------------------------------------------------------------------- recovery
@dataclass
class Recovered:
    """A draft found again: when it was last typed and where it went."""

    updated: float
    text: str
    where: str  # "the editor", or the record's label it was saved to


async def save_note(
    services: DataServices,
    note_id: str,
    attachment: Attachment,
    text: str,
    author: str,
    *,
    exists: bool | None,
    session: Any = None,
) -> bool:
    """Create the note (with ``note_id``) or update it; ``exists=None``: look first. Returns ``True``."""
    if exists is None:
        exists = await services.get("note", note_id) is not None
    if exists:
        await services.update("note", note_id, {"subject": subject_of(text), "body": text}, session=session)
    else:
        values: dict[str, Any] = {"id": note_id, **attachment.fields, "subject": subject_of(text),
                                  "body": text, "author": author or None}
        await services.create("note", values, session=session)
    return True


def orphaned(drafts: list[Draft], sessions: Sessions, global_controls: set[str], own_key: str) -> list[Draft]:
    """The notes drafts no running session or global Notes control owns (a crashed process's)."""
    found = []
    for draft in drafts:
        parts = split_draft_key(draft.key)
        if parts is None or draft.key == own_key:
            continue
        session_id, control = parts
        if session_id == "global":
            if control in global_controls:
                continue  # that global Notes control restores it itself
        elif sessions.get(session_id) is not None:
            continue
        found.append(draft)
    return found


async def recover_orphans(services: DataServices, orphans: list[Draft], author: str) -> tuple[
    list[Recovered], list[Draft]
]:
    """Save each orphan with an attachment to its record and delete its draft.

    Returns what was saved and the drafts that have no record to go to (for the editor).
    """
    saved: list[Recovered] = []
    unattached: list[Draft] = []
    for draft in orphans:
        payload = draft.payload
        text = str(payload.get("text") or "")
        if not text.strip():
            services.drafts.delete(draft.key)
            continue
        attachment = Attachment.from_payload(payload.get("attachment"))
        if attachment is None or not attachment.fields:
            unattached.append(draft)
            continue
        note_id = str(payload.get("note_id") or new_note_id())
        try:
            await save_note(services, note_id, attachment, text, str(payload.get("author") or author),
                            exists=None)
        except DataError as exc:  # the record is gone or the database refuses: keep the draft
            log.error("a recovered note for %s could not be saved: %s", attachment.label, exc)
            continue
        services.drafts.delete(draft.key)
        saved.append(Recovered(draft.updated, text, attachment.label or attachment.entity))
    return saved, unattached
