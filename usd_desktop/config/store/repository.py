"""The configuration store: configurations, their versions, people and settings, in one database.

Administrators import a configuration into its *draft* (validated first: lint errors refuse it),
*publish* the draft as an immutable numbered version, roll back, clone, assign configurations to
users and roles. Agents *resolve* and load the published version that applies to them. Every
method that changes something runs in one transaction, writes an audit row, and (for what agents
care about) a change-feed row plus, on PostgreSQL, a ``NOTIFY`` delivered on commit.

The same code runs on the embedded SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from usd_desktop.config.lint import ControlTypeInfo, lint
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import audit, content, people, versions
from usd_desktop.config.store.audit import NOTIFY_CHANNEL
from usd_desktop.config.store.diff import diff_configurations
from usd_desktop.config.store.engine import (
    SQLITE_WRITE,
    connect,
    connection_error,
    current_revision,
    prepare_schema,
)
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.location import redact, resolve_store_url
from usd_desktop.config.store.models import (
    Assignment,
    AuditEntry,
    Change,
    ConfigurationInfo,
    RoleInfo,
    StoreChange,
    UserInfo,
    VersionInfo,
)
from usd_desktop.config.store.tables import configurations as configs_t

__all__ = ["NOTIFY_CHANNEL", "ConfigStore"]

#: The largest configuration the store accepts (its JSON form): ten times a very large desk (5,000
#: action calls take about 1.5 MB), so a runaway file is refused before lint and the database see it.
MAX_CONTENT_BYTES = 16_000_000
#: Who seeds the starter configuration on first run.
SEED_ACTOR = "usd-desktop"
_SEED_LOCK = 0x55_53_44_02


class ConfigStore:
    """A connection to the configuration store. Open with :meth:`open`; :meth:`close` when done."""

    def __init__(
        self,
        engine: sa.Engine,
        url: str,
        control_types: Mapping[str, ControlTypeInfo] | None = None,
        unchecked_types: Collection[str] = (),
    ) -> None:
        self._engine = engine
        self.url = redact(url)
        self.dialect: str = engine.dialect.name
        self.control_types = control_types
        self.unchecked_types = frozenset(unchecked_types)
        self.max_content_bytes = MAX_CONTENT_BYTES
        self._closed = False

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        create: bool = True,
        upgrade: bool = False,
        control_types: Mapping[str, ControlTypeInfo] | None = None,
        unchecked_types: Collection[str] = (),
    ) -> ConfigStore:
        """Open the store at ``url`` (default: :func:`resolve_store_url`).

        An empty database is created when ``create``; a schema older than this client's is upgraded
        only when ``upgrade`` (else :class:`StoreNeedsUpgrade`); a newer one raises
        :class:`StoreTooNew`. ``control_types`` lets lint check hosted-control types and actions.
        """
        resolved = resolve_store_url(url)
        engine = connect(resolved, create=create)
        try:
            prepare_schema(engine, resolved, create=create, upgrade=upgrade)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            engine.dispose()
            raise connection_error(resolved, exc) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, resolved, control_types, unchecked_types)

    def close(self) -> None:
        """Close the store's connections; using it afterwards raises :class:`StoreError`."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> ConfigStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConfigStore({self.url!r})"

    # ------------------------------------------------------------------ transactions
    def _connect(self) -> sa.Connection:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")
        try:
            return self._engine.connect()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise connection_error(self.url, exc) from None

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One transaction that takes the write lock first (SQLite ``BEGIN IMMEDIATE``)."""
        with self._connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(**{SQLITE_WRITE: True})
            with conn.begin():
                yield conn

    def schema_revision(self) -> str:
        """The alembic revision of the store's schema."""
        with self._read() as conn:
            return current_revision(conn) or ""

    def _lint_errors(self, config: Configuration, what: str) -> None:
        issues = lint(config, self.control_types, unchecked_types=self.unchecked_types)
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            lines = "\n".join(f"  {issue} [{issue.code}]" for issue in errors)
            raise StoreError(f"{what} refused: {len(errors)} error(s)\n{lines}", errors)

    # ------------------------------------------------------------------ configurations
    def import_configuration(
        self, config: Configuration, *, actor: str, replace_draft: bool = True
    ) -> VersionInfo:
        """Make ``config`` the draft of ``config.name`` (creating the configuration if new).

        Refused, with the store unchanged, when lint finds errors, when a value cannot be stored, when
        it is larger than :data:`MAX_CONTENT_BYTES`, or when a draft exists and not ``replace_draft``.
        """
        config = versions.revalidated(config)
        size = content.content_size(config)
        if size > self.max_content_bytes:
            raise StoreError(
                f"configuration {config.name!r} is {size / 1e6:.1f} MB; the store takes up to "
                f"{self.max_content_bytes / 1e6:.0f} MB"
            )
        self._lint_errors(config, f"import of {config.name!r}")
        rows = content.content_rows(config)
        digest = content.content_hash(config)
        with self._write() as conn:
            return versions.import_draft(conn, config, rows, digest, actor, replace_draft)

    def draft(self, name: str) -> Configuration | None:
        """The draft of ``name``, or ``None`` when it has none."""
        with self._read() as conn:
            row = versions.version_row(conn, versions.config_row(conn, name).id, "draft")
            return None if row is None else content.read_content(conn, row.id)

    def publish(self, name: str, *, actor: str, message: str = "") -> VersionInfo:
        """Publish the draft of ``name`` as version n+1 (refused on lint errors or no change)."""
        with self._write() as conn:
            return versions.publish(conn, name, actor, message, self._lint_errors)

    def versions(self, name: str) -> list[VersionInfo]:
        """The published versions of ``name`` (oldest first), then its draft if any."""
        with self._read() as conn:
            return versions.list_versions(conn, name)

    def configurations(self) -> list[ConfigurationInfo]:
        """Every configuration, by name."""
        with self._read() as conn:
            return versions.list_configurations(conn)

    def load(self, name: str, version: int | None = None) -> tuple[Configuration, VersionInfo]:
        """A published version of ``name`` (``None``: the latest) and its description."""
        with self._read() as conn:
            _, row = versions.require(conn, name, "latest" if version is None else version)
            return content.read_content(conn, row.id), versions.info(name, row)

    def rollback(self, name: str, version: int, *, actor: str) -> VersionInfo:
        """Publish, as a new version, what version ``version`` of ``name`` held."""
        with self._write() as conn:
            return versions.rollback(conn, name, version, actor)

    def diff(self, name: str, a: int | str, b: int | str) -> list[Change]:
        """What changed from version ``a`` to ``b`` (numbers, or ``"draft"``), per record and field."""
        with self._read() as conn:
            _, row_a = versions.require(conn, name, a)
            _, row_b = versions.require(conn, name, b)
            return diff_configurations(
                content.read_content(conn, row_a.id), content.read_content(conn, row_b.id)
            )

    def clone(self, name: str, new_name: str, *, actor: str) -> VersionInfo:
        """Copy the latest published version (else the draft) of ``name`` as the draft of ``new_name``.

        Users and assignments are not copied (as in USD).
        """
        people.check_name("configuration", new_name)
        with self._write() as conn:
            return versions.clone(conn, name, new_name, actor)

    def delete_draft(self, name: str, *, actor: str) -> None:
        """Throw away the draft of ``name``."""
        with self._write() as conn:
            versions.delete_draft(conn, name, actor)

    # ------------------------------------------------------------------ people
    def add_user(self, name: str, *, display_name: str = "", roles: Sequence[str] = (), actor: str) -> None:
        """Add a user (or update one: a new display name, more roles)."""
        with self._write() as conn:
            people.add_user(conn, name, display_name, roles, actor)

    def add_role(self, name: str, *, description: str = "", actor: str) -> None:
        with self._write() as conn:
            people.add_role(conn, name, description, actor)

    def users(self) -> list[UserInfo]:
        with self._read() as conn:
            return people.list_users(conn)

    def roles(self) -> list[RoleInfo]:
        with self._read() as conn:
            return people.list_roles(conn)

    def assign(
        self,
        configuration: str,
        *,
        user: str | None = None,
        role: str | None = None,
        priority: int = 100,
        actor: str,
    ) -> None:
        """Assign ``configuration`` to a user or a role (replacing its previous assignment)."""
        with self._write() as conn:
            people.assign(conn, configuration, user, role, priority, actor)

    def unassign(self, *, user: str | None = None, role: str | None = None, actor: str) -> None:
        with self._write() as conn:
            people.unassign(conn, user, role, actor)

    def assignments(self) -> list[Assignment]:
        with self._read() as conn:
            return people.list_assignments(conn)

    def set_default(self, configuration: str, *, actor: str) -> None:
        """Make ``configuration`` the one users without an assignment get."""
        with self._write() as conn:
            people.set_default(conn, configuration, actor)

    def resolve(self, user: str) -> tuple[str, VersionInfo] | None:
        """The configuration and published version ``user`` gets, or ``None``."""
        with self._read() as conn:
            return versions.resolve(conn, people.candidates(conn, user))

    def load_for_user(self, user: str) -> tuple[Configuration, VersionInfo]:
        """The published configuration ``user`` gets; :class:`StoreError` when none applies."""
        found = self.resolve(user)
        if found is None:
            raise StoreError(
                f"no published configuration applies to {user!r}: assign one, or publish a default"
            )
        name, info = found
        return self.load(name, info.number)

    def user_settings(self, user: str) -> dict[str, str]:
        """``user``'s own ``$Settings`` (SaveSetting/ReadSettings), by name."""
        with self._read() as conn:
            return people.read_settings(conn, user)

    def save_user_setting(self, user: str, name: str, value: str) -> None:
        with self._write() as conn:
            people.save_setting(conn, user, name, value)

    # ------------------------------------------------------------------ audit and changes
    def audit(self, limit: int = 100) -> list[AuditEntry]:
        """The latest audit rows, newest first."""
        with self._read() as conn:
            return audit.audit_entries(conn, limit)

    def change_seq(self) -> int:
        """The latest change-feed number (0 when nothing changed yet)."""
        with self._read() as conn:
            return audit.latest_seq(conn)

    def changes_since(self, seq: int) -> list[StoreChange]:
        """Change-feed entries after ``seq``, oldest first."""
        with self._read() as conn:
            return audit.changes_since(conn, seq)

    def seed_starter(self, config: Configuration) -> bool:
        """On first run (no configuration at all): import, publish and make ``config`` the default."""
        with self._read() as conn:
            if conn.execute(sa.select(configs_t.c.id).limit(1)).first() is not None:
                return False
        config = versions.revalidated(config)
        self._lint_errors(config, f"seeding {config.name!r}")
        rows = content.content_rows(config)
        digest = content.content_hash(config)
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SEED_LOCK)))
            if conn.execute(sa.select(configs_t.c.id).limit(1)).first() is not None:
                return False
            versions.import_draft(conn, config, rows, digest, SEED_ACTOR, True)
            versions.publish(conn, config.name, SEED_ACTOR, "starter configuration", self._lint_errors)
            people.set_default(conn, config.name, SEED_ACTOR)
        return True
