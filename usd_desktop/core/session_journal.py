"""The session journal: every open customer session, on disk as it changes, so a crash loses none.

Each open customer session is kept as one row: its id, name, entity and start time, its data
parameters (the roots of its store, without ``$Session`` and the desktop-wide sections), and its
open session controls in order, each with the state it needs to come back as it was (the page, the
record, the agent-script position). Which session was active is kept beside them.

The durability is the drafts store's (:mod:`usd_desktop.data.drafts`): SQLite in WAL mode with
``synchronous=FULL`` and one short transaction per :meth:`SessionJournal.write`, so when the call
returns the rows survive the process being killed and the machine losing power. A normal close
:meth:`~SessionJournal.clear` s the journal; whatever :meth:`~SessionJournal.pending` finds at the
next start is what a crashed run left.

A journal that cannot be read (a corrupt file, or one written by a newer version) never stops the
desktop: the file is moved aside as ``<name>.corrupt-<timestamp>``, an error naming it is logged,
and a fresh journal starts empty.

The file is per user and local (``<user data dir>/sessions.<user>.db``) and readable by that user
only: it holds customer data.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usd_desktop.core.errors import UsdError
from usd_desktop.core.paths import user_data_dir

log = logging.getLogger(__name__)

#: The schema this code writes (``PRAGMA user_version``); a file with a higher one is set aside.
SCHEMA_VERSION = 1

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        entity TEXT NOT NULL,
        started TEXT NOT NULL,
        context TEXT NOT NULL,
        controls TEXT NOT NULL,
        updated REAL NOT NULL
    )
    """,
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
)

_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class SessionJournalError(UsdError):
    """The journal file cannot be opened or written at all (not a corrupt file: a path, a disk)."""


class _Corrupt(Exception):
    """The file is not a journal this version can read; it is set aside."""


@dataclass
class JournaledControl:
    """An open session control: its configured name, the state it restores, its place in order."""

    name: str
    state: dict[str, Any] | None
    position: int


@dataclass
class JournaledSession:
    """One customer session as the journal keeps it."""

    id: str
    name: str
    entity: str
    started: str  # ISO 8601, with its offset
    position: int
    active: bool
    #: The session store's roots, without ``$Session`` and the desktop-wide sections.
    context: dict[str, dict[str, str]] = field(default_factory=dict)
    controls: list[JournaledControl] = field(default_factory=list)


