"""The agent's configuration cache: exact, atomic, and refused when changed or damaged."""

from __future__ import annotations

import json

import keyring
import keyring.errors
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from usd_desktop.config.cache import CacheError, ConfigCache, content_hash
from usd_desktop.config.loader import dump_configuration, load_configuration
from usd_desktop.core.paths import resources_dir


@pytest.fixture
def starter():
    return load_configuration(resources_dir() / "starter")


def test_round_trip(tmp_path, starter):
    cache = ConfigCache(tmp_path, "ana")
    cache.save(starter, name="Starter", version=3)
    loaded = cache.load()
    assert loaded.config == starter and (loaded.name, loaded.version) == ("Starter", 3)
    assert loaded.content_hash == content_hash(dump_configuration(starter))


def test_tampered_cache_is_refused(tmp_path, starter):
    cache = ConfigCache(tmp_path, "ana")
    cache.save(starter, name="Starter", version=1)
    payload = json.loads(cache.path.read_text())
    payload["yaml"] = payload["yaml"].replace("maxNumberOfSessions: 3", "maxNumberOfSessions: 5")
    payload["content_hash"] = content_hash(payload["yaml"])  # even with a matching hash
    cache.path.write_text(json.dumps(payload))
    with pytest.raises(CacheError, match="integrity check"):
        cache.load()


@pytest.mark.parametrize("damage", [b"", b"{not json", b"\xff\xfe"])
def test_corrupt_cache_is_refused(tmp_path, starter, damage):
    cache = ConfigCache(tmp_path, "ana")
    cache.save(starter, name="Starter", version=1)
    cache.path.write_bytes(damage)
    with pytest.raises(CacheError):
        cache.load()


def test_another_users_key_does_not_verify(tmp_path, starter):
    ConfigCache(tmp_path, "ana").save(starter, name="Starter", version=1)
    (tmp_path / "configuration.ana.json").rename(tmp_path / "configuration.bob.json")
    with pytest.raises(CacheError):
        ConfigCache(tmp_path, "bob").load()


def test_hash_mismatch_with_the_published_version_is_not_cached(tmp_path, starter):
    with pytest.raises(CacheError, match="does not match"):
        ConfigCache(tmp_path, "ana").save(starter, name="Starter", version=1, expected_hash="0" * 64)


def test_without_a_keyring_the_key_lives_in_a_private_file(tmp_path, starter):
    keyring.set_keyring(FailKeyring())
    cache = ConfigCache(tmp_path / "cache", "ana", key_dir=tmp_path / "keys")
    cache.save(starter, name="Starter", version=1)
    key_file = tmp_path / "keys" / "cache-key.ana"
    assert key_file.stat().st_mode & 0o077 == 0
    assert cache.load().version == 1


def test_missing_cache(tmp_path):
    with pytest.raises(CacheError, match="no cached configuration"):
        ConfigCache(tmp_path, "ana").load()


def test_holds_only_an_intact_exact_version(tmp_path, starter):
    cache = ConfigCache(tmp_path, "ana")
    cache.save(starter, name="Starter", version=2)
    digest = content_hash(dump_configuration(starter))
    assert cache.holds("Starter", 2, digest)
    assert not cache.holds("Starter", 3, digest)
    payload = json.loads(cache.path.read_text())
    payload["yaml"] += "\n# edited\n"
    cache.path.write_text(json.dumps(payload))
    assert not cache.holds("Starter", 2, digest)  # a damaged cache is rewritten at the next login
