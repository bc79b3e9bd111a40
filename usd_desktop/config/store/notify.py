"""Telling running agents that the store changed (a publication, an assignment...).

* :func:`listen_changes` (PostgreSQL): ``LISTEN usd_desktop_config`` on its own connection and
  call back for each notification. When the connection drops it logs, waits (doubling from
  ``retry`` up to ``max_retry`` seconds) and reconnects, then reports a ``reconnected`` change,
  since notifications sent meanwhile are lost: the caller checks again.
* :func:`poll_changes` (SQLite, or anywhere): read the change feed every ``interval`` seconds.

Callbacks take a :class:`~usd_desktop.config.store.models.StoreChange` and may be plain
functions or coroutines; one that raises is logged and the watch goes on. Both stop soon after
``stop`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from usd_desktop.config.store.audit import NOTIFY_CHANNEL
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.location import engine_url, redact
from usd_desktop.config.store.models import StoreChange

if TYPE_CHECKING:
    from usd_desktop.config.store.repository import ConfigStore

log = logging.getLogger(__name__)

ChangeCallback = Callable[[StoreChange], Awaitable[None] | None]
#: How often a waiting listener looks at ``stop`` (seconds).
STOP_CHECK = 0.25


async def _deliver(callback: ChangeCallback, change: StoreChange) -> None:
    try:
        result = callback(change)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("store change callback failed for %s", change)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def parse_payload(payload: str) -> StoreChange:
    """The change announced by a NOTIFY payload (``{"seq", "kind", "configuration", "version"}``)."""
    try:
        data = json.loads(payload)
        return StoreChange(
            data.get("seq"), str(data["kind"]), str(data.get("configuration", "")), data.get("version")
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return StoreChange(None, "unknown", "", None)


def connect_kwargs(url: str) -> dict[str, Any]:
    """psycopg connection parameters for a ``postgresql+psycopg://`` store URL (password from the keyring)."""
    parsed = engine_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"{redact(url)}: LISTEN needs a PostgreSQL store; poll the change feed instead")
    params: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
        # notice a dead server or network within about half a minute
        "keepalives": 1,
        "keepalives_idle": 15,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    params.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return {k: v for k, v in params.items() if v is not None}


async def listen_changes(
    url: str,
    callback: ChangeCallback,
    *,
    stop: asyncio.Event,
    retry: float = 0.5,
    max_retry: float = 30.0,
) -> None:
    """Call ``callback`` for each change announced on the PostgreSQL store ``url`` until ``stop``."""
    params = connect_kwargs(url)
    where = redact(url)
    delay = retry
    connected_before = False
    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(autocommit=True, **params)
        except psycopg.Error as exc:
            log.warning(
                "cannot listen to the store at %s (%s); retrying in %.1f s", where, _first_line(exc), delay
            )
            await _sleep(stop, delay)
            delay = min(delay * 2, max_retry)
            continue
        try:
            async with conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                log.info("listening for configuration changes on %s", where)
                delay = retry
                if connected_before:
                    await _deliver(callback, StoreChange(None, "reconnected", "", None))
                connected_before = True
                while not stop.is_set():
                    async for notice in conn.notifies(timeout=STOP_CHECK):
                        await _deliver(callback, parse_payload(notice.payload))
                        if stop.is_set():
                            break
        except psycopg.Error as exc:
            if stop.is_set():
                break
            log.warning(
                "lost the store connection %s (%s); reconnecting in %.1f s", where, _first_line(exc), delay
            )
            await _sleep(stop, delay)
            delay = min(delay * 2, max_retry)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


async def poll_changes(
    store: ConfigStore | Callable[[], ConfigStore],
    interval: float,
    callback: ChangeCallback,
    *,
    stop: asyncio.Event,
    since: int | None = None,
) -> None:
    """Call ``callback`` for each change-feed entry after ``since`` (default: the latest now).

    ``store`` is a store or a function giving one (called each time, so the caller may reopen it
    after a failure). A failing read is logged and tried again after ``interval``.
    """
    last = since
    while not stop.is_set():
        try:
            current = store() if callable(store) else store
            if last is None:
                last = current.change_seq()
            else:
                changes = current.changes_since(last)
                if not changes and current.change_seq() < last:
                    last = current.change_seq()  # a different (recreated) store: start again
                for change in changes:
                    last = change.seq if change.seq is not None else last
                    await _deliver(callback, change)
        except (StoreError, SQLAlchemyError, OSError) as exc:
            log.warning("cannot read the store's change feed: %s", _first_line(exc))
        await _sleep(stop, interval)
