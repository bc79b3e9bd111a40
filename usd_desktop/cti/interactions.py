"""The interaction record of each call, written as the call goes (Qt-free, asyncio).

:class:`InteractionRecorder` listens to a :class:`~usd_desktop.cti.manager.CtiManager` and keeps one
``interaction`` row per call up to date through :class:`~usd_desktop.data.services.DataServices`:

- **offered / dialing**: the row is created (channel from the activity, direction, address = the
  E.164 number else the raw one, queue, agent, ``offered_at``, subject ``Call from <number>`` /
  ``Call to <number>``; chats, e-mails, SMS and web contacts say ``Chat``, ``E-mail``, ``SMS``,
  ``Web contact``) and :attr:`Call.interaction_id` is set at once (the id is made here, so the
  desktop can refer to the row before it is written);
- **answered**: ``answered_at``; **held / retrieved**: ``hold_seconds``; **transferred**:
  ``transfers``; **ended**: ``ended_at``; **wrap-up completed**: ``wrap_up_ended_at`` and
  ``disposition``;
- the customer is linked when exactly one account or contact has the number
  (``find_customers_by_phone``), unless the agent linked one first with :meth:`link`.

Attached data keys that name a configured custom field of the ``interaction`` entity are written
to it (other keys stay on the call: the ``custom`` column only keeps configured fields).
Consultation calls get no row of their own: they are part of the original call.

**Order and failures.** The writes of a call run one after the other (each change is merged into
what is still waiting, so a burst of events makes one write). A failing write is reported on the
manager's :attr:`~usd_desktop.cti.manager.CtiManager.problem` and tried once more; what still
could not be written waits for the call's next change.

**Crash safety.** Before a change is written it is kept in the local drafts file
(:attr:`DataServices.drafts`, key ``interaction:<id>``, durable when the write returns; written by
the data services' worker thread, so the disk never stalls the event loop); the draft
is dropped once the call is gone and everything is written. :meth:`InteractionRecorder.recover`
writes what a previous run left behind (the desktop died mid-call, or the database was away). A
call that had not ended then will never be reported as ended (this run does not know it): its row
is closed at the last moment the previous run recorded the call (the draft's time, or the row's
latest time if later), a lower bound of its real end: ``ended_at`` and, for an answered call,
``wrap_up_ended_at`` (also for a call that died in wrap-up), with no disposition.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from usd_desktop.cti.calls import Call
from usd_desktop.cti.contract import CallId, CtiError, CtiEvent
from usd_desktop.cti.manager import CtiManager
from usd_desktop.data.errors import DataError
from usd_desktop.data.services import DataServices
from usd_desktop.data.values import coerce, to_utc

log = logging.getLogger(__name__)

ENTITY = "interaction"
DRAFT_PREFIX = "interaction:"
#: The record's channel for each CTI activity.
CHANNELS = {"phonecall": "phone", "chat": "chat", "email": "email", "sms": "sms", "web": "web"}
_NOUNS = {"phonecall": "Call", "chat": "Chat", "email": "E-mail", "sms": "SMS", "web": "Web contact"}
#: This process: a draft it wrote is never "left by a previous run" (several CTI managers of one
#: desktop share the drafts file; each recovers only what a process that is gone left).
RUN = uuid.uuid4().hex
#: Finished calls remembered for a late :meth:`InteractionRecorder.link`.
FINISHED_KEPT = 200


@dataclass
class _Record:
    call: CallId
    id: str
    known: dict[str, Any] = field(default_factory=dict)  # the row as it should be
    dirty: dict[str, Any] = field(default_factory=dict)  # changes not written yet
    created: bool = False
    linked: bool = False  # a customer was linked (by the agent or the lookup)
    looked_up: bool = False
    done: bool = False  # the call is gone
    draft_stale: bool = False  # ``known`` changed since the draft was last kept
    task: asyncio.Task[None] | None = None


class InteractionRecorder:
    """Writes the interaction row of each call of ``manager`` (see the module documentation)."""

    def __init__(
        self,
        manager: CtiManager,
        services: DataServices,
        *,
        agent: str = "",
        retry_delay: float = 0.5,
    ) -> None:
        self.manager = manager
        self.services = services
        self.agent = agent
        self.retry_delay = retry_delay
        self._records: dict[CallId, _Record] = {}
        self._finished: dict[CallId, str] = {}
        self._disposers: list[Callable[[], None]] = [
            manager.call_event.connect(self._on_event),
            manager.call_removed.connect(self._on_removed),
        ]

    # ------------------------------------------------------------------ public
    def interaction_id(self, call: CallId) -> str | None:
        record = self._records.get(call)
        return record.id if record is not None else self._finished.get(call)

    def link(self, call: CallId, *, contact_id: str | None = None, case_id: str | None = None,
             account_id: str | None = None) -> None:
        """Link the call's interaction to the customer (and case) the agent picked (queued write)."""
        values = {k: v for k, v in (("contact_id", contact_id), ("account_id", account_id),
                                    ("case_id", case_id)) if v is not None}
        if not values:
            return
        record = self._records.get(call)
        if record is None:
            interaction = self._finished.get(call)
            if interaction is None:
                raise CtiError(f"interaction record: there is no call {call!r} to link")
            record = _Record(call, interaction, created=True, linked=True, looked_up=True, done=True)
            self._records[call] = record
        if "contact_id" in values or "account_id" in values:
            record.linked = True
        self._merge(record, values)

    async def flush(self) -> None:
        """Wait until every write queued so far has been tried."""
        while True:
            tasks = [r.task for r in self._records.values() if r.task is not None]
            if not tasks:
                return
            await asyncio.wait(tasks)

    async def recover(self) -> int:
        """Write the rows a previous run left in the drafts file; returns how many were written."""
        written = 0
        mine = {r.id for r in self._records.values()}
        try:
            drafts = self.services.drafts.pending(DRAFT_PREFIX)
        except DataError as exc:
            self._problem(f"interaction records left by the last run cannot be read: {exc}")
            return 0
        for draft in drafts:
            interaction = str(draft.payload.get("id") or draft.key[len(DRAFT_PREFIX):])
            if interaction in mine or draft.payload.get("run") == RUN:
                continue
            values = dict(draft.payload.get("values") or {})
            values.pop("id", None)
            values.update(_closing(values, draft.updated))
            try:
                if await self.services.get(ENTITY, interaction) is None:
                    await self.services.create(ENTITY, {"id": interaction, **values})
                elif values:
                    await self.services.update(ENTITY, interaction, values)
                await self.services.call(self.services.drafts.delete, draft.key)
                written += 1
            except Exception as exc:
                self._problem(f"the interaction record {interaction} left by the last run "
                              f"cannot be written: {exc}")
        return written

    async def close(self) -> None:
        """Stop listening and wait for the writes under way."""
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        await self.flush()

    # ------------------------------------------------------------------ listening
    def _on_event(self, payload: tuple[CtiEvent, Call]) -> None:
        _event, call = payload
        record = self._records.get(call.id)
        if record is None:
            if call.consultation_of is not None:
                return
            record = _Record(call.id, call.interaction_id or str(uuid.uuid4()))
            self._records[call.id] = record
        if call.interaction_id != record.id:
            call.interaction_id = record.id
        self._merge(record, self._values(call))

    def _on_removed(self, call: Call) -> None:
        record = self._records.get(call.id)
        if record is None:
            return
        record.done = True
        self._merge(record, self._values(call), force=True)

    # ------------------------------------------------------------------ values
    def _values(self, call: Call) -> dict[str, Any]:
        number = call.number_e164 or call.number
        noun = _NOUNS.get(call.activity, "Call")
        shown = number or "an unknown number"
        subject = f"{noun} to {shown}" if call.direction == "outbound" else f"{noun} from {shown}"
        values: dict[str, Any] = {
            "channel": CHANNELS.get(call.activity, "phone"),
            "direction": call.direction,
            "subject": subject[:300],
            "queue": call.queue[:100] or None,
            "agent": (self.agent or self.manager.agent)[:100] or None,
            "address": number[:320] or None,
            "offered_at": call.offered_at,
            "answered_at": call.answered_at,
            "ended_at": call.ended_at,
            "wrap_up_ended_at": call.wrap_up_ended_at,
            "hold_seconds": round(call.hold_seconds),
            "transfers": call.transfers,
            "disposition": call.disposition[:100] or None,
            "end_cause": call.cause[:40] or None,
        }
        values.update(self._custom(call.data))
        return values

    def _custom(self, data: Mapping[str, str]) -> dict[str, Any]:
        """Attached data that names a configured custom field of the interaction, typed."""
        meta = self.services.entities.get(ENTITY)
        if meta is None or not data:
            return {}
        out: dict[str, Any] = {}
        for key, value in data.items():
            fmeta = meta.fields.get(key)
            if fmeta is None or not fmeta.custom:
                continue
            try:
                out[key] = coerce(meta, fmeta, value)
            except (DataError, ValueError, TypeError) as exc:
                log.info("attached data %s not written to the interaction: %s", key, exc)
        return out

    # ------------------------------------------------------------------ writing
    def _merge(self, record: _Record, values: Mapping[str, Any], *, force: bool = False) -> None:
        changes = {k: v for k, v in values.items() if k not in record.known or record.known[k] != v}
        if not changes and not force:
            return
        record.known.update(changes)
        record.dirty.update(changes)
        record.draft_stale = True
        if record.task is None:
            try:
                record.task = asyncio.get_running_loop().create_task(self._work(record))
            except RuntimeError:  # no loop: written with the next change made on one
                log.warning("interaction record of call %s: no event loop to write it", record.call)

    async def _work(self, record: _Record) -> None:
        try:
            while record.dirty or not record.created or record.draft_stale:
                if record.draft_stale:  # kept first: it holds the change while the row is written
                    record.draft_stale = False
                    await self._keep_draft(record)
                values, record.dirty = record.dirty, {}
                if (values or not record.created) and not await self._write(record, values):
                    record.dirty = {**values, **record.dirty}
                    break
                if not record.looked_up:
                    record.looked_up = True
                    await self._look_up(record)
            if record.done:
                await self._forget(record)
        finally:
            record.task = None

    async def _write(self, record: _Record, values: dict[str, Any]) -> bool:
        for attempt in (1, 2):
            creating = not record.created
            try:
                if creating and attempt == 2 and await self.services.get(ENTITY, record.id) is not None:
                    record.created, creating = True, False  # the first try got through after all
                    values = dict(record.known)
                if creating:
                    new_id = await self.services.create(ENTITY, {"id": record.id, **record.known})
                    record.created = True
                    if new_id != record.id:  # a repository that makes its own ids
                        await self._renamed(record, new_id)
                elif values:
                    await self.services.update(ENTITY, record.id, values)
                return True  # the draft (kept by _merge) already holds these values
            except Exception as exc:
                what = "create" if creating else "update"
                then = "; trying again" if attempt == 1 else "; it is kept and written with the next change"
                self._problem(f"the interaction record of call {record.call} could not be saved "
                              f"({what}): {exc}{then}")
                if attempt == 1:
                    await asyncio.sleep(self.retry_delay)
        return False

    async def _look_up(self, record: _Record) -> None:
        """Link the only customer with the call's number (unless one is linked already)."""
        call = self.manager.calls.get(record.call)
        # the call may be gone already (a short call whose first write was slow): its number is
        # in the row's address
        if call is not None:
            number = call.number_e164 or call.number
        else:
            number = str(record.known.get("address") or "")
        if record.linked or not number:
            return
        try:
            matches = await self.services.find_customers_by_phone(number)
        except Exception as exc:
            log.warning("caller lookup for call %s failed: %s", record.call, exc)
            return
        if len(matches) != 1 or record.linked:
            return
        match = matches[0]
        key = "contact_id" if match.entity == "contact" else "account_id"
        record.linked = True
        changes = {key: match.id}
        record.known.update(changes)
        record.dirty.update(changes)
        record.draft_stale = True

    async def _renamed(self, record: _Record, new_id: str) -> None:
        old_key = DRAFT_PREFIX + record.id
        record.id = new_id
        call = self.manager.calls.get(record.call)
        if call is not None:
            call.interaction_id = new_id
            self.manager.call_changed.emit(call)
        try:
            await self.services.call(self.services.drafts.delete, old_key)
        except Exception as exc:
            log.warning("drafts: %s", exc)

    async def _forget(self, record: _Record) -> None:
        if record.dirty:
            self._records.pop(record.call, None)  # the draft keeps it for recover()
            return
        try:
            await self.services.call(self.services.drafts.delete, DRAFT_PREFIX + record.id)
        except Exception as exc:
            log.warning("drafts: %s", exc)
        self._records.pop(record.call, None)
        self._finished[record.call] = record.id
        while len(self._finished) > FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]

    async def _keep_draft(self, record: _Record) -> None:
        """The row as it should be, in the drafts file (written by the data services' thread: a
        durable write never stalls the event loop)."""
        payload = {
            "id": record.id,
            "call": record.call,
            "run": RUN,
            "created": record.created,
            "values": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in record.known.items()},
        }
        try:
            await self.services.call(self.services.drafts.put, DRAFT_PREFIX + record.id, payload)
        except Exception as exc:
            log.warning("the interaction draft of call %s could not be kept: %s", record.call, exc)

    def _problem(self, text: str) -> None:
        log.warning("%s", text)
        self.manager.problem.emit(text)


def _closing(values: Mapping[str, Any], updated: float) -> dict[str, Any]:
    """The end of a row left open by a run that is gone (see the module documentation)."""
    if not values.get("offered_at"):
        return {}
    closed: dict[str, Any] = {}
    times = [datetime.fromtimestamp(updated, UTC)]
    for key in ("offered_at", "answered_at", "ended_at"):
        value = values.get(key)
        try:
            if value:  # written as ISO text in the draft
                times.append(to_utc(datetime.fromisoformat(value) if isinstance(value, str) else value))
        except (TypeError, ValueError, AttributeError):
            continue
    last = max(times).isoformat()
    if not values.get("ended_at"):
        closed["ended_at"] = last
    if values.get("answered_at") and not values.get("wrap_up_ended_at"):
        closed["wrap_up_ended_at"] = last
    return closed


__all__ = ["CHANNELS", "ENTITY", "InteractionRecorder"]
