"""Results lists: the EntityList hosted control, the results table it and the entity form share, and
the form's related sub-lists.

**EntityList** shows the rows of an entity search (``entity_searches`` in the configuration).
Settings:

* ``search``: the name of the search it shows; it also shows every ``DoSearch`` of that search
  (any search when empty) run in its own session (any session when the list is global);
* ``open_in``: a control to run ``Open_CRM_Page`` on when the agent chooses a row;
* ``auto_search``: run the search when the list is created.

Actions: ``Search`` (``name=``, ``page=``, and ``key=value`` lines that the search's replacement
parameters read as ``[[key]]``, beside the session's data; returns the count of every match),
``Clear``, ``NextPage``, ``PreviousPage``. Events: ``SearchCompleted`` (``Count``, ``Name``) and
``RecordSelected`` (``LogicalName``, ``Id``).

Values are formatted for people: dates and times in the local short format, booleans as ✓,
option values as words, lookups as the related record's primary name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QDateTime,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter, SortKey
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError, UsdError
from usd_desktop.data.metadata import EntityMeta, FieldMeta
from usd_desktop.data.services import SearchDone
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import ENTITY_LIST
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.entity_editors import humanise

if TYPE_CHECKING:
    from usd_desktop.core.context import Session
    from usd_desktop.core.dispatcher import CallContext
    from usd_desktop.data.search import SearchResult
    from usd_desktop.data.services import DataServices
    from usd_desktop.hosted_controls.qt.entity_list_widget import EntityListWidget

log = logging.getLogger(__name__)
ModelIndex = QModelIndex | QPersistentModelIndex
#: Lookup names resolved per page at most (each is one read).
MAX_NAME_LOOKUPS = 100
EN_DASH = "\u2013"
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})


# ---------------------------------------------------------------------------------- formatting
def display_text(value: Any, field: FieldMeta | None, names: Mapping[tuple[str, str], str]) -> str:
    """``value`` of ``field`` as an agent reads it in a list."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    locale = QLocale()
    plain = locale.language() == QLocale.Language.C  # no user locale: ISO order, never ambiguous
    if isinstance(value, datetime):
        moment = value.astimezone() if value.tzinfo is not None else value
        if plain:
            return moment.strftime("%Y-%m-%d %H:%M")
        stamp = QDateTime(QDate(moment.year, moment.month, moment.day),
                          QTime(moment.hour, moment.minute, moment.second))
        return locale.toString(stamp, QLocale.FormatType.ShortFormat)
    if isinstance(value, date):
        if plain:
            return value.isoformat()
        return locale.toString(QDate(value.year, value.month, value.day), QLocale.FormatType.ShortFormat)
    if field is not None and field.type == "lookup" and field.lookup:
        return names.get((field.lookup, str(value)), str(value))
    if field is not None and field.options:
        return humanise(str(value))
    if isinstance(value, float):
        return locale.toString(value, "g", 12)
    return str(value)


def page_text(page: int, page_size: int, shown: int, total: int) -> str:
    """``1-50 of 1,234`` with an en dash (or ``No records``)."""
    if total <= 0 or shown <= 0:
        return "No records"
    first = (page - 1) * page_size + 1
    return f"{first:,}{EN_DASH}{first + shown - 1:,} of {total:,}"


