"""Alembic environment of the service-desk data (see ``migration_set.run_env``)."""

from usd_desktop.config.store.migration_set import run_env
from usd_desktop.data import models_work
from usd_desktop.data.migrations import VERSION_TABLE
from usd_desktop.data.models import Base

assert models_work.Case.metadata is Base.metadata  # the work tables are registered

run_env(Base.metadata, VERSION_TABLE)
