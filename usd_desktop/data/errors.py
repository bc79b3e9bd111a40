"""Errors of the service-desk data layer."""

from __future__ import annotations

from usd_desktop.core.errors import UsdError


class DataError(UsdError):
    """A record, entity, field or value the data layer refuses; the message names them."""


class DataTooNew(DataError):
    """The data database has a schema revision this client does not know (a newer client made it)."""

    def __init__(self, url: str, revision: str, head: str) -> None:
        super().__init__(
            f"the data database at {url} is at schema revision {revision}, newer than this client's "
            f"{head}: update usd_desktop"
        )
        self.revision = revision
        self.head = head
