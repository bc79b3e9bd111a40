"""The audit log and the change feed, written inside the transaction of the change they record.

:func:`record_change` adds a ``store_changes`` row (SQLite clients poll its ``seq``) and, on
PostgreSQL, sends ``NOTIFY usd_desktop_config`` with a JSON payload; PostgreSQL delivers it when
the transaction commits, and never when it rolls back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from usd_desktop.config.store.models import AuditEntry, StoreChange
from usd_desktop.config.store.tables import audit_log, store_changes

#: The PostgreSQL channel publications are announced on.
NOTIFY_CHANNEL = "usd_desktop_config"


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A time read back, in UTC (SQLite gives naive datetimes; every time the store writes is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_audit(
    conn: sa.Connection, *, actor: str, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Add an audit row: ``actor`` did ``action`` to ``target``."""
    conn.execute(
        audit_log.insert().values(at=now(), actor=actor, action=action, target=target, details=details or {})
    )


def record_change(conn: sa.Connection, *, kind: str, configuration: str, version: int | None = None) -> int:
    """Add a change-feed row (and NOTIFY on PostgreSQL); returns its ``seq``."""
    result = conn.execute(
        store_changes.insert().values(at=now(), kind=kind, configuration=configuration, version=version)
    )
    key = result.inserted_primary_key
    seq = int(key[0]) if key is not None and key[0] is not None else 0
    if conn.dialect.name == "postgresql":
        payload = json.dumps({"seq": seq, "kind": kind, "configuration": configuration, "version": version})
        conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, payload)))
    return seq


def latest_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(store_changes.c.seq), 0))).scalar_one())


def changes_since(conn: sa.Connection, seq: int, limit: int = 1000) -> list[StoreChange]:
    """The change-feed rows after ``seq``, oldest first."""
    rows = conn.execute(
        sa.select(store_changes).where(store_changes.c.seq > seq).order_by(store_changes.c.seq).limit(limit)
    )
    return [StoreChange(r.seq, r.kind, r.configuration, r.version, as_utc(r.at)) for r in rows]


def audit_entries(conn: sa.Connection, limit: int) -> list[AuditEntry]:
    """The latest ``limit`` audit rows, newest first."""
    rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return [AuditEntry(r.id, as_utc(r.at), r.actor, r.action, r.target, dict(r.details or {})) for r in rows]
