"""Alembic environment of the configuration store.

usd_desktop runs the migrations with a connection it opened (and locked) itself, passed as
``config.attributes["connection"]``; the ``sqlalchemy.url`` main option is for developers running
the ``alembic`` command.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from usd_desktop.config.store.tables import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("usd_desktop's store migrations run online only")
run_migrations_online()
