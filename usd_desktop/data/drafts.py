"""Crash-safe drafts: what the agent typed, on disk before the next keystroke is handled.

A note being written or a form being edited is kept here, keyed by who owns it (``notes:<session
key>``, ``form:<control>:<entity>:<id>``), until it is saved to the data source. Each write is one
SQLite transaction in WAL mode with ``synchronous=FULL``: when the call returns the text survives
the process being killed and the machine losing power. On the next start the owner finds its draft
(:meth:`DraftStore.get`) or every draft left behind (:meth:`DraftStore.pending`).

The file is per user and local (``<user data dir>/drafts.<user>.db``), so drafts survive even when
the central data source is unreachable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usd_desktop.core.paths import user_data_dir
from usd_desktop.data.errors import DataError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    updated REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Draft:
    key: str
    payload: dict[str, Any]
    updated: float  # epoch seconds


def default_drafts_path(user: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user) or "user"
    return user_data_dir() / f"drafts.{safe}.db"


class DraftStore:
    """Drafts in a local SQLite file; safe to use from several threads of one process."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise DataError(f"cannot open the drafts file {self.path}: {exc}") from None

    def put(self, key: str, payload: Mapping[str, Any]) -> None:
        """Keep ``payload`` (JSON-serialisable) as the draft ``key``, durably, before returning."""
        text = json.dumps(dict(payload), ensure_ascii=False, default=str)
        with self._lock:
            self._conn.execute(
                "INSERT INTO drafts (key, payload, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET payload = excluded.payload, updated = excluded.updated",
                (key, text, time.time()),
            )

    def get(self, key: str) -> Draft | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT key, payload, updated FROM drafts WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else Draft(row[0], json.loads(row[1]), row[2])

    def pending(self, prefix: str = "") -> list[Draft]:
        """Every draft whose key starts with ``prefix``, oldest first."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, payload, updated FROM drafts WHERE key LIKE ? ESCAPE '\\' ORDER BY updated",
                (pattern,),
            ).fetchall()
        return [Draft(r[0], json.loads(r[1]), r[2]) for r in rows]

    def delete(self, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM drafts WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
