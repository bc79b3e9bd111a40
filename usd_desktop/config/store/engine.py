"""Connecting to the store and keeping its schema at this client's revision (alembic).

:func:`connect` makes the engine (SQLite: foreign keys on, WAL, real transactions with ``BEGIN
IMMEDIATE`` for writes; PostgreSQL: the password from the keyring) and :func:`prepare_schema`
checks the alembic revision: an empty database is created when ``create``, an older schema is
upgraded when ``upgrade``, a newer one is refused with :class:`StoreTooNew`. Creation and
upgrades hold a lock (the SQLite write lock, a PostgreSQL advisory lock), so two clients starting
at once on an empty store do not both create it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL

from usd_desktop.config.migrations import HEAD_REVISION
from usd_desktop.config.store.errors import StoreError, StoreNeedsUpgrade, StoreTooNew
from usd_desktop.config.store.location import engine_url, keyring_problem, parse_url, redact
from usd_desktop.config.store.migration_set import MigrationSet

#: Execution option that makes the next SQLite transaction ``BEGIN IMMEDIATE`` (take the write lock).
SQLITE_WRITE = "usd_sqlite_write"
#: Key of the PostgreSQL advisory lock held while the schema is created or upgraded.
SCHEMA_LOCK = 0x55_53_44_01  # "USD" 1
#: A table every store has; a database holding it without an alembic revision is not ours to touch.
_MARKER_TABLE = "configurations"


MIGRATIONS = MigrationSet("usd_desktop.config.migrations")
alembic_config = MIGRATIONS.alembic_config
known_revisions = MIGRATIONS.known_revisions
current_revision = MIGRATIONS.current_revision


def alembic_head() -> str:
    """The head revision as alembic reads it from ``versions/`` (tests compare it with ours)."""
    head = MIGRATIONS.alembic_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("no store migrations found in the installed usd_desktop")
    return head


def head_revision() -> str:
    return HEAD_REVISION


# ---------------------------------------------------------------------- engines
def _sqlite_hooks(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            _use_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(SQLITE_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _use_wal(cursor: Any, attempts: int = 100) -> None:
    """Put the file in WAL mode (readers never wait for the writer); it stays so once set.

    Switching needs the file to itself and does not wait for a busy one, so a new store that
    another client is creating at the same moment is tried again for a few seconds.
    """
    for attempt in range(attempts):
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def connect(url: str, *, create: bool) -> sa.Engine:
    """An engine for the store at ``url`` (not yet connected for a server store)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database not in ("", ":memory:") and not database.startswith("file:"):
            path = Path(database)
            if not path.exists():
                if not create:
                    raise StoreError(f"no store at {redact(url)}: {path} does not exist")
                path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
        engine = sa.create_engine(parsed, **kwargs)
        _sqlite_hooks(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg_async"):
            raise StoreError(
                f"{redact(url)}: use the psycopg driver (postgresql+psycopg://user@host:port/db)"
            )
        full: URL = engine_url(url)
        return sa.create_engine(full, pool_pre_ping=True)
    raise StoreError(f"{redact(url)}: the store runs on SQLite or PostgreSQL, not {backend}")


def connection_error(url: str, exc: sa.exc.OperationalError | sa.exc.InterfaceError) -> StoreError:
    """A :class:`StoreError` saying why ``url`` could not be reached (with a keyring hint)."""
    reason = str(exc.orig or exc).strip().splitlines()
    text = reason[0] if reason else type(exc).__name__
    message = f"cannot reach the store at {redact(url)}: {text}"
    if "password" in text.lower() and parse_url(url).password is None:
        problem = keyring_problem(url)
        message += f". {problem}" if problem else ". Set it with `usd-admin store set-password`"
    return StoreError(message)


# ---------------------------------------------------------------------- schema
def _write_connection(engine: sa.Engine) -> sa.Connection:
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn = conn.execution_options(**{SQLITE_WRITE: True})
    return conn


def prepare_schema(engine: sa.Engine, url: str, *, create: bool, upgrade: bool) -> str:
    """Check (and create or upgrade, when allowed) the store's schema; returns its revision."""
    head = head_revision()
    with engine.connect() as conn:
        revision = current_revision(conn)
        _refuse_unknown(url, revision, head)
    if revision == head:
        return head
    with _write_connection(engine) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))
        revision = current_revision(conn)  # again, under the lock
        _refuse_unknown(url, revision, head)
        if revision == head:
            return head
        if revision is None:
            if sa.inspect(conn).has_table(_MARKER_TABLE):
                raise StoreError(
                    f"the database at {redact(url)} has usd_desktop tables but no schema revision: "
                    "it was not made by `usd-admin store init`"
                )
            if not create:
                raise StoreError(f"no store at {redact(url)}: the database is empty (`usd-admin store init`)")
        elif not upgrade:
            raise StoreNeedsUpgrade(redact(url), revision, head)
        MIGRATIONS.upgrade(conn)
    return head


def _refuse_unknown(url: str, revision: str | None, head: str) -> None:
    if revision is not None and revision != head and revision not in known_revisions():
        raise StoreTooNew(redact(url), revision, head)
