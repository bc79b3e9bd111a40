"""The debugger's *Debug Output* tab: the desktop's log records (USD's trace listener)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

#: Lines kept in the pane; older ones scroll away.
MAX_LINES = 5000


class _Bridge(QObject):
    line = Signal(str)


class _PaneHandler(logging.Handler):
    """Formats a record and hands it to the pane through a queued signal (any thread)."""

    def __init__(self, bridge: _Bridge) -> None:
        super().__init__(logging.DEBUG)
        self.bridge = bridge
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.line.emit(self.format(record))
        except RuntimeError:  # the pane is gone
            pass


class LogPane(QWidget):
    """Shows what the ``usd_desktop`` loggers write, from creation until :meth:`dispose`."""

    def __init__(self, logger: str = "usd_desktop", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        clear = QPushButton("Clear", self)
        clear.clicked.connect(self.text.clear)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self._bridge = _Bridge(self)
        self._bridge.line.connect(self.text.appendPlainText, Qt.ConnectionType.QueuedConnection)
        self._logger: logging.Logger | None = logging.getLogger(logger)
        self._handler = _PaneHandler(self._bridge)
        self._logger.addHandler(self._handler)

    def dispose(self) -> None:
        """Detach from the logger (idempotent)."""
        if self._logger is not None:
            self._logger.removeHandler(self._handler)
            self._logger = None
