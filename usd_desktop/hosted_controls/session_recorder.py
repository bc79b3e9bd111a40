"""Customer sessions that survive a crash: the recorder writes them to the journal, restore brings them back.

:class:`SessionRecorder` listens to the desktop and marks a customer session *dirty* whenever
something the journal keeps of it changes: it was created, renamed or activated, its data
parameters were written, one of its session controls opened, closed or moved to another page or
record. The first mark in a turn of the event loop schedules one :meth:`SessionRecorder.flush`
(``loop.call_soon``), so a burst of changes is one transaction, on disk before the loop handles the
next input event. A closed session is removed from the journal at once.

:func:`restore_sessions` is the other half: after a crash it recreates each journaled session
with its original id (so what is keyed by it, the notes drafts, still matches), name, entity and
start time, its data parameters and its controls in order with their state, and makes the session
that was active active again. One session that cannot be restored never stops the others.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from usd_desktop.core.context import DESKTOP_SECTIONS, ChangeSet, Session
from usd_desktop.core.session_journal import (
    JournaledControl,
    JournaledSession,
    SessionJournal,
)
from usd_desktop.core.soon import SoonOnce
from usd_desktop.core.trace import Outcome, TraceRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from usd_desktop.hosted_controls.base import HostedControl
    from usd_desktop.hosted_controls.desktop import Desktop

log = logging.getLogger(__name__)

#: Roots of a session's store the journal does not keep: recomputed, or the desktop's own.
NOT_JOURNALED = frozenset({"$Session", *DESKTOP_SECTIONS})


class SessionRecorder:
    """Keeps the journal in step with the desktop's customer sessions."""

    def __init__(self, desktop: Desktop, journal: SessionJournal) -> None:
        self.desktop = desktop
        self.journal = journal
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._active_dirty = False
        # a burst of changes is one write, once per loop turn, made by a writer thread so the
        # disk's latency (each write is a durable transaction) never stalls the event loop
        self._soon = SoonOnce(self._flush_soon)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-journal")
        # Creation order, kept as a number that only grows: positions never invert when an
        # earlier session closes and a later one is written again.
        self._counter = itertools.count()
        self._positions: dict[str, int] = {}
        sessions = desktop.sessions
        self._disposers: list[Callable[[], None]] = [
            sessions.session_created.connect(self._on_session_created),
            sessions.session_closed.connect(self._on_session_closed),
            sessions.session_updated.connect(self._on_session),
            sessions.active_changed.connect(self._on_active_changed),
            sessions.changed.connect(self._on_context_changed),
            desktop.control_created.connect(self._on_control),
            desktop.control_closed.connect(self._on_control),
            desktop.control_state_changed.connect(self._on_control),
        ]
        for session in sessions.customer_sessions:  # opened before the recorder: journal them too
            self._on_session_created(session)

    # ------------------------------------------------------------------ marking dirty
    def _on_session_created(self, session: Session) -> None:
        if session.is_global:
            return
        self._positions.setdefault(session.id, next(self._counter))
        self._mark(session.id)

    def _on_session(self, session: Session) -> None:
        if not session.is_global:
            self._mark(session.id)

    def _on_active_changed(self, session: Session) -> None:
        with self._lock:
            self._active_dirty = True
        self._on_session(session)  # the global session: nothing to write but the active id
        self._schedule()

    def _on_context_changed(self, change: ChangeSet) -> None:
        if change.session_id == self.desktop.sessions.global_session.id:
            return
        if change.roots <= NOT_JOURNALED:
            return
        self._mark(change.session_id)

    def _on_control(self, control: HostedControl) -> None:
        if not control.session.is_global:
            self._mark(control.session.id)

    def _mark(self, session_id: str) -> None:
        session = self.desktop.sessions.get(session_id)
        if session is None or session.is_global:  # closed already (its controls close after it)
            return
        with self._lock:
            self._dirty.add(session_id)
        self._schedule()

    def _schedule(self) -> None:
        if self._disposers == []:  # closed
            return
        self._soon.request()

    # ------------------------------------------------------------------ writing
    def flush(self, *, wait: bool = True) -> None:
        """Write every dirty session (and the active session's id), in one transaction.

        The sessions are read now, on the caller's thread; the writer thread writes them, in the
        order asked. ``wait``: return once it is on disk (and every earlier write too).
        """
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            active_dirty, self._active_dirty = self._active_dirty, False
        sessions = self.desktop.sessions
        live = [s for s in sessions.customer_sessions if s.id in dirty]
        if live or active_dirty:
            rows = [self._journaled(session) for session in live]
            active = sessions.active
            self._submit(self._write, rows, None if active.is_global else active.id, active_dirty)
        if wait:
            self.drain()

    def _flush_soon(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script, a thread): each change is written at once
            self.flush(wait=True)
            return
        self.flush(wait=False)

    def drain(self) -> None:
        """Return once every write asked for so far is on disk."""
        self._submit(lambda: None).result()

    def _submit(self, work: Callable[..., object], *args: Any) -> Future[object]:
        try:
            return self._writer.submit(work, *args)
        except RuntimeError:  # closed: write on this thread
            done: Future[object] = Future()
            done.set_result(work(*args))
            return done

    def _write(self, rows: list[JournaledSession], active: str | None, active_dirty: bool) -> None:
        try:
            self.journal.write(rows, active)
        except Exception:
            log.exception("the session journal could not be written; it is retried on the next change")
            with self._lock:
                self._dirty.update(row.id for row in rows)
                self._active_dirty = self._active_dirty or active_dirty

    def _journaled(self, session: Session) -> JournaledSession:
        controls = []
        for index, control in enumerate(self.desktop.session_controls(session)):
            try:
                state = control.session_state()
            except Exception:
                log.exception("%s: its session state could not be read; journaled without it",
                              control.name)
                state = None
            controls.append(JournaledControl(control.name, None if state is None else dict(state), index))
        position = self._positions.get(session.id)
        if position is None:
            position = self._positions[session.id] = next(self._counter)
        return JournaledSession(
            id=session.id,
            name=session.name,
            entity=session.entity,
            started=session.started.isoformat(),
            position=position,
            active=session is self.desktop.sessions.active,
            context={root: dict(names) for root, names in session.store.snapshot().items()
                     if root not in NOT_JOURNALED},
            controls=controls,
        )

    def prune(self) -> None:
        """Write what is pending, then drop the journaled sessions that are not open.

        Call it after :func:`restore_sessions` (or after the agent declined to restore): a session
        that could not come back, or was not wanted, is otherwise offered again after the next crash.
        """
        self.flush(wait=True)
        live = {s.id for s in self.desktop.sessions.customer_sessions}
        for journaled in self.journal.pending():
            if journaled.id not in live:
                self.journal.remove(journaled.id)

    # ------------------------------------------------------------------ closing
    def _on_session_closed(self, session: Session) -> None:
        with self._lock:
            self._dirty.discard(session.id)
        self._positions.pop(session.id, None)
        self._submit(self._remove, session.id)

    def _remove(self, session_id: str) -> None:
        try:
            self.journal.remove(session_id)
        except Exception:
            log.exception("session %s could not be removed from the session journal", session_id)

    def close(self, *, clean: bool) -> None:
        """Stop recording. ``clean``: the desktop closed normally, so the journal is cleared;
        otherwise what is pending is written and the journal left for the next start."""
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        self._soon.cancel()
        if clean:
            with self._lock:
                self._dirty.clear()
                self._active_dirty = False
            self._submit(self.journal.clear)
        else:
            self.flush(wait=False)
        self._writer.shutdown(wait=True)  # every write asked for is on disk


