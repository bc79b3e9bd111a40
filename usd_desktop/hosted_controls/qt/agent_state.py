"""Agent State Selector: the agent's state (Available, Not ready with a reason, Offline) and the connection.

A button with a coloured dot shows the current state and how long it has lasted; its menu sets
Available, Not ready (one entry per reason of the setting ``not_ready_reasons``, default Break,
Lunch, Training, Meeting) or Offline through the desktop's CTI manager (found as by the
:class:`~usd_desktop.hosted_controls.qt.call_control.CallControl`: the setting ``cti_manager``, else
the first CTI Desktop Manager). While the manager puts the agent *On a call* or in *Wrap-up* the
button says so (those states follow the calls and are not in the menu); a state asked for then
applies after the call and is shown as "next". Under the button, the connection: "Connected to
<detail>", or "Disconnected — retrying in 5 s (attempt 3)", with the manager's last problem in
the tooltip. Without a CTI manager the selector says why and is disabled.

The dot is painted from the palette (the theme's highlight for a call, its text colours for
offline), except *available* and *not ready*, whose colours have one value per theme
(:data:`STATE_COLOURS`, as the session tabs' attention colour) so they read as "go" and "stop" on
every background; each state also has its own shape (filled, barred, ring) for agents who do not
tell the colours apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.hosted_controls.catalog import AGENT_STATE_SELECTOR
from usd_desktop.hosted_controls.qt.call_control import CtiClientControl
from usd_desktop.hosted_controls.qt.session_tabs_widget import attention_colour, format_elapsed

if TYPE_CHECKING:
    from usd_desktop.cti.agent import AgentStatus
    from usd_desktop.cti.manager import CtiManager

#: The widest the connection and status lines may be (pixels; longer texts are elided, whole in the tooltip).
MAX_LINE_WIDTH = 260
#: What the connection line says for the manager's own words while it is not connected.
QUIET_DETAILS = {"not started": "Not connected yet", "connecting": "Connecting…", "closed": "Disconnected"}
DEFAULT_REASONS = ("Break", "Lunch", "Training", "Meeting")
#: What each state is called.
STATE_TEXT = {"available": "Available", "not_ready": "Not ready", "offline": "Offline",
              "on_call": "On a call", "wrap_up": "Wrap-up"}
#: The states the agent can choose (the others follow the calls).
SELECTABLE = ("available", "not_ready", "offline")
#: The colours of *available* and *not ready*, per theme (``QApplication`` property ``usdTheme``).
STATE_COLOURS = {
    "available": {"light": "#1a7f37", "dark": "#3fb950", "high-contrast": "#00ff00"},
}


def _theme() -> str:
    app = QApplication.instance()
    theme = app.property("usdTheme") if app is not None else None
    return str(theme or "light")


def state_colour(state: str, palette: QPalette) -> QColor:
    """The dot's colour for ``state`` in the current theme."""
    if state == "available":
        colours = STATE_COLOURS["available"]
        return QColor(colours.get(_theme(), colours["light"]))
    if state == "not_ready":
        return attention_colour()
    if state in ("on_call", "wrap_up"):
        return palette.color(QPalette.ColorRole.Highlight)
    return palette.color(QPalette.ColorRole.PlaceholderText)


def state_text(status: AgentStatus) -> str:
    text = STATE_TEXT.get(status.state, status.state.replace("_", " ").capitalize())
    if status.state == "not_ready" and status.reason:
        text = f"{text}: {status.reason}"
    return text


def connection_text(manager: CtiManager, now_offset: float = 0.0) -> str:
    """``Connected to <detail>`` or ``Disconnected — retrying in 5 s (attempt 3)``
    (``now_offset``: seconds since the manager reported it, to count the retry down)."""
    status = manager.connection
    if status.connected:
        return f"Connected to {status.detail}" if status.detail else "Connected"
    if status.retry_in is None and status.detail in QUIET_DETAILS:
        return QUIET_DETAILS[status.detail]
    text = "Disconnected"
    if status.retry_in is not None:
        left = max(0, math.ceil(status.retry_in - now_offset))
        text += f" — retrying in {left} s" if left else " — retrying now"
        text += f" (attempt {status.attempts + 1})"  # the attempt that comes next
    elif status.detail:
        text += f": {status.detail}"
    return text


class StateDot(QWidget):
    """The state's dot: filled (available, on a call), barred (not ready), ring (offline, wrap-up)."""

    SIZE = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "offline"
        self.setFixedSize(self.SIZE + 2, self.SIZE + 2)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def sizeHint(self) -> QSize:
        return QSize(self.SIZE + 2, self.SIZE + 2)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_dot(painter, QRectF(1, 1, self.SIZE, self.SIZE), self.state, self.palette(),
                  enabled=self.isEnabled())
        painter.end()


