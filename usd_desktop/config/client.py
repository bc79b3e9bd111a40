"""The agent's side of the configuration store: load at login, fall back to the cache, watch for updates.

* At login the desktop loads the published version assigned to the user (user > role > default) and
  caches it (:mod:`cache`). On the embedded store's first run, the store is created and seeded with
  the starter configuration, so the README's run command needs no set-up.
* When the store cannot be reached, the desktop starts from the verified cache and says so.
* :meth:`ConfigClient.watch` waits for publications (PostgreSQL LISTEN/NOTIFY; polling on SQLite)
  and hands a newly assigned version to the caller, which decides when to apply it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy.exc import SQLAlchemyError

from usd_desktop.config.cache import CacheError, ConfigCache
from usd_desktop.config.loader import load_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import ConfigStore, StoreError
from usd_desktop.config.store.location import default_store_url, resolve_store_url
from usd_desktop.core.errors import UsdError
from usd_desktop.core.paths import resources_dir, user_config_dir, user_data_dir

log = logging.getLogger(__name__)
Source = Literal["store", "cache"]
POLL_SECONDS = 2.0


class ConfigUnavailable(UsdError):
    """Neither the store nor a valid cache could give this user a configuration."""


@dataclass(frozen=True, slots=True)
class LoadedConfiguration:
    config: Configuration
    name: str
    version: int
    content_hash: str
    source: Source
    notice: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ConfigClient:
    """Loads, caches and watches the configuration of one user."""

    def __init__(
        self,
        user: str,
        *,
        url: str | None = None,
        cache_dir: Path | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.user = user
        self.url = resolve_store_url(url)
        self.cache = ConfigCache(cache_dir or user_data_dir() / "cache", user, user_config_dir())
        self.poll_seconds = poll_seconds
        self.current: LoadedConfiguration | None = None
        self._store: ConfigStore | None = None

    @property
    def embedded(self) -> bool:
        """The default SQLite file of this user: created, upgraded and seeded on demand."""
        return self.url == default_store_url()

    def store(self) -> ConfigStore:
        if self._store is None:
            self._store = ConfigStore.open(self.url, create=self.embedded, upgrade=self.embedded)
            if self.embedded and not self._store.configurations():
                starter = load_configuration(resources_dir() / "starter")
                if self._store.seed_starter(starter):
                    log.info("created the embedded configuration store %s with the starter "
                             "configuration", self.url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # ------------------------------------------------------------------ login
    def load(self) -> LoadedConfiguration:
        """The user's published configuration: from the store, else from the verified cache."""
        try:
            loaded = self._from_store()
        except (StoreError, SQLAlchemyError, OSError) as exc:
            self.close()
            reason = _reason(exc)
            log.warning("configuration store %s unavailable: %s", self.url, reason)
            try:
                cached = self.cache.load()
            except CacheError as cache_exc:
                raise ConfigUnavailable(
                    f"the configuration store is unavailable ({reason}) and {cache_exc}"
                ) from None
            loaded = LoadedConfiguration(
                cached.config, cached.name, cached.version, cached.content_hash, "cache",
                f"Configuration store unreachable: started from the cached {cached.name} "
                f"v{cached.version} (cached {cached.stored_at})",
            )
        self.current = loaded
        return loaded

    def _from_store(self) -> LoadedConfiguration:
        config, info = self.store().load_for_user(self.user)
        try:
            if self.cache.holds(info.configuration, info.number, info.content_hash):
                pass  # already cached (verified when it is read)
            else:
                self.cache.save(config, name=info.configuration, version=info.number,
                                expected_hash=info.content_hash)
        except (CacheError, OSError) as exc:
            log.error("the configuration could not be cached: %s", exc)
        return LoadedConfiguration(config, info.configuration, info.number, info.content_hash,
                                   "store")

    # ------------------------------------------------------------------ live updates
    def check_for_update(self) -> LoadedConfiguration | None:
        """A published version for this user that differs from the current one, if any."""
        resolved = self.store().resolve(self.user)
        if resolved is None:
            return None
        name, info = resolved
        current = self.current
        if current is not None and (name, info.number) == (current.name, current.version) and (
            current.source == "store"
        ):
            return None
        if current is not None and info.content_hash == current.content_hash and name == current.name:
            # the same content (the desktop started from the cache): adopt it quietly
            self.current = LoadedConfiguration(current.config, name, info.number,
                                               info.content_hash, "store")
            return None
        loaded = self._from_store()
        return loaded

    async def watch(
        self, on_update: Callable[[LoadedConfiguration], None], stop: asyncio.Event
    ) -> None:
        """Call ``on_update`` with each newly assigned published version until ``stop`` is set."""

        async def changed(*_: object) -> None:
            try:
                # the store is read off the UI thread: a slow network never freezes the desktop
                update = await asyncio.to_thread(self.check_for_update)
            except (StoreError, SQLAlchemyError, OSError) as exc:
                log.warning("configuration store unavailable while checking for updates: %s",
                            _reason(exc))
                self.close()
                return
            if update is not None:
                self.current = update
                on_update(update)

        await changed()  # a version published while the desktop was starting
        from usd_desktop.config.store.notify import listen_changes, poll_changes  # not at start-up

        if self.url.startswith("postgresql"):
            await listen_changes(self.url, changed, stop=stop)
        else:
            await poll_changes(self.store, self.poll_seconds, changed, stop=stop)


class ClientSettings:
    """``$Settings`` kept per user in the store; a local file when the store is out of reach."""

    def __init__(self, client: ConfigClient, fallback: SettingsLike) -> None:
        self.client = client
        self.fallback = fallback

    def load(self) -> dict[str, str]:
        try:
            return self.client.store().user_settings(self.client.user)
        except (StoreError, SQLAlchemyError, OSError) as exc:
            log.warning("user settings read from the local copy (store unavailable: %s)", _reason(exc))
            return self.fallback.load()

    def save(self, name: str, value: str) -> None:
        self.fallback.save(name, value)  # always kept locally too: never lost
        try:
            self.client.store().save_user_setting(self.client.user, name, value)
        except (StoreError, SQLAlchemyError, OSError) as exc:
            log.warning("setting %s kept locally only (store unavailable: %s)", name, _reason(exc))


class SettingsLike(Protocol):
    def load(self) -> dict[str, str]: ...
    def save(self, name: str, value: str) -> None: ...
