"""Where the service-desk data is: ``USD_DESKTOP_DATA``, else ``<user data dir>/usd-desktop-data.db``.

It may be the configuration store's database (the tables and alembic version table do not clash)
or another one. A PostgreSQL URL carries no password: it comes from the OS keyring as for the store
(:mod:`usd_desktop.config.store.location`).
"""

from __future__ import annotations

import os
from pathlib import Path

from usd_desktop.core.paths import user_data_dir

ENV_VAR = "USD_DESKTOP_DATA"


def default_data_path() -> Path:
    """The embedded data file."""
    return user_data_dir() / "usd-desktop-data.db"


def default_data_url() -> str:
    return f"sqlite:///{default_data_path()}"


def resolve_data_url(explicit: str | None = None) -> str:
    """The data URL: ``explicit``, else ``$USD_DESKTOP_DATA``, else the embedded SQLite file."""
    if explicit:
        return explicit
    env = os.environ.get(ENV_VAR, "").strip()
    return env or default_data_url()
