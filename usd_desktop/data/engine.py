"""Connecting to the data database and keeping its schema at this client's revision (alembic).

The engines are the configuration store's (:func:`usd_desktop.config.store.engine.connect`):
SQLite with foreign keys, WAL and a busy timeout, writes in ``BEGIN IMMEDIATE`` transactions
(:data:`SQLITE_WRITE`); PostgreSQL through psycopg with the password from the keyring.
:func:`prepare_schema` creates an empty database, upgrades an older one and refuses a newer one
(:class:`DataTooNew`), under a lock (SQLite's write lock, a PostgreSQL advisory lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from usd_desktop.config.store.engine import SQLITE_WRITE
from usd_desktop.config.store.engine import connect as store_connect
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.location import redact
from usd_desktop.config.store.migration_set import MigrationSet
from usd_desktop.data.errors import DataError, DataTooNew
from usd_desktop.data.migrations import HEAD_REVISION, VERSION_TABLE

if TYPE_CHECKING:
    pass

#: Key of the PostgreSQL advisory lock held while the data schema is created or upgraded.
SCHEMA_LOCK = 0x55_53_44_02  # "USD" 2

__all__ = ["SQLITE_WRITE", "connect", "prepare_schema"]


MIGRATIONS = MigrationSet("usd_desktop.data.migrations", VERSION_TABLE)
alembic_config = MIGRATIONS.alembic_config
alembic_head = MIGRATIONS.alembic_head
known_revisions = MIGRATIONS.known_revisions
current_revision = MIGRATIONS.current_revision


def connect(url: str, *, create: bool = True) -> sa.Engine:
    """An engine for the data at ``url`` (SQLite or PostgreSQL with psycopg)."""
    try:
        return store_connect(url, create=create)
    except StoreError as exc:
        raise DataError(str(exc).replace("store", "data database")) from None


def write_connection(engine: sa.Engine) -> sa.Connection:
    """A connection whose transactions take the write lock at once on SQLite."""
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn = conn.execution_options(**{SQLITE_WRITE: True})
    return conn


def prepare_schema(engine: sa.Engine, url: str, *, upgrade: bool = True) -> str:
    """Create or upgrade the data schema to :data:`HEAD_REVISION`; returns it."""
    with engine.connect() as conn:
        revision = current_revision(conn)
        _refuse_unknown(url, revision)
    if revision == HEAD_REVISION:
        return HEAD_REVISION
    with write_connection(engine) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))
        revision = current_revision(conn)
        _refuse_unknown(url, revision)
        if revision == HEAD_REVISION:
            return HEAD_REVISION
        if revision is None and sa.inspect(conn).has_table("accounts"):
            raise DataError(
                f"the database at {redact(url)} has an accounts table but no data schema revision"
            )
        if revision is not None and not upgrade:
            raise DataError(f"the data database at {redact(url)} is at {revision}; it needs an upgrade")
        MIGRATIONS.upgrade(conn)
    return HEAD_REVISION


def _refuse_unknown(url: str, revision: str | None) -> None:
    if revision is not None and revision != HEAD_REVISION and revision not in known_revisions():
        raise DataTooNew(redact(url), revision, HEAD_REVISION)
