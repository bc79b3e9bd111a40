"""Alembic environment of the service-desk data; run with a connection given by usd_desktop."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from usd_desktop.data import models_work
from usd_desktop.data.migrations import VERSION_TABLE
from usd_desktop.data.models import Base

assert models_work.Case.metadata is Base.metadata  # the work tables are registered

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
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
    raise SystemExit("usd_desktop's data migrations run online only")
run_migrations_online()
