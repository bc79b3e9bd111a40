"""The agent's side of the store: login, cache fallback, tamper refusal, live updates, reconnection."""

from __future__ import annotations

import asyncio
import json

import pytest

from usd_desktop.config.client import ClientSettings, ConfigClient, ConfigUnavailable, LoadedConfiguration
from usd_desktop.config.loader import load_configuration
from usd_desktop.config.store import ConfigStore
from usd_desktop.config.store.location import default_store_url
from usd_desktop.core.paths import resources_dir
from usd_desktop.hosted_controls.desktop import MemorySettings
from usd_desktop.testing import until

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.fixture
def starter():
    return load_configuration(resources_dir() / "starter")


def publish(url: str, config, *, options: dict[str, str] | None = None) -> int:
    with_options = config.model_copy(update={"options": {**config.options, **(options or {})}})
    store = ConfigStore.open(url)
    try:
        store.import_configuration(with_options, actor="admin")
        info = store.publish(config.name, actor="admin")
        store.set_default(config.name, actor="admin")
        return info.number
    finally:
        store.close()


def test_login_uses_the_store_then_the_cache_when_it_is_unreachable(store_url, starter, tmp_path):
    publish(store_url, starter)
    client = ConfigClient("ana", url=store_url, cache_dir=tmp_path / "cache")
    loaded = client.load()
    assert (loaded.source, loaded.name, loaded.version) == ("store", "Starter", 1)
    client.close()
    offline = ConfigClient("ana", url=UNREACHABLE, cache_dir=tmp_path / "cache")
    fallback = offline.load()
    assert fallback.source == "cache" and fallback.config == loaded.config
    assert "unreachable" in fallback.notice and "Starter v1" in fallback.notice
    offline.close()


def test_a_tampered_cache_is_refused_when_the_store_is_unreachable(store_url, starter, tmp_path):
    publish(store_url, starter)
    first = ConfigClient("ana", url=store_url, cache_dir=tmp_path / "c")
    first.load()
    first.close()
    cache_file = tmp_path / "c" / "configuration.ana.json"
    payload = json.loads(cache_file.read_text())
    payload["yaml"] = payload["yaml"].replace("Starter", "Evil", 1)
    cache_file.write_text(json.dumps(payload))
    with pytest.raises(ConfigUnavailable, match="integrity check"):
        ConfigClient("ana", url=UNREACHABLE, cache_dir=tmp_path / "c").load()


def test_the_embedded_store_is_created_and_seeded_on_first_run(tmp_path):
    client = ConfigClient("ana", cache_dir=tmp_path / "cache")
    assert client.url == default_store_url() and client.embedded
    loaded = client.load()
    assert (loaded.source, loaded.name, loaded.version) == ("store", "Starter", 1)
    client.close()
    second = ConfigClient("ana", cache_dir=tmp_path / "cache")
    assert second.load().version == 1  # seeded once only
    second.close()


def test_user_settings_live_in_the_store_and_locally(store_url, starter, tmp_path):
    publish(store_url, starter)
    client = ConfigClient("ana", url=store_url, cache_dir=tmp_path / "cache")
    local = MemorySettings()
    settings = ClientSettings(client, local)
    settings.save("Theme", "dark")
    assert settings.load() == {"Theme": "dark"} and local.values == {"Theme": "dark"}
    bob = ConfigClient("bob", url=store_url)
    assert ClientSettings(bob, MemorySettings()).load() == {}
    offline = ClientSettings(ConfigClient("ana", url=UNREACHABLE), local)
    assert offline.load() == {"Theme": "dark"}  # the local copy when the store is out of reach
    for c in (client, bob, offline.client):
        c.close()


async def test_a_new_publication_reaches_a_watching_agent(store_url, starter, tmp_path):
    publish(store_url, starter)
    client = ConfigClient("ana", url=store_url, cache_dir=tmp_path / "cache", poll_seconds=0.1)
    client.load()
    updates: list[LoadedConfiguration] = []
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(client.watch(updates.append, stop))
    await asyncio.sleep(0.5)  # listening
    assert updates == []
    publish(store_url, starter, options={"maxNumberOfSessions": "4"})
    await until(lambda: updates, "the new version", timeout=15)
    assert updates[0].version == 2 and updates[0].config.options["maxNumberOfSessions"] == "4"
    assert client.cache.load().version == 2  # the cache follows
    stop.set()
    await asyncio.wait_for(watcher, 10)
    client.close()


async def test_a_lost_store_connection_is_re_established(pg_cluster, pg_url, starter, tmp_path):
    publish(pg_url, starter)
    client = ConfigClient("ana", url=pg_url, cache_dir=tmp_path / "cache")
    client.load()
    updates: list[LoadedConfiguration] = []
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(client.watch(updates.append, stop))
    await asyncio.sleep(0.5)
    database = pg_url.rsplit("/", 1)[1]
    pg_cluster.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    await asyncio.sleep(1.5)  # the listener notices and reconnects
    publish(pg_url, starter, options={"maxNumberOfSessions": "2"})
    await until(lambda: updates, "the version published after the reconnection", timeout=20)
    assert updates[-1].version == 2
    stop.set()
    await asyncio.wait_for(watcher, 10)
    client.close()


async def test_an_assignment_change_reaches_the_agent(store_url, starter, tmp_path):
    publish(store_url, starter)
    store = ConfigStore.open(store_url)
    other = starter.model_copy(update={"name": "Night shift"})
    store.import_configuration(other, actor="admin")
    store.publish("Night shift", actor="admin")
    store.add_user("ana", actor="admin")
    client = ConfigClient("ana", url=store_url, cache_dir=tmp_path / "cache", poll_seconds=0.1)
    assert client.load().name == "Starter"
    updates: list[LoadedConfiguration] = []
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(client.watch(updates.append, stop))
    await asyncio.sleep(0.5)
    store.assign("Night shift", user="ana", actor="admin")
    store.close()
    await until(lambda: updates, "the newly assigned configuration", timeout=15)
    assert updates[0].name == "Night shift"
    stop.set()
    await asyncio.wait_for(watcher, 10)
    client.close()
