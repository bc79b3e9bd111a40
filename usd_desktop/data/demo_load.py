"""Bulk loading for the demo data: rows as plain tuples, inserted as fast as each database allows.

:func:`bulk_load` holds one write connection for the whole load and yields a :class:`BulkLoad`
whose :meth:`~BulkLoad.insert` writes a batch of rows into a table: on SQLite one ``executemany``
straight through the driver, on PostgreSQL a ``COPY ... FROM STDIN`` (psycopg). The caller commits
batch by batch (``with load.conn.begin(): ...``).

Around the load:

* SQLite: ``synchronous=OFF``, a 512 MiB page cache and in-memory temporary storage on this
  connection only, put back as they were afterwards. The journal stays WAL (a failed or
  interrupted load rolls back its batch; readers are never blocked).
* PostgreSQL: ``synchronous_commit=off`` for this session, put back afterwards; the loaded tables
  are analysed at the end.
* The secondary (non-unique) indexes of a table that is empty when the load starts are dropped and
  created again once it is loaded -- one sort instead of millions of random index inserts. They are
  created again however the load ends (an error, Ctrl+C), and any index of the models still
  missing then (say, after a killed load) is created too.

Measured with 1,000,000 customers (8.1 million rows, SQLite, 2 cores): about 100 s, of which a
quarter makes the rows, a third inserts them and a quarter builds the indexes. Tried and left out,
since none paid: keeping the indexes whose keys arrive in order, foreign keys off, an in-memory
rollback journal, making the next batch in a worker thread (it and ``executemany`` fight over the
GIL).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from usd_desktop.data.engine import write_connection
from usd_desktop.data.models import Base

#: SQLite settings of the loading connection (restored afterwards).
SQLITE_PRAGMAS = {
    "synchronous": "OFF",
    "cache_size": "-524288",
    "temp_store": "MEMORY",
}


class BulkLoad:
    """A write connection set up for a bulk load (see the module documentation)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.postgresql = conn.dialect.name == "postgresql"
        #: What a timestamp string needs after ``YYYY-MM-DD HH:MM:SS.ffffff`` (PostgreSQL: the zone).
        self.time_suffix = "+00" if self.postgresql else ""
        self._dropped: list[tuple[str, str]] = []
        self._settings: dict[str, str] = {}

    # -- rows ----------------------------------------------------------------------------------

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``) into ``table``, in the open transaction."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgresql:
            driver = self.conn.connection.driver_connection
            assert driver is not None
            with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))

    # -- settings ------------------------------------------------------------------------------

    def _tune(self) -> None:
        if self.postgresql:
            with self.conn.begin():
                self._settings["synchronous_commit"] = str(
                    self.conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
                )
                self.conn.exec_driver_sql("SET synchronous_commit TO off")
            return
        driver = self._sqlite()
        for name, value in SQLITE_PRAGMAS.items():
            self._settings[name] = str(driver.execute(f"PRAGMA {name}").fetchone()[0])
            driver.execute(f"PRAGMA {name}={value}")

    def _untune(self) -> None:
        if self.postgresql:
            with self.conn.begin():
                for name, value in self._settings.items():
                    self.conn.execute(sa.select(sa.func.set_config(name, value, False)))
            return
        driver = self._sqlite()
        for name, value in self._settings.items():
            driver.execute(f"PRAGMA {name}={value}")

    def _sqlite(self) -> Any:
        """The sqlite3 connection (autocommit: SQLAlchemy begins transactions itself)."""
        return self.conn.connection.driver_connection

    # -- indexes -------------------------------------------------------------------------------

    def _drop_indexes(self, tables: Sequence[str]) -> None:
        quote = self.conn.dialect.identifier_preparer.quote
        for table in tables:
            if self.conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is not None:
                continue
            for name, ddl in self._secondary_indexes(table):
                self.conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
                self._dropped.append((name, ddl))

    def _secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, DDL) of the non-unique indexes of ``table``."""
        if self.postgresql:
            sql = sa.text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisunique AND NOT i.indisprimary"
                " ORDER BY c.relname"
            )
            return [(str(n), str(d)) for n, d in self.conn.execute(sql, {"table": table})]
        found: list[tuple[str, str]] = []
        for _seq, name, unique, origin, *_ in self.conn.exec_driver_sql(f"PRAGMA index_list({table})"):
            if unique or origin != "c":
                continue
            ddl = self.conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": name}
            ).scalar_one()
            found.append((str(name), str(ddl)))
        return sorted(found)

    def _restore_indexes(self, tables: Sequence[str]) -> None:
        if self.postgresql:
            self.conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, ddl in self._dropped:
            self.conn.exec_driver_sql(ddl)
        self._dropped.clear()
        for table in tables:  # one a killed load may have left out
            for index in Base.metadata.tables[table].indexes:
                index.create(self.conn, checkfirst=True)
        if self.postgresql:
            for table in tables:
                self.conn.exec_driver_sql(f"ANALYZE {table}")


@contextmanager
def bulk_load(engine: sa.Engine, tables: Sequence[str]) -> Iterator[BulkLoad]:
    """A :class:`BulkLoad` on a write connection of ``engine`` for loading ``tables``."""
    with write_connection(engine) as conn:
        load = BulkLoad(conn)
        try:
            load._tune()
            with conn.begin():
                load._drop_indexes(tables)
            yield load
        finally:
            try:
                if conn.in_transaction():  # left open by the caller: its rows are not kept
                    conn.rollback()
                with conn.begin():
                    load._restore_indexes(tables)
            finally:
                load._untune()