# ---------------------------------------------------------------------------------- the table
class ResultsModel(QAbstractTableModel):
    """One page of a search's rows; headers are the fields' labels."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.meta: EntityMeta | None = None
        self.columns: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.names: dict[tuple[str, str], str] = {}

    @property
    def entity(self) -> str:
        return self.meta.name if self.meta is not None else ""

    def set_results(
        self, meta: EntityMeta, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        self.beginResetModel()
        self.meta = meta
        self.columns = [c for c in columns if c in meta.fields and c != "id"] or [meta.primary_name]
        self.rows = [dict(r) for r in rows]
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def record_id(self, row: int) -> str:
        return str(self.rows[row].get("id", "")) if 0 <= row < len(self.rows) else ""

    def lookup_refs(self) -> set[tuple[str, str]]:
        """The ``(entity, id)`` of every lookup value shown whose name is not known yet."""
        if self.meta is None:
            return set()
        refs: set[tuple[str, str]] = set()
        for name in self.columns:
            field = self.meta.fields[name]
            if field.type != "lookup" or not field.lookup:
                continue
            for row in self.rows:
                value = row.get(name)
                if value is not None and (field.lookup, str(value)) not in self.names:
                    refs.add((field.lookup, str(value)))
        return refs

    #: The lookups' names arrived (the table fits its columns again).
    names_resolved = Signal()

    def set_names(self, names: Mapping[tuple[str, str], str]) -> None:
        self.names.update(names)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))
            self.names_resolved.emit()

    # ------------------------------------------------------------------ the model
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.meta is None:
            return None
        name = self.columns[index.column()]
        value = self.rows[index.row()].get(name)
        field = self.meta.fields.get(name)
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(value, field, self.names)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = display_text(value, field, self.names)
            return text if len(text) > 30 else None
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and field is not None and field.type in (
            "integer", "float"
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or self.meta is None:
            return None
        if not 0 <= section < len(self.columns):
            return None
        field = self.meta.fields.get(self.columns[section])
        if role == Qt.ItemDataRole.DisplayRole:
            return field.label if field is not None else self.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section]
        return None


class ResultsTable(QTableView):
    """A dense, read-only table of records; double-click or Enter chooses one (:attr:`record_chosen`)."""

    #: (logical name, id) of the record the agent chose.
    record_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results = ResultsModel(self)
        self.setModel(self.results)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        self.activated.connect(self._activated)
        self.results.modelReset.connect(self._fit_columns)
        self.results.names_resolved.connect(self._fit_columns)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            ident = self.results.record_id(index.row())
            if ident:
                self.record_chosen.emit(self.results.entity, ident)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._activated(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    def _fit_columns(self) -> None:
        """Columns as wide as their contents (within limits); the record's name takes the spare room."""
        header = self.horizontalHeader()
        model = self.results
        meta = model.meta
        stretch = model.columns.index(meta.primary_name) if (
            meta is not None and meta.primary_name in model.columns) else model.columnCount() - 1
        header.setStretchLastSection(False)
        for column in range(model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.resizeColumnsToContents()
        for column in range(model.columnCount()):
            width = header.sectionSize(column)
            header.resizeSection(column, max(70, min(width + 16, 320)))
        if stretch >= 0:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


async def resolve_names(services: DataServices, model: ResultsModel) -> None:
    """Read the primary names of the lookups a page shows (at most :data:`MAX_NAME_LOOKUPS`)."""
    refs = sorted(model.lookup_refs())[:MAX_NAME_LOOKUPS]
    names: dict[tuple[str, str], str] = {}
    for entity, ident in refs:
        meta = services.entities.get(entity)
        try:
            record = await services.get(entity, ident)
        except UsdError:
            continue
        if record is not None and meta is not None:
            names[(entity, ident)] = str(record.get(meta.primary_name) or ident)
    if names:
        try:
            model.set_names(names)
        except RuntimeError:  # the table went away while the names were read
            pass


def snapshot(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a data view (``{"session": {root: {...}}, ...}``) safe to read in a worker thread."""
    out: dict[str, Any] = {}
    for scope, roots in data.items():
        if isinstance(roots, Mapping):
            out[scope] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in roots.items()}
        else:
            out[scope] = roots
    return out


# ---------------------------------------------------------------------------------- sub-lists
@dataclass(frozen=True)
class RelatedSpec:
    """A sub-list of an entity form: the records of ``entity`` whose ``field`` refers to the record."""

    title: str
    entity: str
    field: str
    search: EntitySearch
    open_in: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any], entities: Mapping[str, EntityMeta], where: str) -> RelatedSpec:
        """A ``related`` entry of the settings; :class:`ValueError` naming ``where`` and the problem."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: expected a mapping with title, entity, field, columns")
        entity = str(raw.get("entity", "")).strip()
        field = str(raw.get("field", "")).strip()
        meta = entities.get(entity)
        if meta is None:
            raise ValueError(f"{where}: unknown entity {entity!r}")
        if field not in meta.fields:
            raise ValueError(f"{where}: entity {entity!r} has no field {field!r}")
        columns = [str(c) for c in raw.get("columns") or [meta.primary_name]]
        for column in columns:
            if column not in meta.fields:
                raise ValueError(f"{where}: entity {entity!r} has no field {column!r} (columns)")
        title = str(raw.get("title") or entity)
        try:
            filters = [SearchFilter(field=field, operator="eq", value="[[record_id]]")]
            filters += [SearchFilter.model_validate(f) for f in raw.get("filters") or []]
            search = EntitySearch(
                name=title,
                entity=entity,
                filters=filters,
                columns=columns,
                order_by=_sort_keys(raw.get("order_by")),
                max_count=int(raw.get("max_count", 50)),
            )
        except (ValidationError, ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        return cls(title, entity, field, search, str(raw.get("open_in") or ""))

    def applies_to(self, entity: str, entities: Mapping[str, EntityMeta]) -> bool:
        """Whether the sub-list's ``field`` is a lookup to ``entity`` (or not a lookup at all)."""
        meta = entities.get(self.entity)
        if meta is None or self.field not in meta.fields:
            return False
        target = meta.fields[self.field].lookup
        return target is None or target == entity


def _sort_keys(raw: Any) -> list[SortKey]:
    """``order_by`` as ``"offered_at desc"``, a list of those, or ``[{field, descending}]``."""
    if raw is None or raw == "":
        return []
    items = raw if isinstance(raw, list) else [raw]
    keys: list[SortKey] = []
    for item in items:
        if isinstance(item, Mapping):
            keys.append(SortKey.model_validate(item))
            continue
        for part in str(item).split(","):
            words = part.split()
            if words:
                descending = len(words) > 1 and words[1].lower() in ("desc", "descending")
                keys.append(SortKey(field=words[0], descending=descending))
    return keys


#: The sub-lists of a form when its settings have no ``related``.
DEFAULT_RELATED: dict[str, list[dict[str, Any]]] = {
    "contact": [
        {"title": "Open cases", "entity": "case", "field": "contact_id",
         "columns": ["case_number", "title", "status", "priority", "due_at"],
         "filters": [{"field": "status", "operator": "ne", "value": "closed"}],
         "order_by": "due_at"},
        {"title": "Interactions", "entity": "interaction", "field": "contact_id",
         "columns": ["offered_at", "channel", "direction", "subject", "queue", "disposition"],
         "order_by": "offered_at desc", "max_count": 20},
    ],
    "account": [
        {"title": "Open cases", "entity": "case", "field": "account_id",
         "columns": ["case_number", "title", "status", "priority", "due_at"],
         "filters": [{"field": "status", "operator": "ne", "value": "closed"}],
         "order_by": "due_at"},
        {"title": "Interactions", "entity": "interaction", "field": "account_id",
         "columns": ["offered_at", "channel", "direction", "subject", "queue", "disposition"],
         "order_by": "offered_at desc", "max_count": 20},
    ],
    "case": [
        {"title": "Interactions", "entity": "interaction", "field": "case_id",
         "columns": ["offered_at", "channel", "direction", "subject", "agent", "disposition"],
         "order_by": "offered_at desc"},
        {"title": "Notes", "entity": "note", "field": "case_id",
         "columns": ["created_at", "subject", "author", "body"], "order_by": "created_at desc"},
    ],
}


class RelatedList(QWidget):
    """One sub-list of a form: a results table of the records related to the form's record."""

    def __init__(self, spec: RelatedSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"related_{spec.title}")
        self.table = ResultsTable(self)
        self.status = QLabel(self)
        self.status.setObjectName("relatedStatus")
        self.status.setContentsMargins(4, 0, 4, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.total = 0
        self.loads = 0
        self._token = 0

    @property
    def model(self) -> ResultsModel:
        return self.table.results

    def caption(self) -> str:
        return f"{self.spec.title} ({self.total:,})" if self.loads else self.spec.title

    async def load(self, services: DataServices, record_id: str, data: Mapping[str, Any]) -> bool:
        """Show the records related to ``record_id``; ``False`` when a newer load overtook this one."""
        self._token += 1
        token = self._token
        self.status.setText("Loading…")
        params = snapshot(data)
        params["event"] = {**params.get("event", {}), "record_id": record_id}
        try:
            result: SearchResult = await services.search(self.spec.search, params, announce=False)
        except UsdError as exc:
            if token == self._token:
                self.status.setText(f"Cannot show {self.spec.title}: {exc}")
            return False
        if token != self._token:
            return False
        meta = services.entities[self.spec.entity]
        self.model.set_results(meta, self.spec.search.columns, result.rows)
        self.total = result.total
        self.loads += 1
        shown = len(result.rows)
        if result.total > shown:
            self.status.setText(f"{shown:,} of {result.total:,} shown")
        else:
            self.status.setText("" if shown else f"No {self.spec.title[:1].lower()}{self.spec.title[1:]}.")
        self.status.setVisible(bool(self.status.text()))
        await resolve_names(services, self.model)
        return True

    def clear(self) -> None:
        self._token += 1
        self.model.clear()
        self.total = 0
        self.loads = 0
        self.status.setText("")


# ---------------------------------------------------------------------------------- the control
class EntityList(QtHostedControl):
    """The results of an entity search; choosing a row opens the record."""

    control_type = ENTITY_LIST

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.search: EntitySearch | None = None
        self.params: dict[str, Any] = {}
        self.page = 1
        self.result: SearchResult | None = None
        self.searching = False
        self._token = 0
        self._origin: Session | None = None  # the session the shown results were searched in
        services = self.env.data
        if services is not None:
            self.keep(services.searched.connect(self._on_searched))
            if _truthy(self.settings.get("auto_search")) and self.search_name:
                self.env.spawn(self._auto_search(), session=self.session)

    @property
    def search_name(self) -> str:
        return str(self.settings.get("search") or "").strip()

    @property
    def quick_find_parameter(self) -> str:
        """The ``quick_find`` setting: the parameter (``[[query]]``) the find box gives the search."""
        return str(self.settings.get("quick_find") or "").strip()

    @property
    def list_widget(self) -> EntityListWidget | None:
        from usd_desktop.hosted_controls.qt.entity_list_widget import EntityListWidget

        widget = self._widget
        return widget if isinstance(widget, EntityListWidget) else None

    def quick_find(self, text: str) -> None:
        """The agent typed in the find box: run ``Search`` with the text as the quick-find parameter."""
        name = self.search_name
        if not name or not self.quick_find_parameter:
            return
        lines = f"name={name}\n{self.quick_find_parameter}={' '.join(text.split())}"
        # literal: what the agent typed is a value, never replacement parameters to expand
        self.env.spawn(self.env.dispatcher.run_action(self.name, "Search", lines, session=self.session,
                                                      literal=True), session=self.session)

    def create_widget(self) -> QWidget:
        from usd_desktop.hosted_controls.qt.entity_list_widget import EntityListWidget

        widget = EntityListWidget(
            self, quick_find=self.quick_find_parameter,
            placeholder=str(self.settings.get("placeholder") or ""),
        )
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self._render()
        return widget

    def _widget_destroyed(self, widget: QWidget) -> None:
        if self._widget is widget:
            self._widget = None

    def table(self) -> ResultsTable:
        from usd_desktop.hosted_controls.qt.entity_list_widget import EntityListWidget

        widget = self.widget()
        assert isinstance(widget, EntityListWidget)
        return widget.table

    # ------------------------------------------------------------------ searching
    def _find_search(self, name: str) -> EntitySearch:
        searches = self.env.config.entity_searches_by_name
        found = searches.get(name)
        if found is None:
            folded = {k.casefold(): v for k, v in searches.items()}
            found = folded.get(name.casefold())
        if found is None:
            known = ", ".join(searches) or "none configured"
            raise ActionError(f"{self.name}: no entity search named {name!r} (searches: {known})")
        return found

    async def _auto_search(self) -> None:
        try:
            search = self._find_search(self.search_name)
            data = self.env.dispatcher.sessions.data_for(self.session)
            await self._run(search, snapshot(data), 1)
        except UsdError as exc:
            self._show_status(str(exc))

    async def _run(self, search: EntitySearch, params: dict[str, Any], page: int) -> int:
        services = self.data_services()
        self._token += 1
        token = self._token
        self.searching = True
        self._show_status("Searching…")
        try:
            result = await services.search(search, params, page=page, session=self.session,
                                           announce=False)
        except UsdError as exc:
            if token == self._token:
                self.searching = False
                self._show_status(str(exc))
            raise ActionError(f"{self.name}: search {search.name!r}: {exc}") from None
        if token != self._token:
            return result.total
        self._show(search, result, page, self.session)
        self.params = params
        return result.total

    def _show(self, search: EntitySearch, result: SearchResult, page: int, origin: Session | None) -> None:
        self.search = search
        self.result = result
        self.page = page
        self.searching = False
        self._origin = origin
        self._render()
        self.raise_event("SearchCompleted", {"Count": result.total, "Name": search.name})

    def _on_searched(self, done: SearchDone) -> None:
        if self.closed:
            return
        if not self.session.is_global and done.session is not self.session:
            return
        if not done.search:  # ClearEntityList
            self._clear()
            return
        wanted = self.search_name
        if wanted and done.search.casefold() != wanted.casefold():
            return
        search = self.env.config.entity_searches_by_name.get(done.search)
        if search is None:
            search = EntitySearch(name=done.search, entity=done.entity)
        if len(done.result.rows) > search.max_count:  # DoSearch maxcount= made the pages longer
            search = search.model_copy(update={"max_count": len(done.result.rows)})
        self._token += 1  # a search of our own still running gives way to this one
        data = self.env.dispatcher.sessions.data_for(done.session or self.session)
        self.params = snapshot(data)
        self._show(search, done.result, done.page, done.session)

    # ------------------------------------------------------------------ showing
    def _render(self) -> None:
        widget = self.list_widget
        if widget is None:
            return
        search, result = self.search, self.result
        services = self.env.data
        if search is None or result is None or services is None:
            widget.table.results.clear()
            widget.title.setText(search.name if search is not None else self.search_name)
            widget.pages.setText("")
            widget.previous.setEnabled(False)
            widget.next.setEnabled(False)
            return
        meta = services.entities.get(search.entity)
        if meta is not None:
            widget.table.results.set_results(meta, search.columns or [meta.primary_name], result.rows)
            if widget.table.results.lookup_refs():
                self.env.spawn(resolve_names(services, widget.table.results), session=self.session)
        widget.title.setText(search.name)
        widget.pages.setText(page_text(self.page, search.max_count, len(result.rows), result.total))
        widget.previous.setEnabled(self.page > 1)
        widget.next.setEnabled(self.page * search.max_count < result.total)
        widget.show_status("" if result.total else "No records match.")

    def _show_status(self, text: str) -> None:
        widget = self.list_widget
        if widget is not None:
            widget.show_status(text)

    # ------------------------------------------------------------------ choosing a row
    def choose(self, entity: str, ident: str) -> None:
        """The agent chose a row: ``RecordSelected``, then ``Open_CRM_Page`` on ``open_in``."""
        self.raise_event("RecordSelected", {"LogicalName": entity, "Id": ident})
        target = str(self.settings.get("open_in") or "").strip()
        if not target:
            return
        session = self.session
        if session.is_global:
            origin = self._origin
            sessions = self.env.dispatcher.sessions
            session = origin if origin is not None and sessions.get(origin.id) is origin else sessions.active
        self.env.spawn(
            self.env.dispatcher.run_action(target, "Open_CRM_Page", f"LogicalName={entity}\nid={ident}",
                                           session=session, literal=True),
            session=session,
        )

    def run_own(self, action: str) -> None:
        """Run one of this list's actions through the dispatcher (buttons), so the trace shows it."""
        self.env.spawn(self.env.dispatcher.run_action(self.name, action, session=self.session),
                       session=self.session)

    # ------------------------------------------------------------------ UII actions
    @uii_action("Search")
    async def search_action(self, data: ActionData, call: CallContext) -> str:
        name = (data.take("name") or self.search_name).strip()
        if not name:
            raise ActionError(f"{self.name}: Search needs name=<entity search> (or the search setting)")
        search = self._find_search(name)
        page = _page(data.take("page"))
        event = {**call.event, **data.as_dict()}
        params = snapshot(call.dispatcher.sessions.data_for(call.session, event))
        return str(await self._run(search, params, page))

    @uii_action("Clear")
    def clear(self, data: ActionData, call: CallContext) -> None:
        self._clear()

    def _clear(self) -> None:
        self._token += 1
        self.search = None
        self.result = None
        self.page = 1
        self.searching = False
        self._render()
        self._show_status("")

    @uii_action("NextPage")
    async def next_page(self, data: ActionData, call: CallContext) -> str:
        return await self._turn(+1)

    @uii_action("PreviousPage")
    async def previous_page(self, data: ActionData, call: CallContext) -> str:
        return await self._turn(-1)

    async def _turn(self, step: int) -> str:
        search, result = self.search, self.result
        if search is None or result is None:
            raise ActionError(f"{self.name}: no search results to page through")
        page = self.page + step
        last = max(1, -(-result.total // search.max_count))
        if page < 1 or page > last:
            return str(result.total)
        return str(await self._run(search, self.params, page))

    def close(self) -> None:
        self._token += 1
        super().close()


def _page(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return 1
    try:
        page = int(raw.strip())
    except ValueError:
        raise ActionError(f"Search: page={raw!r} is not a page number") from None
    if page < 1:
        raise ActionError(f"Search: page={page} (pages start at 1)")
    return page


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in TRUE_WORDS if value is not None else False


__all__ = [
    "DEFAULT_RELATED",
    "EntityList",
    "RelatedList",
    "RelatedSpec",
    "ResultsModel",
    "ResultsTable",
    "display_text",
    "page_text",
    "resolve_names",
    "snapshot",
]
