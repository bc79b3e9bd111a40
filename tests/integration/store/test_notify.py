"""Running agents hear about changes: LISTEN/NOTIFY on PostgreSQL, polling the change feed on SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.store import NOTIFY_CHANNEL, ConfigStore, StoreChange, audit
from usd_desktop.config.store.notify import listen_changes, parse_payload, poll_changes
from usd_desktop.testing import until

CONFIG = loads_configuration("""
name: Sales
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
""")


def _publish(store: ConfigStore, description: str) -> int:
    store.import_configuration(CONFIG.model_copy(update={"description": description}), actor="admin")
    return store.publish("Sales", actor="admin").number


def _listeners(store: ConfigStore) -> list[int]:
    with store._engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE query = :q AND pid <> pg_backend_pid()"),
                {"q": f"LISTEN {NOTIFY_CHANNEL}"},
            ).scalars()
        )


@asynccontextmanager
async def running(factory: Callable[[asyncio.Event], Any]) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(factory(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_listen_changes_hears_publications(pg_url: str) -> None:
    heard: list[StoreChange] = []
    with ConfigStore.open(pg_url) as store:
        async with running(lambda stop: listen_changes(pg_url, heard.append, stop=stop)):
            await until(lambda: _listeners(store), "the listener")
            _publish(store, "one")
            await until(lambda: heard, "the publication")
            store.add_user("ann", actor="admin")
            store.assign("Sales", user="ann", actor="admin")
            await until(lambda: len(heard) == 3, "the assignment")
    assert [(c.kind, c.configuration, c.version) for c in heard] == [
        ("publish", "Sales", 1),
        ("users", "", None),
        ("assign", "Sales", None),
    ]
    assert [c.seq for c in heard] == [1, 2, 3]


async def test_nothing_is_announced_for_a_rolled_back_change(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[StoreChange] = []
    original = audit.record_change

    def notify_then_fail(*args: Any, **kwargs: Any) -> int:
        original(*args, **kwargs)
        raise RuntimeError("after NOTIFY, before commit")

    async def on_change(change: StoreChange) -> None:  # coroutine callbacks work too
        heard.append(change)

    with ConfigStore.open(pg_url) as store:
        async with running(lambda stop: listen_changes(pg_url, on_change, stop=stop)):
            await until(lambda: _listeners(store), "the listener")
            store.import_configuration(CONFIG, actor="admin")
            store.add_role("team", actor="admin")
            monkeypatch.setattr(audit, "record_change", notify_then_fail)
            with pytest.raises(RuntimeError):
                store.assign("Sales", role="team", actor="admin")
            monkeypatch.undo()
            store.publish("Sales", actor="admin")  # announced after the failed one would have been
            await until(lambda: heard, "the publication")
        assert store.assignments() == []
    assert [(c.kind, c.version) for c in heard] == [("publish", 1)]


async def test_listen_changes_reconnects(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "usd_desktop.config.store.notify")
    heard: list[StoreChange] = []
    with ConfigStore.open(pg_url) as store:
        async with running(lambda stop: listen_changes(pg_url, heard.append, stop=stop, retry=0.05)):
            pids = await until(lambda: _listeners(store), "the listener")
            with store._engine.begin() as conn:
                conn.execute(sa.select(sa.func.pg_terminate_backend(pids[0])))
            await until(lambda: [c for c in heard if c.kind == "reconnected"], "the reconnection")
            await until(lambda: _listeners(store), "the listener again")
            _publish(store, "after")
            await until(lambda: heard[-1].kind == "publish", "the publication after reconnecting")
    assert "lost the store connection" in caplog.text


async def test_listen_changes_keeps_trying_an_unreachable_server(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"
    async with running(lambda stop: listen_changes(url, print, stop=stop, retry=0.01, max_retry=0.02)):
        await until(lambda: caplog.text.count("cannot listen to the store") >= 2, "retries")
    assert "retrying in" in caplog.text and "nobody@127.0.0.1" in caplog.text


async def test_poll_changes_on_sqlite(sqlite_url: str) -> None:
    heard: list[StoreChange] = []
    with ConfigStore.open(sqlite_url) as store:
        _publish(store, "before")  # already there: not reported
        async with running(
            lambda stop: poll_changes(store, 0.02, heard.append, stop=stop, since=store.change_seq())
        ):
            _publish(store, "during")
            await until(lambda: heard, "the publication")
            store.set_default("Sales", actor="admin")
            await until(lambda: len(heard) == 2, "set_default")
    assert [(c.kind, c.version) for c in heard] == [("publish", 2), ("set_default", None)]


async def test_poll_changes_reopens_through_a_factory_and_survives_errors(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[StoreChange] = []
    opened: list[ConfigStore] = []
    failures = [True]

    def factory() -> ConfigStore:
        if failures:
            failures.pop()
            raise OSError("share not mounted")
        if not opened:
            opened.append(ConfigStore.open(sqlite_url))
        return opened[0]

    async def on_change(change: StoreChange) -> None:
        heard.append(change)
        raise ValueError("a broken callback is logged, not fatal")

    with ConfigStore.open(sqlite_url) as admin:
        async with running(lambda stop: poll_changes(factory, 0.02, on_change, stop=stop, since=0)):
            await until(lambda: opened, "the store to open")
            _publish(admin, "x")
            _publish(admin, "y")
            await until(lambda: len(heard) == 2, "both publications")
    opened[0].close()
    assert "share not mounted" in caplog.text and "callback failed" in caplog.text


def test_notify_payloads_are_parsed_defensively() -> None:
    assert parse_payload('{"seq": 4, "kind": "publish", "configuration": "A", "version": 2}') == StoreChange(
        4, "publish", "A", 2
    )
    assert parse_payload("not json").kind == "unknown"