def default_journal_path(user: str) -> Path:
    """``<user data dir>/sessions.<user>.db``, the user's name made safe for a file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user) or "user"
    return user_data_dir() / f"sessions.{safe}.db"


class SessionJournal:
    """The open customer sessions in a local SQLite file; safe to use from several threads."""

    def __init__(self, path: Path | str) -> None:
        self._memory = str(path) == ":memory:"
        self.path = Path(path)
        self._lock = threading.Lock()
        #: What went wrong with the file found at start, if anything (for the status bar, the log).
        self.problem: str | None = None
        try:
            self._conn = self._open()
        except _Corrupt as exc:
            self._set_aside(str(exc))
            try:
                self._conn = self._open()
            except _Corrupt as again:  # a fresh file that is unreadable: the disk, not the data
                raise SessionJournalError(
                    f"cannot start a fresh session journal {self.path}: {again}") from None

    # ------------------------------------------------------------------ opening
    def _open(self) -> sqlite3.Connection:
        """Connect, check the file is a journal of a schema we know, create the schema if new."""
        if not self._memory:
            self._create_private_file()
        try:
            conn = sqlite3.connect(str(self.path) if not self._memory else ":memory:",
                                   check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise SessionJournalError(f"cannot open the session journal {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")  # closed sessions' data does not linger in the file
            check = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            if check != ["ok"]:
                raise _Corrupt("integrity check failed: " + "; ".join(map(str, check[:3])))
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise _Corrupt(f"it was written by a newer version (schema {version}, "
                               f"this version reads up to {SCHEMA_VERSION})")
            if version < SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
        except _Corrupt:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            if _is_corruption(exc):
                raise _Corrupt(str(exc)) from None
            raise SessionJournalError(f"cannot open the session journal {self.path}: {exc}") from None
        return conn

    def _create_private_file(self) -> None:
        """Create the file readable by its user only (SQLite's -wal and -shm files take its mode)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                if os.name == "posix" and self.path.stat().st_mode & 0o077:
                    os.chmod(self.path, 0o600)
            else:
                os.close(fd)
        except OSError as exc:
            raise SessionJournalError(f"cannot create the session journal {self.path}: {exc}") from None

    def _set_aside(self, reason: str) -> None:
        """Move an unreadable journal (and its -wal/-shm files) aside; log an error naming it."""
        if self._memory:
            self.problem = f"the in-memory session journal could not be read ({reason})"
            log.error("%s", self.problem)
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    os.replace(source, Path(f"{target}{suffix}"))
        except OSError as exc:
            raise SessionJournalError(
                f"the session journal {self.path} cannot be read ({reason}) and could not be moved "
                f"aside: {exc}") from None
        self.problem = (f"the session journal {self.path} could not be read ({reason}); it was moved "
                        f"to {target} and the sessions in it are not restored")
        log.error("%s", self.problem)

    # ------------------------------------------------------------------ writing
    def write(self, sessions: Sequence[JournaledSession], active_id: str | None) -> None:
        """Upsert ``sessions`` (whole rows) and the active session's id in one durable transaction."""
        now = time.time()
        rows = [
            (s.id, s.position, s.name, s.entity, s.started,
             json.dumps(s.context, ensure_ascii=False, sort_keys=True),
             json.dumps([{"name": c.name, "state": c.state, "position": c.position}
                         for c in s.controls], ensure_ascii=False, default=str),
             now)
            for s in sessions
        ]
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(
                        "INSERT INTO sessions (id, position, name, entity, started, context, controls, "
                        "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                        "position = excluded.position, name = excluded.name, entity = excluded.entity, "
                        "started = excluded.started, context = excluded.context, "
                        "controls = excluded.controls, updated = excluded.updated",
                        rows,
                    )
                    self._conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('active', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (active_id,),
                    )
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise SessionJournalError(f"cannot write the session journal {self.path}: {exc}") from None

    def remove(self, session_id: str) -> None:
        """Forget a session (it was closed)."""
        self._execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def clear(self) -> None:
        """Forget every session: the desktop closed normally."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("DELETE FROM sessions")
                self._conn.execute("DELETE FROM meta")
                self._conn.execute("COMMIT")
                # Nothing of the customers' data stays behind in the write-ahead log either.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise SessionJournalError(f"cannot clear the session journal {self.path}: {exc}") from None

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            try:
                self._conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise SessionJournalError(f"cannot write the session journal {self.path}: {exc}") from None

    # ------------------------------------------------------------------ reading
    def pending(self) -> list[JournaledSession]:
        """The sessions a crashed run left, by position; ``[]`` (and the file set aside) if unreadable."""
        try:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT id, position, name, entity, started, context, controls FROM sessions "
                    "ORDER BY position, rowid"
                ).fetchall()
                active_row = self._conn.execute(
                    "SELECT value FROM meta WHERE key = 'active'").fetchone()
            active = None if active_row is None else active_row[0]
            return [_decode(row, active) for row in rows]
        except (sqlite3.DatabaseError, _Corrupt, ValueError, TypeError, KeyError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not _is_corruption(exc):
                log.error("the session journal %s could not be read: %s", self.path, exc)
                return []
            with self._lock:
                self._conn.close()
                self._set_aside(f"{type(exc).__name__}: {exc}")
                self._conn = self._open()
            return []

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _decode(row: tuple[Any, ...], active: str | None) -> JournaledSession:
    sid, position, name, entity, started, context_text, controls_text = row
    context = json.loads(context_text)
    if not isinstance(context, dict) or not all(
        isinstance(section, dict) for section in context.values()
    ):
        raise _Corrupt(f"session {sid}: its context is not a mapping of sections")
    controls = []
    for item in json.loads(controls_text):
        state = item.get("state")
        if state is not None and not isinstance(state, dict):
            raise _Corrupt(f"session {sid}: control {item.get('name')!r} has a state that is not a mapping")
        controls.append(JournaledControl(str(item["name"]), state, int(item["position"])))
    controls.sort(key=lambda c: c.position)
    return JournaledSession(
        id=str(sid), name=str(name), entity=str(entity), started=str(started),
        position=int(position), active=sid == active,
        context={str(root): {str(k): str(v) for k, v in names.items()} for root, names in context.items()},
        controls=controls,
    )


def _is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text
