"""What the configuration store raises. Each message says what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from usd_desktop.core.errors import UsdError

if TYPE_CHECKING:
    from usd_desktop.config.loader import ConfigIssue


class StoreError(UsdError):
    """The store refused an operation or could not be reached.

    ``issues`` holds the lint findings when a configuration was refused because of them.
    """

    def __init__(self, message: str, issues: Sequence[ConfigIssue] = ()) -> None:
        self.issues = list(issues)
        super().__init__(message)


class StoreTooNew(StoreError):
    """The store was migrated by a newer usd_desktop than this one."""

    def __init__(self, url: str, revision: str, known: str) -> None:
        self.revision = revision
        self.known = known
        super().__init__(
            f"the store at {url} was upgraded by a newer usd_desktop (revision {revision}); "
            f"this client knows up to {known} — upgrade usd_desktop"
        )


class StoreNeedsUpgrade(StoreError):
    """The store's schema is older than this client's and may not be upgraded implicitly."""

    def __init__(self, url: str, revision: str | None, head: str) -> None:
        self.revision = revision
        self.head = head
        super().__init__(
            f"the store at {url} has schema revision {revision or 'none'}; this usd_desktop needs {head}. "
            "An administrator upgrades it with `usd-admin store upgrade`"
        )
