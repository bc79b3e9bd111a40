"""Context: the data parameters of the global session and of each customer session.

Each session owns a :class:`DataStore` of ``root -> {name -> value}``. Roots are entity logical names
(``account``), hosted-control names (``Account``), the system sections (``$Context``, ``$Session``,
``$Return``, ``cti``...) and, in the global session, the desktop-wide sections ``$Global`` (options),
``$Settings``, ``$User``, ``$Resources`` and ``$SystemParameters``.

Every write emits a :class:`ChangeSet` naming the keys that changed, so dependants (session lines,
toolbar conditions, ``ExecuteOnDataAvailable``) re-evaluate only when something they read changed.
:meth:`Sessions.data_for` gives the plain-dict view ``{"session", "global", "active", "event"}`` that
replacement, conditions, the debugger and the tests read.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from usd_desktop.core.signals import Signal

#: Sections that belong to the desktop, not to one session; lookups fall back to the global session.
DESKTOP_SECTIONS = ("$Global", "$Settings", "$User", "$Resources", "$SystemParameters")
#: The system sections every session has.
SYSTEM_SECTIONS = ("$Context", "$Session", "$Return", "cti", *DESKTOP_SECTIONS)

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Keys ``(root, name)`` written in one session in one step."""

    session_id: str
    keys: frozenset[Key]

    @property
    def roots(self) -> frozenset[str]:
        return frozenset(root for root, _ in self.keys)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class DataStore:
    """``root -> {name -> value}`` for one session. Values are strings, as in USD."""

    def __init__(self, session_id: str, changed: Signal[ChangeSet]) -> None:
        self.session_id = session_id
        self.data: dict[str, dict[str, str]] = {}
        self._changed = changed
        self._batch: builtins.set[Key] | None = None

    def get(self, root: str, name: str) -> str | None:
        section = self.data.get(root)
        return None if section is None else section.get(name)

    def section(self, root: str) -> Mapping[str, str]:
        return self.data.get(root, {})

    def set(self, root: str, name: str, value: Any) -> None:
        self.update(root, {name: value})

    def update(self, root: str, values: Mapping[str, Any]) -> None:
        """Write several names of one root; ``None`` removes a name."""
        section = self.data.setdefault(root, {})
        changed: builtins.set[Key] = set()
        for name, value in values.items():
            if value is None:
                if section.pop(name, None) is not None:
                    changed.add((root, name))
                continue
            text = _text(value)
            if section.get(name) != text:
                section[name] = text
                changed.add((root, name))
        self._notify(changed)

    def replace_root(self, root: str, values: Mapping[str, Any]) -> None:
        """Make ``root`` hold exactly ``values`` (the last loaded record of an entity, say)."""
        old = self.data.get(root, {})
        new = {name: _text(v) for name, v in values.items() if v is not None}
        self.data[root] = new
        changed = {(root, n) for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
        self._notify(changed)

    def remove_root(self, root: str) -> None:
        old = self.data.pop(root, None)
        if old:
            self._notify({(root, name) for name in old})

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Coalesce the writes inside into one change notification."""
        if self._batch is not None:
            yield
            return
        self._batch = set()
        try:
            yield
        finally:
            keys, self._batch = self._batch, None
            self._notify(keys)

    def _notify(self, keys: builtins.set[Key]) -> None:
        if not keys:
            return
        if self._batch is not None:
            self._batch.update(keys)
            return
        self._changed.emit(ChangeSet(self.session_id, frozenset(keys)))

    def snapshot(self) -> dict[str, dict[str, str]]:
        """A deep copy, safe to keep (for the debugger, tests, persistence)."""
        return {root: dict(names) for root, names in self.data.items()}


@dataclass(eq=False)
class Session:
    """The global session or one customer session.

    ``entity`` is the logical name the session is about (``account`` for a session a rule created
    from an account page); ``view`` is what the session lines give it (tab name and overview
    lines), kept current by the desktop.
    """

    id: str
    is_global: bool
    store: DataStore
    name: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    entity: str = ""
    view: Any = None  # usd_desktop.core.session_lines.SessionView once evaluated

    def __repr__(self) -> str:
        kind = "global" if self.is_global else "customer"
        return f"<Session {kind} {self.id[:8]} {self.name!r}>"


class Sessions:
    """The global session plus the customer sessions, and which one is active.

    Later issues build the tabs and their lifecycle on this model; here it keeps the data, the
    active session and the ``$Session`` section current.
    """

    def __init__(self) -> None:
        self.changed: Signal[ChangeSet] = Signal("context.changed")
        self.session_created: Signal[Session] = Signal("session.created")
        self.session_closed: Signal[Session] = Signal("session.closed")
        self.active_changed: Signal[Session] = Signal("session.active_changed")
        #: A session's name, entity or session-lines view changed.
        self.session_updated: Signal[Session] = Signal("session.updated")
        self._changes_by_session: dict[str, Signal[ChangeSet]] = {}
        self.changed.connect(self._forward_change)
        gid = uuid.uuid4().hex
        self.global_session = Session(gid, True, DataStore(gid, self.changed), name="Global")
        self._sessions: dict[str, Session] = {gid: self.global_session}
        self._active = self.global_session
        self._refresh_session_sections()

    # ------------------------------------------------------------------ queries
    @property
    def active(self) -> Session:
        return self._active

    @property
    def customer_sessions(self) -> list[Session]:
        return [s for s in self._sessions.values() if not s.is_global]

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def changes_for(self, session: Session) -> Signal[ChangeSet]:
        """The changes of one session only: what a session control listens to, so that a write
        in one of fifty sessions does not wake the controls of the other forty-nine."""
        signal = self._changes_by_session.get(session.id)
        if signal is None:
            signal = self._changes_by_session[session.id] = Signal(f"context.changed.{session.id[:8]}")
        return signal

    def _forward_change(self, change: ChangeSet) -> None:
        signal = self._changes_by_session.get(change.session_id)
        if signal is not None:
            signal.emit(change)

    def __iter__(self) -> Iterator[Session]:
        return iter(tuple(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    # ------------------------------------------------------------------ changes
    def create(
        self,
        name: str = "",
        *,
        activate: bool = True,
        session_id: str | None = None,
        entity: str = "",
        started: datetime | None = None,
    ) -> Session:
        """A new customer session; ``session_id`` and ``started`` are given when one is restored."""
        sid = session_id or uuid.uuid4().hex
        if sid in self._sessions:
            raise ValueError(f"a session with id {sid} already exists")
        session = Session(sid, False, DataStore(sid, self.changed), name=name, entity=entity)
        if started is not None:
            session.started = started
        self._sessions[sid] = session
        self.session_created.emit(session)
        if activate:
            self.activate(session)
        else:
            self._refresh_session_sections()
        return session

    def update(
        self, session: Session, *, name: str | None = None, entity: str | None = None, view: Any = None
    ) -> None:
        """Change a session's name, entity or view; ``session_updated`` tells who shows them."""
        changed = False
        if name is not None and name != session.name:
            session.name = name
            session.store.set("$Session", "Name", name)
            changed = True
        if entity is not None and entity != session.entity:
            session.entity = entity
            changed = True
        if view is not None and view != session.view:
            session.view = view
            changed = True
        if changed:
            self.session_updated.emit(session)

    def activate(self, session: Session) -> None:
        if session.id not in self._sessions:
            raise KeyError(f"no session {session.id}")
        if self._active is not session:
            self._active = session
            self._refresh_session_sections()
            self.active_changed.emit(session)

    def close(self, session: Session) -> None:
        if session.is_global:
            raise ValueError("the global session cannot be closed")
        if self._sessions.pop(session.id, None) is None:
            return
        self._changes_by_session.pop(session.id, None)
        if self._active is session:
            remaining = self.customer_sessions
            self._active = remaining[-1] if remaining else self.global_session
            self.active_changed.emit(self._active)
        self._refresh_session_sections()
        self.session_closed.emit(session)

    def _refresh_session_sections(self) -> None:
        count = len(self._sessions) - 1
        for session in self._sessions.values():
            session.store.update(
                "$Session",
                {
                    "Id": session.id,
                    "SessionId": session.id,
                    "IsGlobal": session.is_global,
                    "Global": self.global_session.id,
                    "ActiveSession": self._active.id,
                    "Count": count,
                    "StartTime": session.started.isoformat(timespec="seconds"),
                    "Name": session.name,
                    "Entity": session.entity,
                },
            )

    # ------------------------------------------------------------------ the data view
    def data_for(
        self, session: Session | None = None, event: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ``{"session", "global", "active", "event"}`` view replacement reads (live, no copy)."""
        current = session or self._active
        return {
            "session": current.store.data,
            "global": self.global_session.store.data,
            "active": self._active.store.data,
            "event": dict(event) if event else {},
        }
