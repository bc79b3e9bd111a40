"""One set of alembic migrations shipped in a package: where it is, its head, a database's revision.

The configuration store and the service-desk data each have one (separate version tables, so both
may share a database). alembic itself loads only when a migration is run or the scripts are read.
"""

from __future__ import annotations

import importlib.resources
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


class MigrationSet:
    def __init__(self, package: str, version_table: str = "alembic_version") -> None:
        self.package = package
        self.version_table = version_table

    @property
    def directory(self) -> Path:
        return Path(str(importlib.resources.files(self.package)))

    def alembic_config(self, connection: sa.Connection | None = None) -> Config:
        """An alembic configuration for these migrations, using ``connection`` when given."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(self.directory).replace("%", "%%"))
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    @cached_property
    def scripts(self) -> ScriptDirectory:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config())

    def alembic_head(self) -> str | None:
        return self.scripts.get_current_head()

    def known_revisions(self) -> set[str]:
        return {script.revision for script in self.scripts.walk_revisions()}

    def current_revision(self, conn: sa.Connection) -> str | None:
        """The revision recorded in the database (``None`` when it has none)."""
        if not sa.inspect(conn).has_table(self.version_table):
            return None
        value = conn.execute(sa.text(f"SELECT version_num FROM {self.version_table}")).scalar()
        return None if value is None else str(value)

    def upgrade(self, conn: sa.Connection, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(self.alembic_config(conn), revision)


def run_env(metadata: sa.MetaData, version_table: str = "alembic_version") -> None:
    """The body of a migrations package's ``env.py`` (online only).

    usd_desktop passes the connection it opened (and locked) itself as
    ``config.attributes["connection"]``; the ``sqlalchemy.url`` main option is for developers running
    the ``alembic`` command.
    """
    from alembic import context

    if context.is_offline_mode():
        raise SystemExit("usd_desktop's migrations run online only")

    def run(connection: sa.Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        run(conn)
        conn.commit()
    engine.dispose()
