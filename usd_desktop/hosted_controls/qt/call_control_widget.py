"""The call bar as a plain widget: the active line, its timer, the call buttons, the line switcher.

It knows nothing of the CTI runtime: :class:`~usd_desktop.hosted_controls.qt.call_control.CallControl`
computes a :class:`BarView` (what to show) and calls :meth:`CallBarWidget.show_view`, sets the timer
text once a second (:meth:`CallBarWidget.set_timer`) and the status line; the widget tells it what
the agent asked for through its signals (:attr:`CallBarWidget.command_requested` with a
:data:`COMMANDS` key, :attr:`CallBarWidget.line_chosen` with a call id).

The strip reads, left to right: the line switcher (only with two lines or more), the state badge,
the number over the caller's name, the timer, the wrap-up disposition and *Done* (while in
wrap-up), the call buttons and the status line. The bar shows the call buttons that apply to the
line's state (:attr:`BarView.shown`: Answer and Reject while it rings, Hang up, Hold, Mute and
Transfer / Consult once connected, the consultation's Complete, Cancel and Conference instead of
Transfer and Consult while a consultation exists, the dial pad always), in a fixed order with the
most urgent first; a shown button the adapter cannot do is disabled, with the reason as its
tooltip. They sit in a tool bar: on a narrow desktop those that do not fit go to its overflow menu
(») instead of widening the window. Colours come from the palette (``palette(...)`` in the
style sheets): a ringing line is marked with the theme's highlight colour, an error with the
theme's attention colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.hosted_controls.qt.session_tabs_widget import attention_colour

#: The call buttons, in the order they sit on the strip: key -> label.
CALL_BUTTONS: dict[str, str] = {
    "answer": "Answer",
    "reject": "Reject",
    "hangup": "Hang up",
    "hold": "Hold",
    "mute": "Mute",
    "dialpad": "Dial pad",
    "transfer": "Transfer",
    "consult": "Consult",
}
#: The buttons shown while a consultation exists.
CONSULT_BUTTONS: dict[str, str] = {
    "complete": "Complete",
    "cancel": "Cancel",
    "conference": "Conference",
}
#: What the consultation buttons do (their tooltips and accessible names).
CONSULT_TIPS: dict[str, str] = {
    "complete": "Complete the transfer: the caller goes to the party consulted",
    "cancel": "Cancel the consultation and go back to the caller",
    "conference": "Join the caller and the party consulted",
}
#: The order of the call buttons on the bar.
TOOLBAR_ORDER = ("answer", "reject", "hangup", "complete", "cancel", "conference", "hold", "mute",
                 "transfer", "consult", "dialpad")
#: Every key :attr:`CallBarWidget.command_requested` may carry (``done``: wrap-up is over).
COMMANDS = frozenset(CALL_BUTTONS) | frozenset(CONSULT_BUTTONS) | {"done"}
#: The widest the caller's name or number may be before it is elided (pixels).
MAX_IDENTITY_WIDTH = 190
#: The widest a line switcher button's caller name or number may be (pixels; the state follows it).
MAX_LINE_WIDTH = 100

STYLE = """
QFrame[callBar="true"] { border: none; border-left: 3px solid transparent; }
QFrame[callBar="true"][ringing="true"] { border-left: 3px solid palette(highlight); }
QLabel#callState { border-radius: 8px; padding: 1px 8px; border: 1px solid palette(mid); }
QLabel#callState[state="ringing"] { background: palette(highlight); color: palette(highlighted-text);
    border-color: palette(highlight); font-weight: 600; }
QLabel#callState[state="dialing"] { border: 1px dashed palette(highlight); }
QLabel#callState[state="connected"] { border-color: palette(highlight); }
QLabel#callState[state="held"] { border: 1px dashed palette(mid); color: palette(placeholder-text); }
QLabel#callState[state="wrap_up"] { background: palette(alternate-base); }
QToolBar#callButtons { background: transparent; border: none; spacing: 6px; padding: 0px; }
QToolBar#callButtons QToolButton { padding: 2px 7px; border: 1px solid palette(mid); border-radius: 4px;
    background: palette(button); }
