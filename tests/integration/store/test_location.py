"""Where the store is (explicit, environment, settings file, default) and its password (OS keyring)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from usd_desktop.config.store import ConfigStore, StoreError
from usd_desktop.config.store.location import (
    KEYRING_SERVICE,
    default_store_url,
    engine_url,
    password_key,
    redact,
    resolve_store_url,
    save_store_url,
    set_store_password,
    settings_path,
    url_has_password,
)
from usd_desktop.core.paths import user_data_dir
from usd_desktop.testing.memory_keyring import MemoryKeyring

PG = "postgresql+psycopg://agent@db.example:5433/usd"


def test_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USD_DESKTOP_STORE", raising=False)
    assert resolve_store_url() == default_store_url() == f"sqlite:///{user_data_dir() / 'usd-desktop.db'}"
    settings_path().write_text(json.dumps({"url": "sqlite:////srv/from-file.db"}), encoding="utf-8")
    assert resolve_store_url() == "sqlite:////srv/from-file.db"
    monkeypatch.setenv("USD_DESKTOP_STORE", PG)
    assert resolve_store_url() == PG
    assert resolve_store_url("sqlite:////tmp/explicit.db") == "sqlite:////tmp/explicit.db"


@pytest.mark.parametrize("text", ["{not json", '{"url": 3}', "[]"])
def test_a_broken_settings_file_is_reported(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.delenv("USD_DESKTOP_STORE", raising=False)
    settings_path().write_text(text, encoding="utf-8")
    with pytest.raises(StoreError, match=r"store\.json"):
        resolve_store_url()


def test_save_store_url_never_writes_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USD_DESKTOP_STORE", raising=False)
    with pytest.raises(StoreError, match="refusing to write a password"):
        save_store_url("postgresql+psycopg://agent:pw@db/usd")
    save_store_url(PG)
    assert resolve_store_url() == PG


def test_passwords_come_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    assert password_key(PG) == "agent@db.example:5433/usd"
    assert password_key("postgresql+psycopg://agent@db/usd") == "agent@db:5432/usd"
    assert engine_url(PG).password is None
    set_store_password(PG, "pa:ss/word")
    assert memory_keyring.passwords == {(KEYRING_SERVICE, "agent@db.example:5433/usd"): "pa:ss/word"}
    assert engine_url(PG).password == "pa:ss/word"
    assert engine_url("postgresql+psycopg://agent:inline@db.example:5433/usd").password == "inline"
    assert url_has_password("postgresql+psycopg://agent:inline@db/usd") and not url_has_password(PG)
    assert redact("postgresql+psycopg://agent:inline@db/usd") == "postgresql+psycopg://agent:***@db/usd"
    with pytest.raises(StoreError, match="SQLite store has no password"):
        set_store_password("sqlite:////tmp/x.db", "pw")


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_message_says_what_to_do() -> None:
    with pytest.raises(StoreError) as info:
        set_store_password(PG, "pw")
    message = str(info.value)
    assert "no OS keyring is available to keep the store password for agent@db.example:5433/usd" in message
    assert "D-Bus" in message and "PGPASSWORD" in message
    assert engine_url(PG).password is None  # reading just finds nothing


def test_a_server_store_opens_with_the_keyring_password(pg_password_url: tuple[str, str]) -> None:
    url, secret = pg_password_url
    with pytest.raises(StoreError) as info:
        ConfigStore.open(url)
    assert "no password supplied" in str(info.value)
    assert "usd-admin store set-password" in str(info.value)
    set_store_password(url, "wrong")
    with pytest.raises(StoreError, match="password authentication failed"):
        ConfigStore.open(url)
    set_store_password(url, secret)
    with ConfigStore.open(url) as store:
        assert store.dialect == "postgresql" and store.configurations() == []
        assert secret not in repr(store) and secret not in store.url


def test_an_inline_password_still_works(pg_password_url: tuple[str, str]) -> None:
    url, secret = pg_password_url
    inline = url.replace("@", f":{secret}@", 1)
    with ConfigStore.open(inline) as store:
        assert store.url == redact(inline) and secret not in store.url


@pytest.mark.usefixtures("no_keyring")
def test_a_password_failure_without_a_keyring_explains_why(pg_password_url: tuple[str, str]) -> None:
    url, _ = pg_password_url
    with pytest.raises(StoreError) as info:
        ConfigStore.open(url)
    assert "no OS keyring is available to read the store password" in str(info.value)


def test_an_unreachable_server_is_a_clear_store_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://agent:secret@127.0.0.1:{port}/usd"
    with pytest.raises(StoreError) as info:
        ConfigStore.open(url)
    message = str(info.value)
    assert message.startswith(
        f"cannot reach the store at postgresql+psycopg://agent:***@127.0.0.1:{port}/usd"
    )
    assert "secret" not in message
