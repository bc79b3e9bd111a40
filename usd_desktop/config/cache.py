"""The agent's local copy of its published configuration, with an integrity check.

When the store cannot be reached the desktop starts from this cache, so the copy must be exactly what
was published: it carries the content hash of the canonical YAML and an HMAC-SHA256 over everything,
keyed with a per-user secret kept in the OS keyring (or, on a machine without one, in a file only the
user can read). A cache that was edited, truncated or damaged fails the check and is refused with a
message; it is never half-used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import keyring.errors

from usd_desktop.config.loader import dump_configuration, loads_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.core.errors import UsdError

log = logging.getLogger(__name__)
FORMAT = 1
KEYRING_SERVICE = "usd-desktop"


class CacheError(UsdError):
    """The cache is missing, unreadable or failed its integrity check."""


@dataclass(frozen=True, slots=True)
class CachedConfiguration:
    config: Configuration
    name: str
    version: int
    content_hash: str
    stored_at: str


def content_hash(yaml_text: str) -> str:
    return hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()


def _key_file(directory: Path, user: str) -> Path:
    return directory / f"cache-key.{user}"


def cache_key(user: str, key_dir: Path) -> bytes:
    """The user's cache key: from the OS keyring, else from a file readable by the user only."""
    account = f"cache-key:{user}"
    try:
        stored = keyring.get_password(KEYRING_SERVICE, account)
        if stored is None:
            stored = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            keyring.set_password(KEYRING_SERVICE, account, stored)
        return base64.b64decode(stored)
    except keyring.errors.KeyringError as exc:
        log.info("no OS keyring (%s): the configuration cache key is kept in a private file", exc)
    path = _key_file(key_dir, user)
    try:
        return base64.b64decode(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode("ascii"))
    return key


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


class ConfigCache:
    """One cache file per user under ``directory``."""

    def __init__(self, directory: Path, user: str, key_dir: Path | None = None) -> None:
        self.directory = directory
        self.user = user
        self.key_dir = key_dir or directory
        self.path = directory / f"configuration.{user}.json"

    def _verified(self) -> dict[str, Any]:
        """The cache's content after its integrity checks."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CacheError(f"there is no cached configuration at {self.path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CacheError(f"the configuration cache {self.path} cannot be read: {exc}") from None
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict) or payload.get("format") != FORMAT:
                raise ValueError("unknown format")
            mac = str(payload.pop("mac"))
            text = str(payload["yaml"])
        except (ValueError, KeyError) as exc:
            raise CacheError(
                f"the configuration cache {self.path} is corrupt ({exc}); it is not used"
            ) from None
        expected = _mac(cache_key(self.user, self.key_dir), payload)
        if not hmac.compare_digest(mac, expected) or content_hash(text) != payload.get("content_hash"):
            raise CacheError(
                f"the configuration cache {self.path} failed its integrity check (it was changed "
                "or damaged); it is not used"
            )
        if payload.get("user") != self.user:
            raise CacheError(f"the configuration cache {self.path} belongs to another user")
        return payload

    def save(self, config: Configuration, *, name: str, version: int, expected_hash: str = "") -> None:
        """Write the cache atomically (a crash leaves the old cache or the new one, never half)."""
        text = dump_configuration(config)
        digest = content_hash(text)
        if expected_hash and expected_hash != digest:
            raise CacheError(
                f"configuration {name} v{version} does not match its published hash; not cached"
            )
        payload: dict[str, Any] = {
            "format": FORMAT,
            "user": self.user,
            "configuration": name,
            "version": version,
            "content_hash": digest,
            "stored_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "yaml": text,
        }
        payload["mac"] = _mac(cache_key(self.user, self.key_dir), payload)
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def holds(self, name: str, version: int, digest: str) -> bool:
        """Whether the cache already holds exactly this version, intact (no YAML parsing)."""
        try:
            payload = self._verified()
        except CacheError:
            return False
        return (payload["configuration"], payload["version"], payload["content_hash"]) == (
            name, version, digest)

    def load(self) -> CachedConfiguration:
        """Read and verify the cache; :class:`CacheError` says why it cannot be used."""
        payload = self._verified()
        text = str(payload["yaml"])
        config = loads_configuration(text, source_name=str(self.path))
        return CachedConfiguration(
            config, str(payload["configuration"]), int(payload["version"]),
            str(payload["content_hash"]), str(payload["stored_at"]),
        )