# ---------------------------------------------------------------------- restoring
async def restore_sessions(desktop: Desktop, sessions: Sequence[JournaledSession]) -> list[str]:
    """Bring back the journaled ``sessions``; returns the problems met, each naming its session.

    ``desktop.restoring`` is true for the whole restore (no ``SessionNew`` action calls run for
    them). A session or control that cannot come back is reported and the others are restored.
    """
    problems: list[str] = []
    active: Session | None = None
    desktop.restoring = True
    try:
        # Every session exists before any control is created: a control that looks for work a
        # crashed run left behind (orphaned notes drafts) must see all of them as open again.
        created: list[tuple[JournaledSession, Session]] = []
        for journaled in sorted(sessions, key=lambda s: s.position):
            try:
                session = _recreate(desktop, journaled, problems)
            except Exception as exc:
                log.exception("restoring session %s failed", journaled.id)
                problems.append(f"session {_label(journaled)}: could not be restored: "
                                f"{type(exc).__name__}: {exc}")
                continue
            if session is not None:
                created.append((journaled, session))
                if journaled.active:
                    active = session
        for journaled, session in created:
            try:
                _restore_controls(desktop, journaled, session, problems)
            except Exception as exc:
                log.exception("restoring the controls of session %s failed", journaled.id)
                problems.append(f"session {_label(journaled)}: its controls could not be restored: "
                                f"{type(exc).__name__}: {exc}")
            _trace(desktop, journaled, session)
        if active is not None:
            try:
                await desktop.switch_session(active)
            except Exception as exc:
                log.exception("activating restored session %s failed", active.id)
                problems.append(f"session {active.name or active.id}: could not be made active again: "
                                f"{type(exc).__name__}: {exc}")
    finally:
        desktop.restoring = False
    for problem in problems:
        log.warning("session restore: %s", problem)
    return problems


