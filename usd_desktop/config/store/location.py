"""Where the configuration store is, and the password to reach it.

:func:`resolve_store_url` picks, in order: the URL given (``--store``), the environment variable
``USD_DESKTOP_STORE``, the settings file ``<user config dir>/store.json`` (``{"url": ...}``), and
else the embedded SQLite store ``sqlite:///<user data dir>/usd-desktop.db``.

A PostgreSQL URL (``postgresql+psycopg://user@host:port/db``) carries no password: it is kept in
the OS keyring under the service ``usd-desktop`` and the name ``user@host:port/db``
(:func:`set_store_password`). A URL with the password written inline still works, but
:func:`url_has_password` lets ``usd-admin`` warn about it, and :func:`redact` keeps it out of
messages. Without an OS keyring (no D-Bus session) a stored password cannot be read; libpq's own
``PGPASSWORD`` and ``~/.pgpass`` still apply.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keyring
import keyring.errors
import sqlalchemy as sa
from sqlalchemy.engine import URL

from usd_desktop.config.store.errors import StoreError
from usd_desktop.core.paths import user_config_dir, user_data_dir

log = logging.getLogger(__name__)

ENV_VAR = "USD_DESKTOP_STORE"
SETTINGS_FILE = "store.json"
KEYRING_SERVICE = "usd-desktop"
DEFAULT_PG_PORT = 5432

_NO_KEYRING = (
    "no OS keyring is available to {what} the store password for {key} (is a Secret Service, "
    "e.g. gnome-keyring, running in a D-Bus session?). Start one, or give the password to libpq "
    "with PGPASSWORD or ~/.pgpass"
)


def default_store_url() -> str:
    """The embedded SQLite store in the user's data directory."""
    return f"sqlite:///{user_data_dir() / 'usd-desktop.db'}"


def settings_path() -> Path:
    """``<user config dir>/store.json``."""
    return user_config_dir() / SETTINGS_FILE


def resolve_store_url(explicit: str | None = None) -> str:
    """The store URL: ``explicit``, ``$USD_DESKTOP_STORE``, the settings file, else the default."""
    if explicit:
        return explicit
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    path = settings_path()
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(f"{path}: cannot read the store settings: {exc}") from None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.strip():
            raise StoreError(f'{path}: expected {{"url": "<store URL>"}}')
        return url.strip()
    return default_store_url()


def save_store_url(url: str) -> Path:
    """Write ``url`` to the settings file (refusing an inline password); returns the file."""
    if url_has_password(url):
        raise StoreError("refusing to write a password to the settings file: use set_store_password")
    path = settings_path()
    path.write_text(json.dumps({"url": url}, indent=2) + "\n", encoding="utf-8")
    return path


def parse_url(url: str) -> URL:
    """``url`` parsed by SQLAlchemy; :class:`StoreError` when it is not a database URL."""
    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise StoreError(f"not a store URL: {redact(url)!r} ({exc})") from None


def url_has_password(url: str) -> bool:
    """Whether the URL carries a password inline (``usd-admin`` warns about it)."""
    try:
        return sa.make_url(url).password is not None
    except (sa.exc.ArgumentError, ValueError):
        return False


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return url
    return parsed.render_as_string(hide_password=True)


def password_key(url: str | URL) -> str:
    """The keyring user name of a server URL: ``user@host:port/db``."""
    parsed = parse_url(url) if isinstance(url, str) else url
    return (
        f"{parsed.username or ''}@{parsed.host or 'localhost'}:{parsed.port or DEFAULT_PG_PORT}/"
        f"{parsed.database or ''}"
    )


def set_store_password(url: str, password: str) -> None:
    """Keep the password of the server store ``url`` in the OS keyring."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        raise StoreError("an SQLite store has no password")
    key = password_key(parsed)
    try:
        keyring.set_password(KEYRING_SERVICE, key, password)
    except keyring.errors.NoKeyringError:
        raise StoreError(_NO_KEYRING.format(what="keep", key=key)) from None
    except keyring.errors.KeyringError as exc:
        raise StoreError(f"the OS keyring refused the store password for {key}: {exc}") from None


def store_password(url: str | URL) -> str | None:
    """The password kept for ``url`` in the OS keyring, or ``None``.

    Without a keyring backend this logs why and returns ``None`` (libpq may still find one in
    ``PGPASSWORD`` or ``~/.pgpass``); :func:`keyring_problem` says the same for an error message.
    """
    key = password_key(url)
    try:
        return keyring.get_password(KEYRING_SERVICE, key)
    except keyring.errors.NoKeyringError:
        log.info(_NO_KEYRING.format(what="read", key=key))
    except keyring.errors.KeyringError as exc:
        log.warning("the OS keyring could not give the store password for %s: %s", key, exc)
    return None


def keyring_problem(url: str | URL) -> str | None:
    """Why no password could come from the keyring for ``url`` (``None``: there is a keyring)."""
    key = password_key(url)
    try:
        keyring.get_password(KEYRING_SERVICE, key)
    except keyring.errors.NoKeyringError:
        return _NO_KEYRING.format(what="read", key=key)
    except keyring.errors.KeyringError as exc:
        return f"the OS keyring failed: {exc}"
    return None


def engine_url(url: str) -> URL:
    """The URL to connect with: a server URL gets its password from the keyring when it has none."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite" or parsed.password is not None:
        return parsed
    password = store_password(parsed)
    return parsed if password is None else parsed.set(password=password)
