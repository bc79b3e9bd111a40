"""The Broadcasts control's widget: a non-modal banner listing the current broadcast messages.

Each message is a row coloured by its severity (info blue, warning amber, critical red) with its title,
body, sender and time, and a button that dismisses it for this agent. The logic (sending, polling,
announcing, remembering) is Qt-free: :mod:`usd_desktop.hosted_controls.broadcasts`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from usd_desktop.hosted_controls.broadcasts import Broadcasts, Message
from usd_desktop.hosted_controls.qt.base import QtHostedControl

#: Background and border colours of a message row, by severity.
SEVERITY_COLOURS = {
    "info": ("#e8f1fb", "#2f6db5"),
    "warning": ("#fff4d6", "#b7791f"),
    "critical": ("#fde8e8", "#c53030"),
}


class MessageRow(QFrame):
    """One broadcast: severity colours, title, body, sender and time, a dismiss button."""

    def __init__(
        self, message: Message, on_dismiss: Callable[[str], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.message = message
        self.setObjectName(f"broadcast-{message.id}")
        background, border = SEVERITY_COLOURS.get(message.severity, SEVERITY_COLOURS["info"])
        self.setStyleSheet(
            f"MessageRow {{ background: {background}; border-left: 4px solid {border}; border-radius: 3px; }}"
            f" QLabel {{ color: #1a202c; background: transparent; }}"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        text = QVBoxLayout()
        self.title = QLabel(f"<b>{_escape(message.title)}</b>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        text.addWidget(self.title)
        if message.body:
            self.body = QLabel(message.body)
            self.body.setTextFormat(Qt.TextFormat.PlainText)
            self.body.setWordWrap(True)
            text.addWidget(self.body)
        sent = message.sent_at.astimezone().strftime("%H:%M")
        meta = QLabel(f"{message.severity} · {message.sender} · {sent}")
        meta.setTextFormat(Qt.TextFormat.PlainText)
        meta.setStyleSheet("color: #4a5568; font-size: 11px;")
        text.addWidget(meta)
        layout.addLayout(text, 1)
        self.dismiss = QPushButton("✕")
        self.dismiss.setToolTip("Dismiss this message")
        self.dismiss.setFlat(True)
        self.dismiss.setFixedWidth(28)
        self.dismiss.clicked.connect(lambda _=False, id=message.id: on_dismiss(id))
        layout.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)


class BroadcastsWidget(QWidget):
    """The list of current messages, newest first (none: an empty strip)."""

    def __init__(self, control: BroadcastsControl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.control = control
        self.rows: list[MessageRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.setSpacing(2)
        self.show_messages(control.messages)

    def show_messages(self, messages: list[Message]) -> None:
        for row in self.rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows = [MessageRow(m, self.control.dismiss, self) for m in reversed(messages)]  # newest first
        for row in self.rows:
            self._layout.addWidget(row)


class BroadcastsControl(Broadcasts, QtHostedControl):
    """The Broadcasts control with its banner (see :mod:`usd_desktop.hosted_controls.broadcasts`)."""

    task_failure = "broadcasts failed"

    def create_widget(self) -> QWidget:
        widget = BroadcastsWidget(self)
        self.keep(self.messages_changed.connect(widget.show_messages))
        return widget


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["SEVERITY_COLOURS", "BroadcastsControl", "BroadcastsWidget", "MessageRow"]