def _recreate(desktop: Desktop, journaled: JournaledSession, problems: list[str]) -> Session | None:
    label = _label(journaled)
    if desktop.sessions.get(journaled.id) is not None:
        problems.append(f"session {label}: is open already; not restored again")
        return None
    started: datetime | None = None
    try:
        started = datetime.fromisoformat(journaled.started)
    except ValueError:
        problems.append(f"session {label}: its start time {journaled.started!r} is not a time; "
                        "it starts now")
    session = desktop.sessions.create(
        journaled.name, activate=False, session_id=journaled.id, entity=journaled.entity,
        started=started,
    )
    store = session.store
    with store.batch():
        for root, values in journaled.context.items():
            if root not in NOT_JOURNALED:
                store.replace_root(root, values)
    return session


def _restore_controls(
    desktop: Desktop, journaled: JournaledSession, session: Session, problems: list[str]
) -> None:
    label = _label(journaled)
    for control in sorted(journaled.controls, key=lambda c: c.position):
        where = f"session {label}: control {control.name!r}"
        definition = desktop.definition(control.name)
        if definition is None:
            problems.append(f"{where} is no longer in the configuration; the session is restored "
                            "without it")
            continue
        if definition.is_global:
            problems.append(f"{where} is now a global control; its session state is not restored")
            continue
        try:
            instance = desktop.resolve(control.name, session)
        except Exception as exc:
            problems.append(f"{where} could not be created: {exc}")
            continue
        if control.state is None:
            continue
        try:
            instance.restore_session_state(control.state)
        except Exception as exc:
            log.exception("%s: restoring its state failed", where)
            problems.append(f"{where}: its state could not be restored: {type(exc).__name__}: {exc}")


def _trace(desktop: Desktop, journaled: JournaledSession, session: Session) -> None:
    """One trace record per restored session: what came back (the debugger and the tests read it)."""
    journal = desktop.dispatcher.journal
    controls = [c.name for c in desktop.session_controls(session)]
    journal.record(TraceRecord(
        seq=journal.next_seq(), kind="session", name="SessionRestored", outcome=Outcome.RAN,
        session_id=session.id, reason=f"{len(controls)} control(s) back",
        parameters={"SessionId": session.id, "Name": session.name, "Entity": session.entity,
                    "Controls": ", ".join(controls)},
        data=json.dumps({"context": session.store.snapshot(),
                         "states": {c.name: c.session_state() for c in desktop.session_controls(session)}},
                        ensure_ascii=False, default=str),
    ))


def _label(journaled: JournaledSession) -> str:
    return f"{journaled.name!r} ({journaled.id[:8]})" if journaled.name else journaled.id
