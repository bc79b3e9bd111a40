"""Interaction History: one timeline of a customer's interactions, cases and notes across channels.

Newest first, grouped by day. An interaction shows its channel and direction, subject, queue,
agent, duration, hold, disposition, first-contact resolution, transfers and linked case (the
details pane under the list has every time); a case shows when it was opened and when it was
resolved or closed, with its status; a note its subject or first line and author. Filter chips
choose the channels (interactions) and the kinds shown.

The customer is the session's ``[[contact.id]]``, else ``[[account.id]]``, followed as the session
loads another (a global History follows the active session), or the one given to ``Load``. An
account's timeline includes its contacts' records. One query per kind reads at most
:data:`~.history_model.MAX_PER_KIND` records each; the list shows them a page at a time. Records
of the customer written through the data services (``DataServices.changed``) refresh it.

Actions: ``Load`` (``LogicalName=contact|account``, ``id=``; returns the item count), ``Refresh``,
``Filter`` (``channels=phone,email``, ``kinds=interaction,case,note``; ``all`` or blank for every
one; returns the count shown). Event: ``ItemSelected`` (``LogicalName``, ``Id``, ``CaseId``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.core.context import ChangeSet
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.data.errors import DataError
from usd_desktop.data.models_work import CHANNELS
from usd_desktop.data.services import DataServices, RecordChange
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import INTERACTION_HISTORY
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.history_model import (
    CHANNEL_LABELS,
    CUSTOMERS,
    KIND_LABELS,
    KINDS,
    MAX_PER_KIND,
    TimelineItem,
    build_items,
    cases_by_id_search,
    contacts_search,
    day_label,
    kind_search,
    matches,
    parse_choice,
)

log = logging.getLogger(__name__)

#: Items added to the list at a time ("Show older" adds the next page).
PAGE = 150
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
COLOURS = {
    "phone": "#2e7d32", "email": "#1565c0", "chat": "#6a1b9a", "sms": "#ef6c00", "web": "#00838f",
    "case": "#c62828", "note": "#6d4c41",
}
LETTERS = {"phone": "P", "email": "E", "chat": "C", "sms": "S", "web": "W", "case": "#", "note": "N"}
_icons: dict[str, QIcon] = {}


def icon_for(name: str) -> QIcon:
    """A small round badge in the channel's (or kind's) colour with its letter."""
    found = _icons.get(name)
    if found is None:
        pixmap = QPixmap(32, 32)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(COLOURS.get(name, "#757575")))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(1, 1, 30, 30)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(17)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(pixmap.rect(), int(Qt.AlignmentFlag.AlignCenter), LETTERS.get(name, "?"))
        painter.end()
        found = _icons[name] = QIcon(pixmap)
    return found


class HistoryWidget(QWidget):
    """Header, filter chips, the day-grouped timeline, "Show older" and the details pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        head = QHBoxLayout()
        self.header = QLabel("No customer loaded", self)
        font = self.header.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.header.setFont(font)
        self.status = QLabel(self)
        self.status.setStyleSheet("color: #666;")
        self.refresh_button = QPushButton("Refresh", self)
        head.addWidget(self.header, 1)
        head.addWidget(self.status)
        head.addWidget(self.refresh_button)
        layout.addLayout(head)

        chips = QHBoxLayout()
        chips.setSpacing(4)
        self.channel_chips: dict[str, QToolButton] = {}
        self.kind_chips: dict[str, QToolButton] = {}
        for channel in CHANNELS:
            self.channel_chips[channel] = self._chip(CHANNEL_LABELS.get(channel, channel), channel)
            chips.addWidget(self.channel_chips[channel])
        chips.addSpacing(12)
        for kind in KINDS:
            self.kind_chips[kind] = self._chip(KIND_LABELS[kind], kind if kind != "interaction" else "")
            chips.addWidget(self.kind_chips[kind])
        chips.addStretch(1)
        layout.addLayout(chips)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Time", "Channel", "What", "Details"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 260)
        layout.addWidget(self.tree, 1)

        self.more_button = QPushButton(self)
        self.more_button.hide()
        layout.addWidget(self.more_button)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet("background: palette(base); border: 1px solid palette(mid); padding: 6px;")
        self.details.setMinimumHeight(60)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setText("Select an item to see all of it.")
        layout.addWidget(self.details)

    def _chip(self, text: str, icon: str) -> QToolButton:
        chip = QToolButton(self)
        chip.setText(text)
        chip.setCheckable(True)
        chip.setChecked(True)
        chip.setAutoRaise(False)
        if icon:
            chip.setIcon(icon_for(icon))
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        chip.setStyleSheet(
            "QToolButton { border: 1px solid #b0b0b0; border-radius: 10px; padding: 2px 8px; color: #777; }"
            " QToolButton:checked { background: #e3ecfa; border-color: #5b8bd0; color: #1a3d6e; }"
        )
        return chip


