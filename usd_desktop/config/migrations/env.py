"""Alembic environment of the configuration store (see ``migration_set.run_env``)."""

from usd_desktop.config.store.migration_set import run_env
from usd_desktop.config.store.tables import metadata

run_env(metadata)
