"""Alembic migrations of the service-desk data (run by :mod:`usd_desktop.data.engine`).

A change to :mod:`usd_desktop.data.models` or :mod:`usd_desktop.data.models_work` needs a new
revision in ``versions/``, written out; ``tests/integration/data/test_migrations.py`` fails until
the migrated database matches the models. The version table is ``data_alembic_version``, so the
data may share a database with the configuration store.
"""

#: The newest revision in ``versions/`` (a test checks it against alembic's own head).
HEAD_REVISION = "0006"
#: Alembic's version table for the data (not ``alembic_version``: that is the configuration store's).
VERSION_TABLE = "data_alembic_version"