QToolBar#callButtons QToolButton:hover { border-color: palette(highlight); }
QToolBar#callButtons QToolButton:pressed,
QToolBar#callButtons QToolButton:checked { background: palette(mid); }
QToolBar#callButtons QToolButton:disabled { background: transparent; }
QToolBar#callButtons QToolButton#qt_toolbar_ext_button { border: none; background: transparent;
    padding: 0px; }
QToolButton#callAnswer[accent="true"] { background: palette(highlight); color: palette(highlighted-text);
    border: 1px solid palette(highlight); border-radius: 4px; font-weight: 600; }
QToolButton#callDone { padding: 2px 10px; border: 1px solid palette(mid); border-radius: 4px;
    background: palette(button); }
QToolButton#callDone:enabled { background: palette(highlight); color: palette(highlighted-text);
    border-color: palette(highlight); font-weight: 600; }
QToolButton[lineButton="true"] { padding: 2px 8px; border: 1px solid palette(mid); border-radius: 4px;
    background: palette(button); }
QToolButton[lineButton="true"]:checked { background: palette(base);
    border-bottom: 3px solid palette(highlight); }
QToolButton[lineButton="true"][ringing="true"] { border: 1px solid palette(highlight); font-weight: 600; }
"""


@dataclass(frozen=True, slots=True)
class LineView:
    """One button of the line switcher."""

    call_id: str
    label: str  # "Ann Smith" (elided on the button when long)
    state_text: str  # "On hold" (never elided)
    accessible: str  # "Line 2: Ann Smith, on hold"
    ringing: bool = False
    tooltip: str = ""


@dataclass(frozen=True, slots=True)
class BarView:
    """Everything the strip shows, except the timer and the status line."""

    #: Why there is no CTI (the manager is missing or failed); everything is disabled.
    unavailable: str = ""
    #: ``""`` without a call, else ``ringing``, ``dialing``, ``connected``, ``held``, ``wrap_up``, ``ended``.
    state: str = ""
    state_text: str = ""
    number: str = ""
    name: str = ""
    details: str = ""  # the tooltip of the number (queue, dialled number, direction)
    #: The keys of the buttons that are enabled (of :data:`CALL_BUTTONS`, :data:`CONSULT_BUTTONS`, ``done``).
    enabled: frozenset[str] = frozenset()
    #: Why a button is disabled although it would apply (the adapter cannot do it): key -> reason.
    unsupported: dict[str, str] = field(default_factory=dict)
    #: The keys of the call buttons on the bar (the others do not apply in this state).
    shown: frozenset[str] = frozenset({"dialpad"})
    held: bool = False  # the hold button says Retrieve
    muted: bool = False  # the mute button is pressed and says Unmute
    consulting: bool = False  # the consultation buttons are shown
    wrap_up: bool = False  # the disposition and Done are shown
    dispositions: tuple[str, ...] = ()
    lines: tuple[LineView, ...] = ()  # shown when there are two or more
    current: str | None = None  # the call id of the active line


class ElidedLabel(QLabel):
    """A one-line label that elides its text (kept whole in :meth:`text`) when it is too narrow."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()), shown)
        painter.end()


