"""Session Overview: the active session's name and overview lines (USD's Session Lines control, §6.0).

The desktop evaluates the session lines (``Session.view``); this control shows the active customer
session's name in bold and every overview line that resolved under it, one selectable, word-wrapped
label per line (plain text: data never turns into markup). It follows the active session and the
active session's updates; with no customer session it says so, quietly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from usd_desktop.core.context import Session
from usd_desktop.hosted_controls.catalog import SESSION_OVERVIEW
from usd_desktop.hosted_controls.qt.base import QtHostedControl

NO_SESSION = "No customer session"


class SessionOverviewWidget(QFrame):
    """A bold title, the overview lines under it, and a placeholder for the global view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(0)
        self._layout = QVBoxLayout()
        self._layout.setSpacing(4)
        outer.addLayout(self._layout)
        outer.addStretch(1)  # the lines stay at the top of a tall panel
        self.title = QLabel(self)
        self.title.setObjectName("sessionOverviewName")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.placeholder = QLabel(NO_SESSION, self)
        self.placeholder.setObjectName("sessionOverviewPlaceholder")
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.placeholder)
        self.lines: list[QLabel] = []

    def show_session(self, name: str | None, lines: list[tuple[str, str]]) -> None:
        """``name`` None: no customer session; ``lines`` are (line name, text) pairs."""
        self.placeholder.setVisible(name is None)
        self.title.setVisible(name is not None)
        self.title.setText(name or "")
        while len(self.lines) > len(lines):
            label = self.lines.pop()
            self._layout.removeWidget(label)
            label.deleteLater()
        while len(self.lines) < len(lines):
            label = QLabel(self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._layout.addWidget(label)
            self.lines.append(label)
        for label, (line_name, text) in zip(self.lines, lines, strict=True):
            label.setObjectName(f"overviewLine:{line_name}")
            label.setText(text)
            label.setToolTip(line_name)

    def texts(self) -> list[str]:
        return [label.text() for label in self.lines]


class SessionOverviewControl(QtHostedControl):
    """The active session's name and overview (see the module doc)."""

    control_type = SESSION_OVERVIEW

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sessions = self.env.dispatcher.sessions
        self.keep(sessions.active_changed.connect(lambda _s: self.refresh()))
        self.keep(sessions.session_updated.connect(self._on_updated))
        self.keep(sessions.session_closed.connect(lambda _s: self.refresh()))

    @property
    def overview_widget(self) -> SessionOverviewWidget | None:
        widget = self._widget
        return widget if isinstance(widget, SessionOverviewWidget) else None

    def create_widget(self) -> QWidget:
        widget = SessionOverviewWidget()
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self.refresh()
        return widget

    def _widget_destroyed(self, widget: SessionOverviewWidget) -> None:
        if self._widget is widget:
            self._widget = None

    def _shown_session(self) -> Session | None:
        active = self.env.dispatcher.sessions.active
        return None if active.is_global else active

    def _on_updated(self, session: Session) -> None:
        if session is self._shown_session():
            self.refresh()

    def refresh(self) -> None:
        widget = self.overview_widget
        if widget is None or self.closed:
            return
        session = self._shown_session()
        if session is None:
            widget.show_session(None, [])
            return
        view = session.view
        lines = [(line.name, line.text) for line in getattr(view, "overview", ()) or ()]
        widget.show_session(session.name or "Session", lines)
