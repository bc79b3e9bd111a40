"""Opening the service-desk data for the desktop (part of the composition root, Qt-free).

The embedded default is a SQLite file in the user data directory; the first time it is created it
gets a small multilingual demo set (so a fresh desktop has customers to search, open and edit).
A data source that cannot be opened is reported as a problem and the desktop starts without it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from usd_desktop.data.drafts import DraftStore, default_drafts_path
from usd_desktop.data.errors import DataError
from usd_desktop.data.location import default_data_path, default_data_url, resolve_data_url
from usd_desktop.data.services import DataServices

log = logging.getLogger(__name__)

#: Customers the first run of the embedded default gets.
FIRST_RUN_CUSTOMERS = 250


@dataclass
class OpenedData:
    services: DataServices | None
    problems: list[str] = field(default_factory=list)
    seeded: int = 0


def _is_new_embedded(url: str) -> bool:
    if url != default_data_url():
        return False
    return not default_data_path().exists()


def open_data(url: str | None, username: str, *, demo: bool = True) -> OpenedData:
    """The data services for ``username`` at ``url`` (default: ``USD_DESKTOP_DATA`` or embedded)."""
    from usd_desktop.data.knowledge import KnowledgeSearch
    from usd_desktop.data.repository import SqlRepository

    target = resolve_data_url(url)
    seed = demo and _is_new_embedded(target)
    try:
        repo = SqlRepository(target)
    except DataError as exc:
        log.error("service-desk data: %s", exc)
        return OpenedData(None, [f"service-desk data: {exc}"])
    seeded = 0
    if seed:
        from usd_desktop.data import demo as demo_data

        started = time.perf_counter()
        counts = demo_data.generate(repo, FIRST_RUN_CUSTOMERS)
        seeded = FIRST_RUN_CUSTOMERS
        log.info("first run: created demo data %s in %.2f s", counts, time.perf_counter() - started)
    try:
        drafts = DraftStore(default_drafts_path(username))
    except DataError as exc:
        log.error("%s; drafts are kept in memory only", exc)
        drafts = DraftStore(":memory:")
    services = DataServices(repo, knowledge=KnowledgeSearch(repo), drafts=drafts, user=username)
    return OpenedData(services, [], seeded)
