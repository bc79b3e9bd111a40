"""The results list's widget: title, quick find, page indicator with previous/next, table, status."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from usd_desktop.hosted_controls.qt.entity_list import ResultsTable

#: Milliseconds of quiet typing before the quick find searches.
QUICK_FIND_DELAY_MS = 300


class ListOwner(Protocol):
    """What the widget asks of its control."""

    def run_own(self, action: str) -> None: ...
    def choose(self, entity: str, ident: str) -> None: ...
    def quick_find(self, text: str) -> None: ...


class EntityListWidget(QWidget):
    """The results list: title, optional quick-find box, page indicator, the table and a status line."""

    def __init__(
        self, control: ListOwner, parent: QWidget | None = None, *, quick_find: str = "",
        placeholder: str = "",
    ) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setObjectName("entityListTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.find_box: QLineEdit | None = None
        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(QUICK_FIND_DELAY_MS)
        self.pages = QLabel(self)
        self.pages.setObjectName("entityListPages")
        self.previous = QToolButton(self)
        self.previous.setText("◀")
        self.previous.setToolTip("Previous page")
        self.previous.setAutoRaise(True)
        self.next = QToolButton(self)
        self.next.setText("▶")
        self.next.setToolTip("Next page")
        self.next.setAutoRaise(True)
        self.table = ResultsTable(self)
        self.status = QLabel(self)
        self.status.setObjectName("entityListStatus")
        self.status.setWordWrap(True)
        self.status.hide()
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.title)
        if quick_find:
            find = QLineEdit(self)
            find.setObjectName("entityListFind")
            find.setPlaceholderText(placeholder or "Find…")
            find.setClearButtonEnabled(True)
            find.setMinimumWidth(260)
            find.textEdited.connect(lambda _text: self._find_timer.start())
            find.returnPressed.connect(self._find_now)
            self._find_timer.timeout.connect(lambda: control.quick_find(find.text()))
            top.addSpacing(12)
            top.addWidget(find, 1)
            self.find_box = find
        top.addStretch(1 if not quick_find else 0)
        top.addWidget(self.previous)
        top.addWidget(self.pages)
        top.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.previous.clicked.connect(lambda: control.run_own("PreviousPage"))
        self.next.clicked.connect(lambda: control.run_own("NextPage"))
        self.table.record_chosen.connect(control.choose)
        self._control = control

    def _find_now(self) -> None:
        self._find_timer.stop()
        if self.find_box is not None:
            self._control.quick_find(self.find_box.text())

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