class CallBarWidget(QFrame):
    """The call bar (see the module doc)."""

    command_requested = Signal(str)
    """A button was pressed: its key (``hold`` also while it says Retrieve, ``mute`` also for Unmute)."""
    line_chosen = Signal(str)
    """The agent chose another line: its call id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callBar")
        self.setProperty("callBar", True)  # the control renames the widget: the style sheet goes by this
        self.setFrameShape(QFrame.Shape.StyledPanel)  # the style sheet draws its ringing edge
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(STYLE)
        self.setAccessibleName("Call bar")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 6, 3)
        row.setSpacing(6)

        # the line switcher
        self.lines_box = QWidget(self)
        self.lines_box.setObjectName("callLines")
        self.lines_box.setAccessibleName("Lines")
        lines_layout = QHBoxLayout(self.lines_box)
        lines_layout.setContentsMargins(0, 0, 6, 0)
        lines_layout.setSpacing(2)
        self._lines_layout = lines_layout
        self.line_group = QButtonGroup(self)
        self.line_group.setExclusive(True)
        self.line_buttons: dict[str, QToolButton] = {}
        self.lines_box.hide()
        row.addWidget(self.lines_box)

        # state, identity, timer
        self.state_label = QLabel(self)
        self.state_label.setObjectName("callState")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(self.state_label)
        identity = QVBoxLayout()
        identity.setSpacing(0)
        identity.setContentsMargins(0, 0, 0, 0)
        self.number_label = QLabel(self)
        self.number_label.setObjectName("callNumber")
        self.number_label.setTextFormat(Qt.TextFormat.PlainText)
        self.number_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = self.number_label.font()
        bold.setBold(True)
        self.number_label.setFont(bold)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("callerName")
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        identity.addWidget(self.number_label)
        identity.addWidget(self.name_label)
        self.identity = QWidget(self)
        self.identity.setLayout(identity)
        self.identity.setMaximumWidth(MAX_IDENTITY_WIDTH + 8)
        row.addWidget(self.identity)
        self.timer_label = QLabel("", self)
        self.timer_label.setObjectName("callTimer")
        self.timer_label.setTextFormat(Qt.TextFormat.PlainText)
        digits = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        digits.setPointSizeF(self.font().pointSizeF())
        self.timer_label.setFont(digits)
        self.timer_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.timer_label)

        # wrap-up: right after the timer, where the agent looks (it never goes to the overflow)
        self.wrap_box = QWidget(self)
        self.wrap_box.setObjectName("wrapUp")
        wrap_layout = QHBoxLayout(self.wrap_box)
        wrap_layout.setContentsMargins(2, 0, 0, 0)
        wrap_layout.setSpacing(6)
        self.disposition = QComboBox(self.wrap_box)
        self.disposition.setObjectName("callDisposition")
        self.disposition.setAccessibleName("Disposition")
        self.disposition.setToolTip("How the call ended (saved with the interaction)")
        self.disposition.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.disposition.currentIndexChanged.connect(lambda _i: self._update_done())
        self.buttons: dict[str, QToolButton] = {}
        wrap_layout.addWidget(self.disposition)
        wrap_layout.addWidget(self._button("done", "Done", self.wrap_box))
        self.wrap_box.hide()
        row.addWidget(self.wrap_box)
        row.addWidget(self._separator())

        # the call buttons: a tool bar, so that those that do not fit go to its overflow menu
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("callButtons")
        self.toolbar.setAccessibleName("Call buttons")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.button_actions: dict[str, QAction] = {}
        labels = {**CALL_BUTTONS, **CONSULT_BUTTONS}
        for key in TOOLBAR_ORDER:  # what matters most first: the overflow takes from the end
            self.button_actions[key] = self.toolbar.addWidget(self._button(key, labels[key], self.toolbar))
        self.buttons["hold"].setCheckable(True)
        self.buttons["mute"].setCheckable(True)
        row.addWidget(self.toolbar)

        # the status line
        self.status = ElidedLabel(self)
        self.status.setObjectName("callStatus")
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(0)  # room for a message only when there is one (set_status)
        row.addWidget(self.status, 1)
        self.view = BarView()
        self.show_view(self.view)

    # ------------------------------------------------------------------ building
    def _separator(self) -> QFrame:
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        line.setForegroundRole(QPalette.ColorRole.Mid)
        line.setFixedHeight(22)
        return line

    def _button(self, key: str, label: str, parent: QWidget | None = None) -> QToolButton:
        button = QToolButton(parent or self)
        button.setObjectName(f"call{key[:1].upper()}{key[1:]}")
        button.setText(label)
        button.setAccessibleName(CONSULT_TIPS.get(key, label))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAutoRaise(False)
        button.clicked.connect(lambda _checked=False, k=key: self._pressed(k))
        self.buttons[key] = button
        return button

    def _pressed(self, key: str) -> None:
        # a checkable button shows the state the manager reports, not the click
        self._apply_toggles()
        self.command_requested.emit(key)

    # ------------------------------------------------------------------ what the control tells
    def show_view(self, view: BarView) -> None:
        """Show ``view`` (the timer and the status line keep what they show)."""
        self.view = view
        has_call = bool(view.state)
        self._set_property(self, "ringing", view.state == "ringing")
        self.state_label.setVisible(has_call)
        self.state_label.setText(view.state_text)
        self._set_property(self.state_label, "state", view.state)
        if view.unavailable:  # the reason goes to the status line, which has the room
            self._set_identity("CTI unavailable", "")
            self.number_label.setToolTip(view.unavailable)
        elif has_call:
            self._set_identity(view.number or "Unknown number", view.name)
            self.number_label.setToolTip(view.details)
        else:
            self._set_identity("No call", "")
            self.number_label.setToolTip("")
        self.number_label.setForegroundRole(
            QPalette.ColorRole.WindowText if has_call else QPalette.ColorRole.PlaceholderText)
        self.timer_label.setVisible(has_call)
        for key, button in self.buttons.items():
            button.setEnabled(key in view.enabled)
            if key != "done":
                button.setToolTip(view.unsupported.get(key, "") or CONSULT_TIPS.get(key, ""))
        self._apply_toggles()
        self._set_property(self.buttons["answer"], "accent", "answer" in view.enabled)
        for key, action in self.button_actions.items():
            action.setVisible(key in view.shown)
        self.wrap_box.setVisible(view.wrap_up)
        if view.wrap_up:
            self._set_dispositions(view.dispositions)
        self._update_done()
        self._set_lines(view.lines if len(view.lines) > 1 else (), view.current)
        if view.state == "ringing":
            who = view.name or view.number or "an unknown number"
            self.setAccessibleDescription(f"Incoming call from {who}, ringing")
        else:
            self.setAccessibleDescription(f"{view.state_text} {view.number}".strip())

    def _apply_toggles(self) -> None:
        view = self.view
        hold, mute = self.buttons["hold"], self.buttons["mute"]
        hold.setChecked(view.held)
        hold.setText("Retrieve" if view.held else "Hold")
        hold.setAccessibleName(hold.text())
        mute.setChecked(view.muted)
        mute.setText("Unmute" if view.muted else "Mute")
        mute.setAccessibleName(mute.text())

    def _set_identity(self, number: str, name: str) -> None:
        elide, width = Qt.TextElideMode.ElideRight, MAX_IDENTITY_WIDTH
        self.number_label.setText(self.number_label.fontMetrics().elidedText(number, elide, width))
        shown = self.name_label.fontMetrics().elidedText(name, elide, width)
        self.name_label.setText(shown)
        self.name_label.setVisible(bool(name))
        self.name_label.setToolTip(name if shown != name else "")

    def _set_dispositions(self, dispositions: Sequence[str]) -> None:
        current = [self.disposition.itemText(i) for i in range(self.disposition.count())]
        wanted = ["", *dispositions] if dispositions else []
        if current != wanted:
            chosen = self.disposition.currentText()
            self.disposition.clear()
            for text in wanted:
                self.disposition.addItem(text or "Disposition…", text)
            index = self.disposition.findData(chosen)
            self.disposition.setCurrentIndex(max(0, index))
        self.disposition.setVisible(bool(dispositions))

    def _update_done(self) -> None:
        """Done needs a disposition when there are dispositions to choose from."""
        done = self.buttons["done"]
        needs = bool(self.view.dispositions) and not self.chosen_disposition()
        done.setEnabled("done" in self.view.enabled and not needs)
        done.setToolTip("Choose a disposition first" if needs
                        else "Wrap-up is over: ready for the next call")

    def chosen_disposition(self) -> str:
        data = self.disposition.currentData()
        return str(data) if data else ""

    def _set_lines(self, lines: Sequence[LineView], current: str | None) -> None:
        wanted = [line.call_id for line in lines]
        for call_id in [c for c in self.line_buttons if c not in wanted]:
            gone = self.line_buttons.pop(call_id)
            self.line_group.removeButton(gone)
            self._lines_layout.removeWidget(gone)
            gone.deleteLater()
        for position, line in enumerate(lines):
            button = self.line_buttons.get(line.call_id)
            if button is None:
                button = QToolButton(self.lines_box)
                button.setObjectName(f"callLine:{line.call_id}")
                button.setCheckable(True)
                button.setProperty("lineButton", True)
                button.clicked.connect(lambda _checked=False, cid=line.call_id: self._line_clicked(cid))
                self.line_group.addButton(button)
                self.line_buttons[line.call_id] = button
            self._lines_layout.insertWidget(position, button)
            label = button.fontMetrics().elidedText(line.label, Qt.TextElideMode.ElideRight, MAX_LINE_WIDTH)
            button.setText(f"{label} · {line.state_text}")
            button.setToolTip(line.tooltip or f"{line.label} · {line.state_text}")
            button.setAccessibleName(line.accessible)
            self._set_property(button, "ringing", line.ringing and line.call_id != current)
            button.setChecked(line.call_id == current)
        self.lines_box.setVisible(bool(lines))

    def _line_clicked(self, call_id: str) -> None:
        if call_id != self.view.current:
            self.line_chosen.emit(call_id)
        button = self.line_buttons.get(self.view.current or "")
        if button is not None:  # the manager's choice shows once it reports it
            button.setChecked(True)

    def set_timer(self, text: str, tooltip: str = "") -> None:
        if self.timer_label.text() != text:
            self.timer_label.setText(text)
            # as wide as the widest text of this shape ("00:00", "0:00:00 left"): no jitter each second
            sample = "".join("0" if ch.isdigit() else ch for ch in text) or "00:00"
            self.timer_label.setMinimumWidth(self.timer_label.fontMetrics().horizontalAdvance(sample) + 4)
        self.timer_label.setToolTip(tooltip)
        self.timer_label.setAccessibleName(f"{tooltip} {text}".strip())

    def set_status(self, text: str, *, error: bool = False) -> None:
        """The status line (an error in the theme's attention colour; the whole text in its tooltip)."""
        self.status.setText(text)
        room = min(120, self.status.fontMetrics().horizontalAdvance(text)) if text else 0
        self.status.setMinimumWidth(room)
        self.status.setToolTip(text)
        palette = self.status.palette()
        if error:
            palette.setColor(QPalette.ColorRole.WindowText, attention_colour())
            self.status.setForegroundRole(QPalette.ColorRole.WindowText)
        else:
            palette = self.palette()
            self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.status.setPalette(palette)
        self.status.setProperty("error", error)
        self.status.setAccessibleName("Error" if error and text else "Status")

    # ------------------------------------------------------------------ helpers
    def _set_property(self, widget: QWidget, name: str, value: object) -> None:
        if widget.property(name) != value:
            widget.setProperty(name, value)
            style: QStyle = widget.style()
            style.unpolish(widget)
            style.polish(widget)
            widget.update()

    def shown(self, key: str) -> bool:
        """Whether the button ``key`` is on the bar now (it may sit in the tool bar's overflow menu)."""
        action = self.button_actions.get(key)
        if action is not None:
            return action.isVisible()
        return self.buttons[key].isVisibleTo(self)

    def texts(self) -> dict[str, str]:
        """What the strip says (tests): state, number, name, timer, status."""
        return {"state": self.state_label.text() if self.state_label.isVisibleTo(self) else "",
                "number": self.number_label.text(), "name": self.name_label.text(),
                "timer": self.timer_label.text(), "status": self.status.text()}
