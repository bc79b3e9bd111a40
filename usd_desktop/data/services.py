"""The service-desk data as the desktop's controls and actions use it (Qt-free).

:class:`DataServices` wraps a :class:`~usd_desktop.data.repository.Repository` (the SQL default or a
partner's CRM) and adds what every caller needs the same way:

- every call runs in a worker thread (``await services.get(...)``), so a slow database never
  freezes the agent's window;
- the case lifecycle (:mod:`usd_desktop.data.lifecycle`) is checked on every write, whoever writes
  (an entity form, ``UpdateEntity``, a partner's control);
- :attr:`DataServices.changed` tells every listener (sub-lists, history, the Global Manager's case
  events) what was created, updated or deleted, on the event loop's thread;
- the configuration's custom fields and option values (:meth:`DataServices.configure`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from usd_desktop.core.signals import Signal
from usd_desktop.data import lifecycle
from usd_desktop.data.drafts import DraftStore
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta
from usd_desktop.data.repository import CustomerMatch, Repository, SearchResult

if TYPE_CHECKING:
    from usd_desktop.config.schema import Configuration, EntitySearch
    from usd_desktop.core.context import Session
    from usd_desktop.data.knowledge import ArticleHit, KnowledgeSearch

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

#: Worker threads for data calls (SQLite writes serialise anyway; reads overlap a little).
WORKERS = 4

ChangeKind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True)
class RecordChange:
    """A record written through :class:`DataServices`.

    ``values`` are the fields written (for ``created``: the whole new record as read back);
    ``before`` the record as it was (``None`` when created); ``transitions`` the case lifecycle
    steps the change made (``resolved``, ``closed``, ``escalated``, ``reopened``...); ``session``
    the customer session the change was made from, if any.
    """

    entity: str
    id: str
    kind: ChangeKind
    values: Mapping[str, Any] = field(default_factory=dict)
    before: Mapping[str, Any] | None = None
    transitions: tuple[lifecycle.Transition, ...] = ()
    session: Session | None = None


@dataclass(frozen=True)
class SearchDone:
    """A ``DoSearch`` (or a results-list search) finished: who may show it."""

    search: str
    entity: str
    result: SearchResult
    page: int
    session: Session | None = None


class DataServices:
    """The repository, knowledge search and record notifications for one desktop."""

    def __init__(
        self,
        repository: Repository,
        *,
        knowledge: KnowledgeSearch | None = None,
        drafts: DraftStore | None = None,
        user: str = "",
    ) -> None:
        self.repository = repository
        self.knowledge = knowledge
        #: Crash-safe drafts of what the agent types (notes, unsaved form edits).
        self.drafts = drafts if drafts is not None else DraftStore(":memory:")
        self.user = user
        self.changed: Signal[RecordChange] = Signal("data.changed")
        self.searched: Signal[SearchDone] = Signal("data.searched")
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="usd-data")

    # ------------------------------------------------------------------ configuration
    def configure(self, config: Configuration) -> list[str]:
        """Apply the configuration's custom fields and option values; returns the problems found.

        A repository without ``configure`` (a partner's CRM with its own metadata) ignores them.
        Each problem names the record (``custom_fields[2] "loyalty_tier"``) and what is wrong.
        """
        configure = getattr(self.repository, "configure", None)
        if configure is None:
            return []
        try:
            return list(configure(config.custom_fields, config.option_values))
        except DataError as exc:
            return [str(exc)]

    @property
    def entities(self) -> Mapping[str, EntityMeta]:
        return self.repository.entities

    # ------------------------------------------------------------------ running off the loop
    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking data call in one of these services' worker threads and return its result.

        The threads are these services' own (not the loop's default executor), so :meth:`close`
        can wait for them: no worker outlives the services and reports to a loop that is gone.
        """
        loop = asyncio.get_running_loop()
        work = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, work)

    # ------------------------------------------------------------------ reads
    async def get(self, entity: str, id: str) -> dict[str, Any] | None:
        return await self.call(self.repository.get, entity, id)

    async def search(
        self,
        search: EntitySearch,
        params: Mapping[str, Any] | None = None,
        *,
        page: int = 1,
        session: Session | None = None,
        announce: bool = True,
    ) -> SearchResult:
        """Run ``search``; with ``announce`` tell :attr:`searched` listeners (results lists)."""
        result = await self.call(self.repository.search, search, params or {}, page=page)
        if announce:
            self.searched.emit(SearchDone(search.name, search.entity, result, page, session))
        return result

    async def find_customers_by_phone(self, number: str) -> list[CustomerMatch]:
        return await self.call(self.repository.find_customers_by_phone, number)

    async def search_knowledge(
        self, query: str, *, language: str | None = None, limit: int = 10
    ) -> list[ArticleHit]:
        if self.knowledge is None:
            raise DataError("knowledge search needs the SQL data repository")
        return await self.call(self.knowledge.search, query, language=language, limit=limit)

    # ------------------------------------------------------------------ writes
    async def create(
        self, entity: str, values: Mapping[str, Any], *, session: Session | None = None
    ) -> str:
        """Create a record (lifecycle-checked); returns its id and announces the change."""
        checked, transitions = lifecycle.check(entity, None, values, user=self.user)
        new_id = await self.call(self.repository.create, entity, checked)
        record = await self.get(entity, new_id) or dict(checked, id=new_id)
        # the repository fills in what the check could not know yet (id, case number, defaults)
        transitions = tuple(replace(t, case={**t.case, **record}) for t in transitions)
        self.changed.emit(RecordChange(entity, new_id, "created", record, None, transitions, session))
        return new_id

    async def update(
        self, entity: str, id: str, values: Mapping[str, Any], *, session: Session | None = None
    ) -> dict[str, Any]:
        """Update a record (lifecycle-checked against its current state); returns it as saved."""
        before = await self.get(entity, id)
        if before is None:
            raise DataError(f"entity {entity!r} has no record {id!r} to update")
        checked, transitions = lifecycle.check(entity, before, values, user=self.user)
        await self.call(self.repository.update, entity, id, checked)
        after = await self.get(entity, id) or {**before, **checked}
        self.changed.emit(RecordChange(entity, id, "updated", checked, before, transitions, session))
        return after

    async def delete(self, entity: str, id: str, *, session: Session | None = None) -> None:
        before = await self.get(entity, id)
        await self.call(self.repository.delete, entity, id)
        self.changed.emit(RecordChange(entity, id, "deleted", {}, before, (), session))

    # ------------------------------------------------------------------ background upkeep
    async def index_knowledge(self) -> int:
        """Bring the knowledge index up to date in a worker thread; returns articles indexed."""
        if self.knowledge is None:
            return 0
        return await self.call(self.knowledge.sync, stop=self._stop)

    def knowledge_backlog(self) -> int:
        """Articles waiting to be indexed (blocking; cheap)."""
        return 0 if self.knowledge is None else self.knowledge.pending()

    def close(self) -> None:
        self._stop.set()  # a background index stops after its current chunk
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.drafts.close()
        close = getattr(self.repository, "close", None)
        if close is not None:
            close()