def paint_dot(painter: QPainter, rect: QRectF, state: str, palette: QPalette, *,
              enabled: bool = True) -> None:
    """The dot of ``state`` in ``rect``: filled (available, on a call), barred (not ready), ring
    (offline), half-filled ring (wrap-up)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = state_colour(state, palette)
    if not enabled:
        colour = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    if state in ("offline", "wrap_up"):
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect.adjusted(1, 1, -1, -1))
        if state == "wrap_up":  # a ring half filled: the call is winding down
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawPie(rect.adjusted(1, 1, -1, -1), 90 * 16, 180 * 16)
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(rect)
    if state == "not_ready":  # a bar across: "do not send me calls"
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        middle = rect.center().y()
        painter.drawRoundedRect(QRectF(rect.left() + rect.width() / 4, middle - rect.height() / 10,
                                       rect.width() / 2, rect.height() / 5), 1, 1)


def dot_icon(state: str, palette: QPalette, size: int = 14) -> QIcon:
    """The dot of ``state`` as a menu icon."""
    ratio = 2.0  # sharp on high-density screens too
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_dot(painter, QRectF(1, 1, size - 2, size - 2), state, palette)
    painter.end()
    return QIcon(pixmap)


class AgentStateWidget(QWidget):
    """The selector: dot, state button with its menu, duration, connection line, status line."""

    state_requested = Signal(str, str)
    """The agent chose a state in the menu: (state, reason)."""

    def __init__(self, reasons: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agentStateSelector")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 2, 8, 2)
        outer.setSpacing(0)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.dot = StateDot(self)
        self.dot.setObjectName("agentStateDot")
        self.button = QToolButton(self)
        self.button.setObjectName("agentStateButton")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.button.setAutoRaise(True)
        self.button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        bold = self.button.font()
        bold.setBold(True)
        self.button.setFont(bold)
        self.duration = QLabel("", self)
        self.duration.setObjectName("agentStateDuration")
        self.duration.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.duration.setToolTip("How long the agent has been in this state")
        row.addWidget(self.dot)
        row.addWidget(self.button)
        row.addWidget(self.duration)
        row.addStretch(1)
        outer.addLayout(row)
        self.connection = QLabel("", self)
        self.connection.setObjectName("ctiConnection")
        self.connection.setTextFormat(Qt.TextFormat.PlainText)
        self.connection.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        small = self.connection.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.connection.setFont(small)
        outer.addWidget(self.connection)
        self.status = QLabel("", self)
        self.status.setObjectName("agentStateStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setFont(small)
        self.status.setWordWrap(False)
        self.status.hide()
        outer.addWidget(self.status)
        self.shown_text = ""  # the state as the button says it (without the menu arrow)
        self.menu = QMenu(self.button)
        self.menu.setObjectName("agentStateMenu")
        self.state_actions: dict[tuple[str, str], QAction] = {}
        self._build_menu(reasons)
        self.button.setMenu(self.menu)

    def _build_menu(self, reasons: Sequence[str]) -> None:
        group = QActionGroup(self.menu)
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)

        def add(menu: QMenu, text: str, state: str, reason: str = "") -> None:
            action = menu.addAction(dot_icon(state, self.palette()), text)
            action.setObjectName(f"agentState:{state}:{reason}")
            action.setCheckable(True)
            group.addAction(action)
            action.triggered.connect(lambda _checked=False: self.state_requested.emit(state, reason))
            self.state_actions[(state, reason)] = action

        add(self.menu, STATE_TEXT["available"], "available")
        if reasons:
            sub = self.menu.addMenu(dot_icon("not_ready", self.palette()), STATE_TEXT["not_ready"])
            sub.setObjectName("agentStateReasons")
            for reason in reasons:
                add(sub, reason, "not_ready", reason)
        else:
            add(self.menu, STATE_TEXT["not_ready"], "not_ready")
        self.menu.addSeparator()
        add(self.menu, STATE_TEXT["offline"], "offline")

    def action(self, state: str, reason: str = "") -> QAction:
        return self.state_actions[(state, reason)]

    def show_state(self, state: str, text: str, *, enabled: bool, reason: str = "",
                   tooltip: str = "") -> None:
        self.dot.set_state(state)
        self.dot.setEnabled(enabled)
        self.shown_text = text
        self.button.setText(f"{text} ▾" if enabled else text)
        self.button.setEnabled(enabled)
        self.button.setToolTip(tooltip or "Change your state")
        self.button.setAccessibleName(f"Agent state: {text}")
        for (s, r), action in self.state_actions.items():
            action.setChecked(s == state and (r == reason or not r))

    def set_duration(self, text: str) -> None:
        if self.duration.text() != text:
            self.duration.setText(text)
        self.duration.setVisible(bool(text))

    def set_connection(self, text: str, *, ok: bool, tooltip: str = "") -> None:
        shown = self.connection.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, MAX_LINE_WIDTH)
        self.connection.setText(shown)
        self.connection.setToolTip("\n".join(t for t in (text if shown != text else "", tooltip) if t))
        self.connection.setAccessibleName(f"CTI connection: {text}")
        palette = self.palette()
        if not ok:
            palette.setColor(QPalette.ColorRole.WindowText, attention_colour())
            self.connection.setForegroundRole(QPalette.ColorRole.WindowText)
        else:
            self.connection.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.connection.setPalette(palette)

    def set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(self.status.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                                                  MAX_LINE_WIDTH))
        self.status.setToolTip(text)
        self.status.setVisible(bool(text))
        palette = self.palette()
        if error:
            palette.setColor(QPalette.ColorRole.WindowText, attention_colour())
        self.status.setPalette(palette)


class AgentStateSelector(CtiClientControl):
    """The agent-state selector (see the module doc)."""

    control_type = AGENT_STATE_SELECTOR
    task_failure = "changing the agent state failed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        raw = self.settings.get("not_ready_reasons")
        if raw is None:
            self.reasons: tuple[str, ...] = DEFAULT_REASONS
        elif isinstance(raw, str):
            self.reasons = tuple(r.strip() for r in raw.split(",") if r.strip())
        else:
            self.reasons = tuple(str(r).strip() for r in raw if str(r).strip())
        self._connection_seen: datetime | None = None  # when the connection status last changed
        self._status: tuple[str, bool] = ("", False)
        #: The manager's last problem (the connection line's tooltip).
        self.last_problem = ""

    @property
    def selector(self) -> AgentStateWidget | None:
        widget = self._widget
        return widget if isinstance(widget, AgentStateWidget) else None

    def create_widget(self) -> QWidget:
        widget = AgentStateWidget(self.reasons)
        widget.state_requested.connect(self.set_state)
        self.make_timer(widget)
        self._widget = widget
        self.bind()
        return widget

    def connect_manager(self, manager: CtiManager, keep: Callable[[Callable[[], None]], None]) -> None:
        keep(manager.agent_changed.connect(lambda _status: self.refresh()))
        keep(manager.connection_changed.connect(self._on_connection))
        keep(manager.problem.connect(self._on_problem))
        self._connection_seen = self.clock()

    def _on_problem(self, text: str) -> None:
        self.last_problem = text
        self.refresh()

    def _on_connection(self, _status: Any) -> None:
        self._connection_seen = self.clock()
        self.refresh()

    def refresh(self) -> None:
        widget = self.selector
        if widget is None:
            return
        manager = self.manager
        if manager is None:
            widget.show_state("offline", "CTI unavailable", enabled=False,
                              tooltip=self.unavailable or "no CTI adapter")
            widget.set_duration("")
            widget.set_connection(self.unavailable or "no CTI adapter", ok=False, tooltip=self.unavailable)
            widget.set_status(self._status[0], error=self._status[1])
            self.run_timer(False)
            return
        status = manager.agent_status
        text = state_text(status)
        tooltip = "Change your state"
        if status.next_state is not None:
            after = STATE_TEXT.get(status.next_state, status.next_state)
            if status.next_reason:
                after += f": {status.next_reason}"
            text += f" → {after}"
            tooltip = f"After this call: {after}"
        can_set = "set_agent_state" in manager.capabilities
        if not can_set:
            tooltip = f"The {manager.name} adapter cannot change the agent state"
        elif not manager.connection.connected:
            tooltip = "Not connected to the CTI backend"
        enabled = can_set and manager.connection.connected and "state" not in self._pending
        widget.show_state(status.state, text, enabled=enabled, reason=status.reason, tooltip=tooltip)
        widget.set_status(self._status[0], error=self._status[1])
        self.tick()

    def tick(self) -> None:
        """Once a second: how long the state has lasted, the reconnection countdown."""
        widget = self.selector
        manager = self.manager
        if widget is None or manager is None:
            return
        now = self.clock()
        since = manager.agent_status.since
        if since.year > 1:
            widget.set_duration(format_elapsed((now - since).total_seconds()))
        else:
            widget.set_duration("")
        seen = self._connection_seen
        offset = (now - seen).total_seconds() if seen is not None else 0.0
        problem = self.last_problem or str(getattr(self.cti_control, "problem", "") or "")
        connection = manager.connection
        widget.set_connection(connection_text(manager, offset), ok=connection.connected,
                              tooltip=f"Last problem: {problem}" if problem else "")
        self.run_timer(True)

    def set_state(self, state: str, reason: str = "") -> None:
        """The agent chose ``state`` (``available``, ``not_ready`` with ``reason``, ``offline``)."""
        label = STATE_TEXT.get(state, state)
        self.refresh()  # the menu's check marks show the manager's state, not the click
        self.run_command(f"Set {label.lower()}", "state",
                         lambda m: m.set_agent_state(state, reason))  # type: ignore[arg-type]

    def show_status(self, text: str, *, error: bool = False) -> None:
        self._status = (text, error)
        widget = self.selector
        if widget is not None:
            widget.set_status(text, error=error)
