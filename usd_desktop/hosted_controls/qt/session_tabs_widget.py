"""The Session Tabs strip as a plain widget: one tab per customer session, marks, timer, limit banner.

It knows nothing of the runtime: :class:`~usd_desktop.hosted_controls.qt.session_tabs.SessionTabsControl`
tells it what to show (:meth:`SessionTabsWidget.sync`, :meth:`SessionTabsWidget.set_marks`...) and
listens to its signals (a tab clicked, a close button pressed, Redo screen pop).

Each tab is ``[marks] name  elapsed [x]``: the *marks* on the left are painted (an attention dot, a
busy ring while a control of the session works, the 3-minute progress bar of
``ResetProgressIndicator``) and take no room when there is none; the elapsed time and the close
button sit on the right. Colours come from the palette, except the attention colour, which has one
value per theme (:data:`ATTENTION_COLOURS`) so it stays visible on every background.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: The widest a tab's name may be before it is elided (pixels).
MAX_NAME_WIDTH = 180
#: The attention mark's colour for each theme (``QApplication`` property ``usdTheme``).
ATTENTION_COLOURS = {"light": "#cf222e", "dark": "#ff7b72", "high-contrast": "#ffff00"}
#: Themes whose style sheet fills the chosen tab with the highlight colour.
FILLED_TAB_THEMES = ("high-contrast",)


def attention_colour() -> QColor:
    app = QApplication.instance()
    theme = app.property("usdTheme") if app is not None else None
    return QColor(ATTENTION_COLOURS.get(str(theme or "light"), ATTENTION_COLOURS["light"]))


def format_elapsed(seconds: float) -> str:
    """``mm:ss`` under an hour, ``h:mm:ss`` from then on (negative clocks count as zero)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class TabInfo:
    """What one tab shows besides its marks."""

    session_id: str
    name: str
    overview: tuple[str, ...] = ()
    started: str = ""  # local start time, for the tooltip


class TabMarks(QWidget):
    """The left side of a tab: attention dot, busy ring, progress bar; nothing when all are off."""

    DOT = 8
    RING = 10
    BAR = 28
    GAP = 4
    MARGIN = 6  # room from the tab's edge (and the tab before it)
    HEIGHT = 14

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attention = False
        self.busy = False
        self.progress: float | None = None  # 0..1 while the progress indicator shows
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.resize(self.sizeHint())

    def _parts(self) -> list[str]:
        parts = []
        if self.attention:
            parts.append("attention")
        if self.busy:
            parts.append("busy")
        if self.progress is not None:
            parts.append("progress")
        return parts

    def sizeHint(self) -> QSize:
        widths = {"attention": self.DOT, "busy": self.RING, "progress": self.BAR}
        parts = self._parts()
        if not parts:
            return QSize(0, 0)
        width = self.MARGIN + sum(widths[p] for p in parts) + self.GAP * (len(parts) - 1)
        return QSize(width, self.HEIGHT)

    def set_state(self, attention: bool, busy: bool, progress: float | None) -> bool:
        """Show these marks; True when the room the marks take changed (the tab must relayout)."""
        before = self._parts()
        self.attention, self.busy = attention, busy
        self.progress = None if progress is None else min(1.0, max(0.0, progress))
        self.update()
        if self._parts() != before:
            self.resize(self.sizeHint())
            return True
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        x = float(self.MARGIN)
        middle = self.height() / 2
        for part in self._parts():
            if part == "attention":
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(attention_colour())
                painter.drawEllipse(QRectF(x, middle - self.DOT / 2, self.DOT, self.DOT))
                x += self.DOT
            elif part == "busy":
                pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                ring = QRectF(x + 1, middle - self.RING / 2 + 1, self.RING - 2, self.RING - 2)
                painter.drawArc(ring, 90 * 16, -270 * 16)  # an open ring: "working"
                x += self.RING
            else:
                fraction = self.progress or 0.0
                track = QRectF(x, middle - 2, self.BAR, 4)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(palette.color(QPalette.ColorRole.Mid))
                painter.drawRoundedRect(track, 2, 2)
                fill = attention_colour() if fraction >= 1.0 else palette.color(QPalette.ColorRole.Highlight)
                painter.setBrush(fill)
                painter.drawRoundedRect(QRectF(x, middle - 2, self.BAR * fraction, 4), 2, 2)
                x += self.BAR
            x += self.GAP
        painter.end()


