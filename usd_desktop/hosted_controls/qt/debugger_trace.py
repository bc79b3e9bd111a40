"""The debugger's *Action Calls* tab: a live, filterable table of the trace journal.

The table is a :class:`TraceTableModel` (not a ``QTableWidget``) so thousands of rows stay fast.
Records arrive through :attr:`TraceJournal.recorded`; the listener only queues them, and one
queued Qt call per burst inserts the whole batch (``beginInsertRows`` once), so a thousand records
a second never stalls the user interface. The model keeps at most ``capacity`` rows (oldest go).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.core.trace import Outcome, TraceJournal, TraceRecord

ModelIndex = QModelIndex | QPersistentModelIndex

COLUMNS = ("Time", "Session", "Kind", "Name", "Control", "Action", "Outcome", "ms", "Reason")

#: Each outcome's hue, blended into the palette's base colour: rows read in light and dark themes.
OUTCOME_TINTS: dict[Outcome, QColor] = {
    Outcome.RAN: QColor(56, 160, 72),  # green
    Outcome.SKIPPED: QColor(230, 190, 30),  # yellow: the condition said no
    Outcome.ABORTED: QColor(220, 50, 50),  # red: a missing replacement parameter
    Outcome.FAILED: QColor(220, 50, 50),  # red: an error
    Outcome.DEFERRED: QColor(60, 130, 220),  # blue: an ExecuteOn* waiting
    Outcome.ABANDONED: QColor(128, 128, 128),  # grey: gave up, or its session closed
}
TINT_STRENGTH = 0.28

#: The outcome filter's choices: label -> outcomes shown (``None``: all).
OUTCOME_FILTERS: dict[str, frozenset[Outcome] | None] = {
    "All outcomes": None,
    "Problems (aborted, failed)": frozenset({Outcome.ABORTED, Outcome.FAILED}),
    "Not run (skipped, aborted, failed, abandoned)": frozenset(
        {Outcome.SKIPPED, Outcome.ABORTED, Outcome.FAILED, Outcome.ABANDONED}
    ),
    **{f"{o.value}": frozenset({o}) for o in Outcome},
}


def blend(tint: QColor, base: QColor, strength: float = TINT_STRENGTH) -> QColor:
    """``tint`` laid over ``base`` at ``strength`` (a muted row colour readable on ``base``)."""
    keep = 1.0 - strength
    return QColor(
        round(tint.red() * strength + base.red() * keep),
        round(tint.green() * strength + base.green() * keep),
        round(tint.blue() * strength + base.blue() * keep),
    )


def local_time(started: str) -> str:
    """The record's ISO timestamp as local ``HH:MM:SS.mmm``."""
    if not started:
        return ""
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return started
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class TraceTableModel(QAbstractTableModel):
    """The trace records, oldest first; fed in batches from any thread."""

    _records_pending = Signal()

    def __init__(
        self,
        session_label: Callable[[str], str] = lambda sid: sid[:8],
        capacity: int = 5000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self.session_label = session_label
        self._rows: deque[TraceRecord] = deque()
        self._by_seq: dict[int, TraceRecord] = {}
        self._pending: list[TraceRecord] = []
        self._lock = threading.Lock()
        self._bold = QFont()
        self._bold.setBold(True)
        self._base = QColor(255, 255, 255)
        self.refresh_palette()
        self._records_pending.connect(self.flush, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ feeding
    def enqueue(self, record: TraceRecord) -> None:
        """Queue one record (the journal listener); the rows appear on the next event-loop turn."""
        with self._lock:
            first = not self._pending
            self._pending.append(record)
        if first:
            self._records_pending.emit()

    def flush(self) -> int:
        """Insert the queued records as one batch; returns how many."""
        with self._lock:
            batch, self._pending = self._pending, []
        self.extend(batch)
        return len(batch)

    def extend(self, records: Iterable[TraceRecord]) -> None:
        batch = list(records)[-self.capacity :] if self.capacity else list(records)
        if not batch:
            return
        overflow = len(self._rows) + len(batch) - self.capacity
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                gone = self._rows.popleft()
                if self._by_seq.get(gone.seq) is gone:
                    del self._by_seq[gone.seq]
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
        for record in batch:
            self._rows.append(record)
            self._by_seq[record.seq] = record
        self.endInsertRows()

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        self.beginResetModel()
        self._rows.clear()
        self._by_seq.clear()
        self.endResetModel()

    def refresh_palette(self, palette: QPalette | None = None) -> None:
        """Re-derive the row colours from the (possibly changed) application palette."""
        pal = palette or QApplication.palette()
        self._base = pal.color(QPalette.ColorRole.Base)
        if self._rows:
            last = self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last, [Qt.ItemDataRole.BackgroundRole])

    # ------------------------------------------------------------------ queries
    def record(self, row: int) -> TraceRecord:
        return self._rows[row]

    def by_seq(self, seq: int) -> TraceRecord | None:
        return self._by_seq.get(seq)

    @property
    def records(self) -> list[TraceRecord]:
        return list(self._rows)

    def row_color(self, record: TraceRecord) -> QColor | None:
        tint = OUTCOME_TINTS.get(record.outcome)
        return None if tint is None else blend(tint, self._base)

    def cells(self, record: TraceRecord) -> tuple[str, ...]:
        return (
            local_time(record.started),
            self.session_label(record.session_id),
            record.kind,
            record.name,
            record.control,
            record.action,
            str(record.outcome),
            f"{record.duration_ms:.1f}",
            record.reason,
        )

    # ------------------------------------------------------------------ QAbstractTableModel
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(record)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[index.column()] == "Reason":
            return record.reason or None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.row_color(record)
        if role == Qt.ItemDataRole.FontRole and record.kind == "event":
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[index.column()] == "ms":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return record.seq
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


class TraceFilter(QSortFilterProxyModel):
    """Shows the rows whose text contains the filter text and whose outcome is selected."""

    def __init__(self, source: TraceTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._text = ""
        self._outcomes: frozenset[Outcome] | None = None
        self.setSourceModel(source)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_outcomes(self, outcomes: frozenset[Outcome] | None) -> None:
        self.beginFilterChange()
        self._outcomes = outcomes
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        record = self._source.record(source_row)
        if self._outcomes is not None and record.outcome not in self._outcomes:
            return False
        if not self._text:
            return True
        haystack = " ".join(
            (*self._source.cells(record), record.data, record.condition, record.result or "")
        )
        return self._text in haystack.lower()


def describe(record: TraceRecord, model: TraceTableModel) -> str:
    """The details pane's text for one record."""
    lines = [
        f"#{record.seq}  {record.kind}  {record.name or '(direct action)'}  → {record.outcome}",
        f"Control / action: {record.control or '-'} / {record.action or '-'}",
        f"Session: {model.session_label(record.session_id)} ({record.session_id})",
        f"Started: {record.started}   duration: {record.duration_ms:.3f} ms",
        f"Chain: {record.chain}   depth: {record.depth}",
    ]
    if record.reason:
        lines.append(f"Reason: {record.reason}")
    if record.condition:
        lines += ["", "Condition (rendered):", record.condition]
    navigation = record.kind == "navigation"  # a window navigation decision: every rule considered
    if record.data:
        lines += ["", "Rules considered:" if navigation else "Data (resolved):", record.data]
    if record.result is not None:
        lines += ["", "Routed to:" if navigation else "Result ($Return):", record.result]
    if record.parameters:
        lines += ["", "Parameters:"]
        lines += [f"  {k} = {v}" for k, v in record.parameters.items()]
    chain: list[str] = []
    parent, seen = record.parent, set()
    while parent is not None and parent not in seen:
        seen.add(parent)
        found = model.by_seq(parent)
        if found is None:
            chain.append(f"  #{parent} (no longer in the table)")
            break
        label = found.name or f"{found.control}.{found.action}"
        chain.append(f"  #{found.seq} {found.kind} {label} → {found.outcome}")
        parent = found.parent
    if chain:
        lines += ["", "Parent chain (nearest first):", *chain]
    return "\n".join(lines)


class TracePane(QWidget):
    """Table + filter + details + Copy/Clear; fed live from a journal until :meth:`dispose`."""

    def __init__(
        self,
        journal: TraceJournal,
        session_label: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = TraceTableModel(session_label, journal.records.maxlen or 5000, self)
        self.proxy = TraceFilter(self.model, self)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: name, control, action, reason, data…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.outcome_combo = QComboBox(self)
        self.outcome_combo.addItems(list(OUTCOME_FILTERS))
        self.outcome_combo.currentTextChanged.connect(
            lambda label: self.proxy.set_outcomes(OUTCOME_FILTERS.get(label))
        )
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the selected rows (all visible rows if none)")
        self.copy_button.clicked.connect(self.copy_selection)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.clicked.connect(self.clear)

        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((105, 80, 85, 180, 120, 130, 75, 60)):
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().selectionChanged.connect(self._show_details)

        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a row: its resolved data, condition, result…")

        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.outcome_combo)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.clear_button)
        self.split = split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 90])
        self.details.setMinimumHeight(40)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        self.model.rowsInserted.connect(self._follow)
        self.model.extend(journal)
        self._dispose: Callable[[], None] | None = journal.recorded.connect(self.model.enqueue)

    # ------------------------------------------------------------------ actions
    def clear(self) -> None:
        self.model.clear()
        self.details.clear()

    def find_record(self, text: str) -> TraceRecord | None:
        """Filter the table by ``text`` and select the newest matching record (its details show)."""
        self.model.flush()
        self.filter_edit.setText(text)
        rows = self.proxy.rowCount()
        if not rows:
            return None
        self.view.selectRow(rows - 1)
        self.view.scrollToBottom()
        total = sum(self.split.sizes())
        if total > 0:  # the details are what was asked for: give them most of the room
            self.split.setSizes([total * 2 // 5, total - total * 2 // 5])
        return self.selected_records()[-1]

    def selected_records(self) -> list[TraceRecord]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel()
                       .selectedRows()})
        return [self.model.record(r) for r in rows]

    def visible_records(self) -> list[TraceRecord]:
        return [self.model.record(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
                for r in range(self.proxy.rowCount())]

    def rows_text(self, records: Iterable[TraceRecord]) -> str:
        lines = ["\t".join(COLUMNS)]
        lines += ["\t".join(c.replace("\t", " ").replace("\n", " ") for c in self.model.cells(r))
                  for r in records]
        return "\n".join(lines)

    def copy_selection(self) -> str:
        """Copy the selected rows (or every visible row) as tab-separated text; returns it."""
        text = self.rows_text(self.selected_records() or self.visible_records())
        QApplication.clipboard().setText(text)
        return text

    def dispose(self) -> None:
        """Stop listening to the journal (idempotent)."""
        if self._dispose is not None:
            self._dispose()
            self._dispose = None

    # ------------------------------------------------------------------ internals
    def _show_details(self, *_: object) -> None:
        records = self.selected_records()
        self.details.setPlainText(describe(records[-1], self.model) if records else "")

    def _follow(self, *_: object) -> None:
        bar = self.view.verticalScrollBar()
        if bar.value() >= bar.maximum() - 2:
            self.view.scrollToBottom()

    def changeEvent(self, event: Any) -> None:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.PaletteChange:
            self.model.refresh_palette(self.palette())
        super().changeEvent(event)
