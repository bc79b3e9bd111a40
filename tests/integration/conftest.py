"""Integration fixtures: a throwaway PostgreSQL cluster, store URLs for SQLite and PostgreSQL.

The cluster is started once per session from the server binaries (``$USD_PG_BINDIR``,
``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``), on 127.0.0.1 and a free port, with its data in a temporary folder
(owned by ``postgres`` when running as root, since ``initdb`` refuses root). Each test gets its own
database. Without the binaries the PostgreSQL cases skip, except under ``CI=true``, where they
fail. No test reads or writes the real keyring.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import pytest

from usd_desktop.config.loader import load_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import ConfigStore
from usd_desktop.core.paths import resources_dir
from usd_desktop.testing.memory_keyring import MemoryKeyring

#: A login role that needs a password (scram), to test passwords kept in the keyring.
PASSWORD_ROLE = "usd_pw"
PASSWORD_ROLE_SECRET = "s3cret-for-tests"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _bindir() -> Path | None:
    override = os.environ.get("USD_PG_BINDIR")  # a PostgreSQL installed elsewhere
    if override:
        found = Path(override)
        return found if (found / "initdb").is_file() and (found / "pg_ctl").is_file() else None
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    candidates.extend(versions)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    base: Path
    port: int
    prefix: list[str]
    databases: list[str] = field(default_factory=list)
    template: str | None = None

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, *statements: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        ) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self, *, migrated: bool = True, owner: str = "postgres") -> str:
        """A new empty database, or one already at the head revision (copied from a template)."""
        if migrated and self.template is None:
            self.template = "usd_template"
            self.sql(f"CREATE DATABASE {self.template}")
            ConfigStore.open(self.url(self.template)).close()
        name = f"t_{uuid.uuid4().hex[:12]}"
        template = f" TEMPLATE {self.template}" if migrated else ""
        self.sql(f"CREATE DATABASE {name}{template} OWNER {owner}")
        self.databases.append(name)
        return name

    def drop(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *args], capture_output=True, text=True, check=check, timeout=60)


def _start_cluster() -> PgCluster:
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql")
    base = Path(tempfile.mkdtemp(prefix="usd-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    cluster = PgCluster(bindir, base, _free_port(), prefix)
    data = base / "data"
    try:
        cluster.run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        hba = data / "pg_hba.conf"
        lines = f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(lines + hba.read_text(encoding="utf-8"), encoding="utf-8")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {base} -c fsync=off -c max_connections=200"
        )
        cluster.run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log = base / "log"
        detail = getattr(exc, "stderr", "") or (
            log.read_text(errors="replace")[-2000:] if log.exists() else ""
        )
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start a PostgreSQL cluster: {exc}\n{detail}") from exc
    cluster.sql(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD_ROLE_SECRET}'")
    return cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        cluster = _start_cluster()
    except RuntimeError as exc:
        if _in_ci():
            pytest.fail(f"CI=true needs PostgreSQL: {exc}", pytrace=False)
        pytest.skip(str(exc).splitlines()[0])
    try:
        yield cluster
    finally:
        cluster.run(
            str(cluster.bindir / "pg_ctl"),
            "-D",
            str(cluster.base / "data"),
            "-m",
            "immediate",
            "stop",
            check=False,
        )
        shutil.rmtree(cluster.base, ignore_errors=True)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring for each test: the real one is never touched."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh PostgreSQL database at the head revision."""
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture
def pg_password_url(pg_cluster: PgCluster) -> Iterator[tuple[str, str]]:
    """An empty database owned by a role that must give a password: (URL without it, password)."""
    name = pg_cluster.new_database(migrated=False, owner=PASSWORD_ROLE)
    yield pg_cluster.url(name, user=PASSWORD_ROLE), PASSWORD_ROLE_SECRET
    pg_cluster.drop(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A store URL, once for SQLite and once for PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(store_url: str) -> Iterator[ConfigStore]:
    opened = ConfigStore.open(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def starter() -> Configuration:
    return load_configuration(resources_dir() / "starter")
