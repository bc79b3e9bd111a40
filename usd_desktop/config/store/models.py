"""The plain values the store API returns (frozen dataclasses, no database objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

VersionState = Literal["draft", "published"]
ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a configuration. A draft has ``number`` 0; published ones count from 1."""

    configuration: str
    number: int
    state: VersionState
    content_hash: str
    created_at: datetime
    created_by: str
    published_at: datetime | None = None
    published_by: str | None = None
    message: str = ""

    @property
    def label(self) -> str:
        """``Starter v3`` or ``Starter draft``."""
        return f"{self.configuration} {'draft' if self.state == 'draft' else f'v{self.number}'}"


@dataclass(frozen=True, slots=True)
class ConfigurationInfo:
    """A configuration: its latest published version number (``None`` if none) and its draft."""

    name: str
    description: str
    is_default: bool
    created_at: datetime
    created_by: str
    latest: int | None = None
    has_draft: bool = False


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    display_name: str
    created_at: datetime
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleInfo:
    name: str
    description: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assignment:
    """A configuration assigned to a user or to a role (``priority``: lowest wins among roles)."""

    kind: Literal["user", "role"]
    principal: str
    configuration: str
    priority: int = 100


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when: ``action`` is ``import``, ``publish``, ``assign``..., ``target`` what."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoreChange:
    """An entry of the change feed: what agents react to (a publication, an assignment...).

    ``kind`` is ``publish``, ``rollback``, ``assign``, ``unassign``, ``set_default`` or
    ``users``; :func:`~usd_desktop.config.store.notify.listen_changes` also reports
    ``reconnected`` (notifications may have been missed: check again).
    """

    seq: int | None
    kind: str
    configuration: str
    version: int | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions.

    ``entity`` is the configuration field (``action_calls``, ``options``, or ``configuration`` for
    its own fields), ``record`` the record's name or key, ``field`` the field (``None`` when the
    whole record was added or removed; a nested record is ``buttons[Search]``), ``old``/``new``
    the values (``None`` on the missing side).
    """

    kind: ChangeKind
    entity: str
    record: str
    field: str | None
    old: Any = None
    new: Any = None
