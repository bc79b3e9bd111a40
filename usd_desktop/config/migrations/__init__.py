"""Alembic migrations of the configuration store (run by :mod:`usd_desktop.config.store.engine`).

Each schema change of :mod:`usd_desktop.config.schema` needs a new revision in ``versions/``,
written out (``op.add_column``, ``op.create_table``): ``tests/integration/store/test_migrations.py``
fails until the migrated database matches the tables the schema generates. To draft one::

    A=usd_desktop/config/migrations/alembic.ini
    .venv/bin/alembic -c $A upgrade head     # draft-store.db at the current (old) head
    .venv/bin/alembic -c $A revision --autogenerate --rev-id 0003 -m "what changed"

then read the draft, keep it explicit and tidy, delete ``draft-store.db`` and move
``HEAD_REVISION`` below to the new revision. A new non-null
column needs a ``server_default`` (the rows of published versions get it) equal to the field's
default, so old versions keep their content and hash.
"""

#: The newest revision in ``versions/`` (a test checks it against alembic's own head). Agents compare
#: a store with it at every login without importing alembic; alembic loads only to migrate.
HEAD_REVISION = "0003"