class InteractionHistory(QtHostedControl):
    """The customer's timeline (see the module doc)."""

    control_type = INTERACTION_HISTORY
    task_failure = "loading the history failed"
    #: Seconds a burst of record changes is gathered before one refresh.
    REFRESH_DELAY = 0.2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer: tuple[str, str] | None = None
        self.customer_name = ""
        self.contact_ids: frozenset[str] = frozenset()
        self.items: list[TimelineItem] = []
        self.totals: dict[str, int] = {}
        self.channels: frozenset[str] = frozenset(CHANNELS)
        self.kinds: frozenset[str] = frozenset(KINDS)
        self.loading = False
        self.error = ""
        self._shown = 0  # how many of the visible items are in the list
        self._generation = 0
        self._auto_key: tuple[str, str] | None = None
        self._refresh_timer: asyncio.TimerHandle | None = None
        sessions = self.env.dispatcher.sessions
        self.follow_context(self._on_context_changed)
        if self.session.is_global:
            self.keep(sessions.active_changed.connect(lambda _s: self._follow_session()))
        services = self.env.data
        if services is not None:
            self.keep(services.changed.connect(self._on_record_changed))
        self._follow_session()

    # ------------------------------------------------------------------ helpers



    def visible_items(self) -> list[TimelineItem]:
        """The items the filter lets through, newest first."""
        return [item for item in self.items if matches(item, self.channels, self.kinds)]

    # ------------------------------------------------------------------ following the session
    def _session_customer(self) -> tuple[str, str] | None:
        store = self.context_session().store
        for entity in CUSTOMERS:
            value = store.get(entity, "id")
            if value:
                return (entity, value)
        return None

    def _on_context_changed(self, change: ChangeSet) -> None:
        if not self.closed and change.session_id == self.context_session().id and (
            change.roots & set(CUSTOMERS)
        ):
            self._follow_session()

    def _follow_session(self) -> None:
        if self.closed or self.env.data is None:
            return
        wanted = self._session_customer()
        if wanted is not None and wanted != self._auto_key:
            self._auto_key = wanted
            if wanted != self.customer:
                self.start_task(self.load(*wanted))

    # ------------------------------------------------------------------ loading
    def _services(self) -> DataServices:
        return self.data_services()

    async def load(self, entity: str, id: str) -> int:
        """Read the timeline of ``entity``/``id``; returns the number of items (before filtering)."""
        entity = entity.strip().lower()
        if entity not in CUSTOMERS:
            raise ActionError(f"{self.name}: Load needs LogicalName=contact or account, not {entity!r}")
        services = self._services()
        self._generation += 1
        generation = self._generation
        if self.customer != (entity, id):
            self.customer = (entity, id)
            self.customer_name = ""
            self.items = []
            self.totals = {}
        self.loading = True
        self.error = ""
        self._render()
        try:
            record = await services.get(entity, id)
            if record is None:
                raise ActionError(f"{self.name}: there is no {entity} record {id!r}")
            contact_ids: list[str] = []
            if entity == "account":
                found = await services.search(contacts_search(id), announce=False)
                contact_ids = [str(row["id"]) for row in found.rows]
            results = {}
            for kind in KINDS:  # one query per kind
                results[kind] = await services.search(kind_search(kind, entity, id, contact_ids),
                                                      announce=False)
            numbers = {str(row["id"]): str(row.get("case_number") or "") for row in results["case"].rows}
            linked = {str(row["case_id"]) for kind in ("interaction", "note") for row in results[kind].rows
                      if row.get("case_id")} - set(numbers)
            if linked:
                other = await services.search(cases_by_id_search(sorted(linked)), announce=False)
                numbers.update({str(row["id"]): str(row.get("case_number") or "") for row in other.rows})
        except (ActionError, DataError) as exc:
            if generation == self._generation:
                self.loading = False
                self.error = str(exc)
                self._render()
            raise ActionError(str(exc)) from None
        if generation != self._generation or self.closed:
            return len(self.items)  # a newer load replaced this one
        self.customer_name = str(record.get("full_name") or record.get("name") or "")
        self.contact_ids = frozenset(contact_ids)
        self.items = build_items(results["interaction"].rows, results["case"].rows, results["note"].rows,
                                 numbers)
        self.totals = {kind: results[kind].total for kind in KINDS}
        self.loading = False
        self._render()
        return len(self.items)

    async def refresh(self) -> int:
        if self.customer is None:
            return 0
        return await self.load(*self.customer)

    def _on_record_changed(self, change: RecordChange) -> None:
        if self.closed or self.customer is None or change.entity not in KINDS:
            return
        entity, id = self.customer
        mine = False
        for record in (change.values, change.before or {}):
            if str(record.get(f"{entity}_id") or "") == id or (
                entity == "account" and str(record.get("contact_id") or "") in self.contact_ids
            ):
                mine = True
        if mine or any(item.id == change.id for item in self.items):
            self._request_refresh()

    def _request_refresh(self) -> None:
        if self._refresh_timer is not None:
            return  # one refresh for a burst of changes

        def fire() -> None:
            self._refresh_timer = None
            if not self.closed:
                self.start_task(self.refresh())

        self._refresh_timer = asyncio.get_event_loop().call_later(self.REFRESH_DELAY, fire)

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = HistoryWidget()
        widget.refresh_button.clicked.connect(lambda: self.start_task(self.refresh()))
        widget.more_button.clicked.connect(self._show_more)
        widget.tree.currentItemChanged.connect(self._current_changed)
        for channel, chip in widget.channel_chips.items():
            chip.toggled.connect(lambda on, c=channel: self._toggle("channel", c, on))
        for kind, chip in widget.kind_chips.items():
            chip.toggled.connect(lambda on, k=kind: self._toggle("kind", k, on))
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self._render()
        return widget

    def _widget_destroyed(self, widget: HistoryWidget) -> None:
        if self._widget is widget:
            self._widget = None

    @property
    def history_widget(self) -> HistoryWidget | None:
        widget = self._widget
        return widget if isinstance(widget, HistoryWidget) else None

    def _toggle(self, what: str, name: str, on: bool) -> None:
        if what == "channel":
            self.channels = self.channels | {name} if on else self.channels - {name}
        else:
            self.kinds = self.kinds | {name} if on else self.kinds - {name}
        self._render()

    def _header_text(self) -> str:
        if self.customer is None:
            return "No customer loaded"
        who = self.customer_name or f"{self.customer[0]} {self.customer[1]}"
        return f"History of {who}"

    def _status_text(self) -> str:
        if self.error:
            return f"Could not load: {self.error}"
        if self.loading and not self.items:
            return "Loading…"
        if self.customer is None:
            return ""
        counts = []
        for kind in KINDS:
            total = self.totals.get(kind, 0)
            noun = KIND_LABELS[kind].lower()
            noun = noun[:-1] if total == 1 else noun
            more = f" (newest {MAX_PER_KIND} shown)" if total > MAX_PER_KIND else ""
            counts.append(f"{total} {noun}{more}")
        return ", ".join(counts) + (" · refreshing…" if self.loading else "")

    def _render(self) -> None:
        widget = self.history_widget
        if widget is None:
            return
        widget.header.setText(self._header_text())
        widget.status.setText(self._status_text())
        for channel, chip in widget.channel_chips.items():
            chip.blockSignals(True)
            chip.setChecked(channel in self.channels)
            chip.blockSignals(False)
        for kind, chip in widget.kind_chips.items():
            chip.blockSignals(True)
            chip.setChecked(kind in self.kinds)
            chip.blockSignals(False)
        selected = self._selected_key(widget)
        widget.tree.blockSignals(True)
        widget.tree.clear()
        widget.tree.blockSignals(False)
        self._shown = 0
        self._add_page(widget, selected)
        if widget.tree.currentItem() is None:
            widget.details.setText("Select an item to see all of it." if self.items else (
                "Nothing in this customer's history yet." if self.customer and not self.loading else ""))

    @staticmethod
    def _selected_key(widget: HistoryWidget) -> tuple[str, str, str] | None:
        current = widget.tree.currentItem()
        item = current.data(0, ITEM_ROLE) if current is not None else None
        return (item.kind, item.id, item.label) if isinstance(item, TimelineItem) else None

    def _show_more(self) -> None:
        widget = self.history_widget
        if widget is not None:
            self._add_page(widget, None)

    def _add_page(self, widget: HistoryWidget, selected: tuple[str, str, str] | None) -> None:
        visible = self.visible_items()
        page = visible[self._shown:self._shown + PAGE]
        tree = widget.tree
        last_day = visible[self._shown - 1].day if self._shown else None
        day_item: QTreeWidgetItem | None = (
            tree.topLevelItem(tree.topLevelItemCount() - 1) if self._shown else None
        )
        bold = QFont(tree.font())
        bold.setBold(True)
        shade = QBrush(QColor("#eef1f5"))
        restore: QTreeWidgetItem | None = None
        tree.setUpdatesEnabled(False)
        try:
            for item in page:
                if day_item is None or item.day != last_day:
                    last_day = item.day
                    day_item = QTreeWidgetItem(tree, [day_label(item.day)])
                    day_item.setFirstColumnSpanned(True)
                    day_item.setFont(0, bold)
                    for column in range(4):
                        day_item.setBackground(column, shade)
                    day_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    day_item.setExpanded(True)
                row = QTreeWidgetItem(day_item, [
                    item.when.astimezone().strftime("%H:%M"), item.label, item.title, item.summary,
                ])
                row.setIcon(1, icon_for(item.channel or item.kind))
                row.setData(0, ITEM_ROLE, item)
                row.setToolTip(2, item.details)
                row.setToolTip(3, item.details)
                if selected is not None and (item.kind, item.id, item.label) == selected:
                    restore = row
            for index in range(tree.topLevelItemCount()):
                top = tree.topLevelItem(index)
                if top is not None:
                    top.setExpanded(True)
        finally:
            tree.setUpdatesEnabled(True)
        self._shown += len(page)
        rest = len(visible) - self._shown
        widget.more_button.setVisible(rest > 0)
        widget.more_button.setText(f"Show older ({rest} more)")
        if restore is not None:
            tree.blockSignals(True)
            tree.setCurrentItem(restore)
            tree.blockSignals(False)
            widget.details.setText(restore.data(0, ITEM_ROLE).details)

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        widget = self.history_widget
        item = current.data(0, ITEM_ROLE) if current is not None else None
        if widget is None or not isinstance(item, TimelineItem):
            return
        widget.details.setText(item.details)
        self.raise_event("ItemSelected", {"LogicalName": item.kind, "Id": item.id, "CaseId": item.case_id})

    # ------------------------------------------------------------------ UII actions
    @uii_action("Load")
    async def load_action(self, data: ActionData, call: CallContext) -> str:
        entity = (data.take("LogicalName") or data.take("entity") or "").strip().lower()
        id = (data.take("id") or "").strip()
        if not id:  # the session's customer
            if entity:
                id = self.context_session().store.get(entity, "id") or ""
            else:
                entity, id = self._session_customer() or ("", "")
            if not id:
                raise ActionError(f"{self.name}: Load needs LogicalName= and id=, or a "
                                  f"{entity or 'contact or account'} in the session")
        return str(await self.load(entity or "contact", id))

    @uii_action("Refresh")
    async def refresh_action(self, data: ActionData, call: CallContext) -> str:
        return str(await self.refresh())

    @uii_action("Filter")
    def filter_action(self, data: ActionData, call: CallContext) -> str:
        try:
            raw_channels = data.take("channels")
            raw_kinds = data.take("kinds")
            channels = parse_choice(data.take("channel") if raw_channels is None else raw_channels,
                                    CHANNELS, "channel")
            kinds = parse_choice(data.take("kind") if raw_kinds is None else raw_kinds, KINDS, "kind")
        except ValueError as exc:
            raise ActionError(f"{self.name}: Filter: {exc}") from None
        if channels is None and kinds is None:  # no data: show everything again
            channels, kinds = frozenset(CHANNELS), frozenset(KINDS)
        self.channels = channels if channels is not None else self.channels
        self.kinds = kinds if kinds is not None else self.kinds
        self._render()
        return str(len(self.visible_items()))

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self.closed:
            return
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
            self._refresh_timer = None
        self.cancel_tasks()
        super().close()
