"""The debugger's *Data Parameters* tab: session → root → name = value, editable.

The tree is rebuilt from the sessions' stores when they change, at most once per event-loop burst
(``Sessions.changed`` only starts a single-shot timer), keeping what was expanded and selected.
Editing a value writes it into that session's store, as USD's *Update* button does.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.core.context import ChangeSet, Session, Sessions

#: Item data roles: the session id, root and name an item stands for.
SESSION_ROLE = Qt.ItemDataRole.UserRole + 1
ROOT_ROLE = Qt.ItemDataRole.UserRole + 2
NAME_ROLE = Qt.ItemDataRole.UserRole + 3
#: Milliseconds the tree waits after a change before rebuilding (bursts become one rebuild).
REFRESH_DELAY_MS = 30


def session_title(session: Session, sessions: Sessions) -> str:
    title = "Global" if session.is_global else f"{session.name or 'Session'} ({session.id[:8]})"
    return title + ("  [active]" if session is sessions.active else "")


class DataPane(QWidget):
    """The data-parameter tree with a filter box and Copy; live until :meth:`dispose`."""

    def __init__(self, sessions: Sessions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sessions = sessions
        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Name", "Value"])
        self.model.itemChanged.connect(self._edited)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setAutoAcceptChildRows(True)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: root, name or value…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the selected value (or all values under a node)")
        self.copy_button.clicked.connect(self.copy_selection)
        self.hint = QLabel("Double-click a value to change it in its session.", self)
        self.hint.setEnabled(False)

        self.view = QTreeView(self)
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setColumnWidth(0, 260)

        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)

        self._rebuilding = False
        self._seen_sessions: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._disposers: list[Callable[[], None]] = [
            sessions.changed.connect(self._changed),
            sessions.active_changed.connect(lambda _s: self.schedule_refresh()),
            sessions.session_closed.connect(lambda _s: self.schedule_refresh()),
        ]
        self.refresh()

    # ------------------------------------------------------------------ refreshing
    def schedule_refresh(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _changed(self, change: ChangeSet) -> None:
        self.schedule_refresh()

    def refresh(self) -> None:
        """Rebuild the tree from the stores now, keeping expansion and selection.

        While a value is being edited the rebuild waits, so the editor is not torn away.
        """
        self._timer.stop()
        if self.view.state() == QAbstractItemView.State.EditingState:
            self._timer.start()
            return
        expanded = self._expanded_keys()
        selected = self._selected_key()
        self._rebuilding = True
        try:
            self.model.removeRows(0, self.model.rowCount())
            bold = QFont()
            bold.setBold(True)
            for session in self.sessions:
                self.model.appendRow(self._session_row(session, bold))
        finally:
            self._rebuilding = False
        self._restore(expanded, selected)

    def _session_row(self, session: Session, bold: QFont) -> list[QStandardItem]:
        head = QStandardItem(session_title(session, self.sessions))
        head.setData(session.id, SESSION_ROLE)
        head.setEditable(False)
        if session is self.sessions.active:
            head.setFont(bold)
        count = QStandardItem(f"{sum(len(v) for v in session.store.data.values())} values")
        count.setEditable(False)
        for root in sorted(session.store.data, key=str.lower):
            values = session.store.data[root]
            root_item = QStandardItem(root)
            root_item.setData(session.id, SESSION_ROLE)
            root_item.setData(root, ROOT_ROLE)
            root_item.setEditable(False)
            root_count = QStandardItem(f"{len(values)}")
            root_count.setEditable(False)
            for name in sorted(values, key=str.lower):
                key = QStandardItem(name)
                key.setEditable(False)
                value = QStandardItem(values[name])
                value.setToolTip(f"[[{root}.{name}]]")
                for item in (key, value):
                    item.setData(session.id, SESSION_ROLE)
                    item.setData(root, ROOT_ROLE)
                    item.setData(name, NAME_ROLE)
                root_item.appendRow([key, value])
            head.appendRow([root_item, root_count])
        return [head, count]

    def _key(self, index: QModelIndex) -> tuple[str, str | None, str | None]:
        return (index.data(SESSION_ROLE), index.data(ROOT_ROLE), index.data(NAME_ROLE))

    def _expanded_keys(self) -> set[tuple[str, str | None]]:
        keys: set[tuple[str, str | None]] = set()
        for row in range(self.proxy.rowCount()):
            head = self.proxy.index(row, 0)
            if self.view.isExpanded(head):
                keys.add((head.data(SESSION_ROLE), None))
            for sub in range(self.proxy.rowCount(head)):
                child = self.proxy.index(sub, 0, head)
                if self.view.isExpanded(child):
                    keys.add((child.data(SESSION_ROLE), child.data(ROOT_ROLE)))
        return keys

    def _selected_key(self) -> tuple[str, str | None, str | None] | None:
        current = self.view.currentIndex()
        return self._key(current) if current.isValid() else None

    def _restore(
        self,
        expanded: set[tuple[str, str | None]],
        selected: tuple[str, str | None, str | None] | None,
    ) -> None:
        filtering = bool(self.filter_edit.text().strip())
        for row in range(self.proxy.rowCount()):
            head = self.proxy.index(row, 0)
            sid = head.data(SESSION_ROLE)
            if sid not in self._seen_sessions:
                self._seen_sessions.add(sid)
                expanded.add((sid, None))
            self.view.setExpanded(head, filtering or (sid, None) in expanded)
            for sub in range(self.proxy.rowCount(head)):
                child = self.proxy.index(sub, 0, head)
                key = (sid, child.data(ROOT_ROLE))
                self.view.setExpanded(child, filtering or key in expanded)
                if selected is None:
                    continue
                if selected[1:] == (key[1], None) and selected[0] == sid:
                    self.view.setCurrentIndex(child)
                for leaf in range(self.proxy.rowCount(child)):
                    item = self.proxy.index(leaf, 0, child)
                    if self._key(item) == selected:
                        self.view.setCurrentIndex(item)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._restore(self._expanded_keys(), self._selected_key())

    # ------------------------------------------------------------------ editing and copying
    def _edited(self, item: QStandardItem) -> None:
        if self._rebuilding or item.column() != 1:
            return
        sid, root, name = item.data(SESSION_ROLE), item.data(ROOT_ROLE), item.data(NAME_ROLE)
        session = self.sessions.get(sid) if sid else None
        if session is None or root is None or name is None:
            return
        session.store.set(root, name, item.text())

    def value_index(self, session: Session, root: str, name: str) -> QModelIndex:
        """The proxy index of ``root.name``'s value cell in ``session`` (invalid if hidden)."""
        for row in range(self.proxy.rowCount()):
            head = self.proxy.index(row, 0)
            if head.data(SESSION_ROLE) != session.id:
                continue
            for sub in range(self.proxy.rowCount(head)):
                child = self.proxy.index(sub, 0, head)
                if child.data(ROOT_ROLE) != root:
                    continue
                for leaf in range(self.proxy.rowCount(child)):
                    item = self.proxy.index(leaf, 1, child)
                    if item.data(NAME_ROLE) == name:
                        return item
        return QModelIndex()

    def selection_text(self) -> str:
        current = self.view.currentIndex()
        if not current.isValid():
            return ""
        sid, root, name = self._key(current)
        session = self.sessions.get(sid) if sid else None
        if session is None:
            return ""
        if root is not None and name is not None:
            return session.store.get(root, name) or ""
        roots = [root] if root is not None else sorted(session.store.data, key=str.lower)
        return "\n".join(
            f"{r}.{n}={v}" for r in roots for n, v in sorted(session.store.section(r).items())
        )

    def copy_selection(self) -> str:
        """Copy the selected value (or ``root.name=value`` lines under a node); returns it."""
        text = self.selection_text()
        if text:
            QApplication.clipboard().setText(text)
        return text

    def dispose(self) -> None:
        """Stop listening to the sessions (idempotent; safe after the Qt side is deleted)."""
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        self._timer.stop()