class CloseButton(QToolButton):
    """A small x in the text colour of the current theme, on a soft square while hovered."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setFixedSize(16, 16)
        self.setCursor(Qt.CursorShape.ArrowCursor)
        self.role = QPalette.ColorRole.PlaceholderText

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        if self.underMouse() or self.isDown():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(QRectF(self.rect()), 3, 3)
        role = QPalette.ColorRole.WindowText if self.underMouse() else self.role
        pen = QPen(palette.color(role), 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        inset = 4.5
        r = QRectF(self.rect()).adjusted(inset, inset, -inset, -inset)
        painter.drawLine(r.topLeft(), r.bottomRight())
        painter.drawLine(r.topRight(), r.bottomLeft())
        painter.end()


class TabTail(QWidget):
    """The right side of a tab: the elapsed time and the close button."""

    def __init__(self, session_id: str, closable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(4)
        self.timer = QLabel("00:00", self)
        self.timer.setObjectName("sessionTimer")
        self.timer.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.timer.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.close_button = CloseButton(self)
        self.close_button.setObjectName("sessionClose")
        self.close_button.setToolTip("Close this session (Ctrl+F4)")
        self.close_button.setAccessibleName("Close session")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.setVisible(closable)
        self.session_id = session_id
        layout.addWidget(self.timer)
        layout.addWidget(self.close_button)
        self.set_elapsed("00:00")

    def set_elapsed(self, text: str) -> bool:
        """Show ``text``; True when the label had to grow (past an hour: the tab must relayout)."""
        if self.timer.text() == text and self.timer.minimumWidth():
            return False
        self.timer.setText(text)
        sample = "0:00:00" if text.count(":") == 2 else "00:00"
        width = self.timer.fontMetrics().horizontalAdvance(sample) + 2
        grew = width != self.timer.minimumWidth()
        if grew:
            self.timer.setMinimumWidth(width)
            self.resize(self.sizeHint())
        return grew

    def set_text_role(self, role: QPalette.ColorRole) -> None:
        """The colour role of the time and the x (on a highlighted tab: HighlightedText)."""
        self.timer.setForegroundRole(role)
        self.close_button.role = role
        self.close_button.update()

    def set_closable(self, closable: bool) -> None:
        if self.close_button.isVisibleTo(self) != closable:
            self.close_button.setVisible(closable)
            self.resize(self.sizeHint())


class SessionTabBar(QTabBar):
    """A tab bar the mouse wheel does not scroll through: a session never changes by accident."""

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()


class SessionTabsWidget(QWidget):
    """The strip: session tabs (or a quiet placeholder) and, when a pop was refused, the limit banner."""

    switch_requested = Signal(str)
    """A tab was chosen (clicked, or moved to with the keyboard): the session's id."""
    close_requested = Signal(str)
    """A tab's close button was pressed: the session's id."""
    redo_requested = Signal()
    """The banner's Redo screen pop button was pressed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.bar = SessionTabBar(self)
        self.bar.setObjectName("sessionTabBar")
        self.bar.setDocumentMode(True)
        self.bar.setExpanding(False)
        self.bar.setMovable(False)
        self.bar.setUsesScrollButtons(True)
        self.bar.setElideMode(Qt.TextElideMode.ElideNone)  # names are elided to MAX_NAME_WIDTH
        self.bar.setDrawBase(False)
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.bar.currentChanged.connect(self._current_changed)
        self.placeholder = QLabel("No customer session", self)
        self.placeholder.setObjectName("noSessionPlaceholder")
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.placeholder.setContentsMargins(6, 6, 6, 6)
        self.banner = QFrame(self)
        self.banner.setObjectName("sessionLimitBanner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setStyleSheet(
            "QFrame#sessionLimitBanner { border: 1px solid palette(highlight); border-radius: 4px;"
            " background: palette(base); }"
        )
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(6, 2, 4, 2)
        banner_layout.setSpacing(6)
        icon = QLabel(self.banner)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16))
        self.banner_text = QLabel(self.banner)
        self.banner_text.setObjectName("sessionLimitText")
        self.banner_text.setTextFormat(Qt.TextFormat.PlainText)
        self.redo_button = QPushButton("Redo screen pop", self.banner)
        self.redo_button.setObjectName("redoScreenPop")
        self.redo_button.clicked.connect(self.redo_requested)
        banner_layout.addWidget(icon)
        banner_layout.addWidget(self.banner_text)
        banner_layout.addWidget(self.redo_button)
        banner_layout.addStretch(1)
        self.banner.hide()
        row.addWidget(self.bar, 1)
        row.addWidget(self.placeholder, 1)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        self.closable = True
        self._marks: dict[str, TabMarks] = {}
        self._tails: dict[str, TabTail] = {}
        self._syncing = 0
        self._show_placeholder(True)

    # ------------------------------------------------------------------ tabs
    def session_ids(self) -> list[str]:
        return [str(self.bar.tabData(i)) for i in range(self.bar.count())]

    def index_of(self, session_id: str) -> int:
        for i in range(self.bar.count()):
            if self.bar.tabData(i) == session_id:
                return i
        return -1

    def sync(self, tabs: Sequence[TabInfo], current: str | None) -> None:
        """Make the strip show ``tabs``, in this order, with ``current`` chosen (no request raised)."""
        self._syncing += 1
        try:
            wanted = [t.session_id for t in tabs]
            for sid in [s for s in self.session_ids() if s not in wanted]:
                self._remove(sid)
            for position, info in enumerate(tabs):
                index = self.index_of(info.session_id)
                if index < 0:
                    self._insert(position, info)
                elif index != position:
                    self.bar.moveTab(index, position)
                self.set_info(info)
            self.set_current(current)
        finally:
            self._syncing -= 1
        self._show_placeholder(not tabs)

    def _insert(self, position: int, info: TabInfo) -> None:
        index = self.bar.insertTab(position, "")
        self.bar.setTabData(index, info.session_id)
        marks = TabMarks(self.bar)
        tail = TabTail(info.session_id, self.closable, self.bar)
        tail.close_button.clicked.connect(lambda _=False, sid=info.session_id: self.close_requested.emit(sid))
        self._marks[info.session_id] = marks
        self._tails[info.session_id] = tail
        self.bar.setTabButton(index, QTabBar.ButtonPosition.LeftSide, marks)
        self.bar.setTabButton(index, QTabBar.ButtonPosition.RightSide, tail)

    def _remove(self, session_id: str) -> None:
        index = self.index_of(session_id)
        self._marks.pop(session_id, None)  # the bar deletes the tab's side widgets itself
        self._tails.pop(session_id, None)
        if index >= 0:
            self.bar.removeTab(index)

    def set_info(self, info: TabInfo) -> None:
        index = self.index_of(info.session_id)
        if index < 0:
            return
        name = info.name or "Session"
        shown = self.bar.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, MAX_NAME_WIDTH)
        if self.bar.tabText(index) != shown:
            self.bar.setTabText(index, shown)
        lines = [f"<b>{html.escape(name)}</b>"]
        lines += [html.escape(line) for line in info.overview]
        if info.started:
            lines.append(f"<i>Started {html.escape(info.started)}</i>")
        self.bar.setTabToolTip(index, "<br>".join(lines))
        self.bar.setAccessibleName("Customer sessions")

    def set_current(self, session_id: str | None) -> None:
        self._syncing += 1
        try:
            index = self.index_of(session_id) if session_id else -1
            if index >= 0:
                self.bar.setCurrentIndex(index)
            self._paint_current(session_id if index >= 0 else None)
        finally:
            self._syncing -= 1

    def _paint_current(self, current: str | None) -> None:
        # With no customer session active (the global view), the tab names are in italics.
        font = self.bar.font()
        italic = current is None and self.bar.count() > 0
        if font.italic() != italic:
            font.setItalic(italic)
            self.bar.setFont(font)
        # Themes that paint the chosen tab in the highlight colour (high contrast) need the
        # highlighted-text colour on it.
        app = QApplication.instance()
        filled = app is not None and app.property("usdTheme") in FILLED_TAB_THEMES
        chosen = str(self.bar.tabData(self.bar.currentIndex())) if current is not None else None
        for sid, tail in self._tails.items():
            tail.set_text_role(QPalette.ColorRole.HighlightedText if filled and sid == chosen
                               else QPalette.ColorRole.PlaceholderText)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._paint_current(self._current())

    def _current(self) -> str | None:
        index = self.bar.currentIndex()
        return str(self.bar.tabData(index)) if index >= 0 and not self.bar.font().italic() else None

    def _current_changed(self, index: int) -> None:
        if self._syncing or index < 0:
            return
        self.switch_requested.emit(str(self.bar.tabData(index)))

    def _show_placeholder(self, show: bool) -> None:
        self.placeholder.setVisible(show)
        self.bar.setVisible(not show)

    # ------------------------------------------------------------------ per-tab state
    def _relayout(self, session_id: str) -> None:
        index = self.index_of(session_id)
        if index >= 0:  # setting the text again makes the bar measure the tab again
            self.bar.setTabText(index, self.bar.tabText(index))

    def set_marks(self, session_id: str, *, attention: bool, busy: bool, progress: float | None) -> None:
        marks = self._marks.get(session_id)
        index = self.index_of(session_id)
        if marks is None or index < 0:
            return
        if marks.set_state(attention, busy, progress):
            self._relayout(session_id)
        self.bar.setTabTextColor(index, attention_colour() if attention else QColor())

    def marks(self, session_id: str) -> TabMarks | None:
        return self._marks.get(session_id)

    def tail(self, session_id: str) -> TabTail | None:
        return self._tails.get(session_id)

    def set_elapsed(self, session_id: str, text: str) -> None:
        tail = self._tails.get(session_id)
        if tail is not None and tail.set_elapsed(text):
            self._relayout(session_id)

    def set_closable(self, closable: bool) -> None:
        self.closable = closable
        for sid, tail in self._tails.items():
            tail.set_closable(closable)
            self._relayout(sid)

    # ------------------------------------------------------------------ the limit banner
    def set_banner(self, text: str | None, *, can_redo: bool, tooltip: str = "") -> None:
        if text is None:
            self.banner.hide()
            return
        self.banner_text.setText(text)
        self.banner.setToolTip(tooltip)
        self.redo_button.setEnabled(can_redo)
        self.redo_button.setToolTip("Open the refused session now" if can_redo
                                    else "Close a session first: no slot is free")
        self.banner.show()
