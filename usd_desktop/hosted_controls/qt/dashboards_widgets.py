"""The dashboards' widgets: figure tiles, the agent's day, the team's day and the trend charts.

Widgets only show what they are given (:mod:`usd_desktop.hosted_controls.qt.dashboards` computes
it off the GUI thread). Colours follow the application palette, so the light, dark and
high-contrast themes all read well; a tile in alert is tinted red with a red border.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

NONE = "—"


# ---------------------------------------------------------------------- formatting
def duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour); ``—`` for no value."""
    if seconds is None:
        return NONE
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def lasted(seconds: float) -> str:
    """A time in a state, roughly: ``<1 min``, ``12 min``, ``2 h 05``."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "<1 min"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"


def percent(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value:.0f} %" if abs(value - round(value)) < 0.05 else f"{value:.1f} %"


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _colours(widget: QWidget) -> dict[str, str]:
    palette = widget.palette()
    dark = _is_dark(palette)
    return {
        "base": palette.color(QPalette.ColorRole.Base).name(),
        "text": palette.color(QPalette.ColorRole.Text).name(),
        "muted": palette.color(QPalette.ColorRole.PlaceholderText).name(),
        "border": "#3a414b" if dark else "#d0d7de",
        "accent": palette.color(QPalette.ColorRole.Highlight).name(),
        "alert_bg": "#4a1d1f" if dark else "#fdecea",
        "alert_border": "#f85149" if dark else "#cf222e",
        "alert_text": "#ffb3ad" if dark else "#a40e26",
    }


# ---------------------------------------------------------------------- tiles
class Tile(QFrame):
    """One figure: a caption, the value in large type and a note under it."""

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.alert = False
        self.setObjectName(f"tile_{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        self.caption = QLabel(caption, self)
        self.value = QLabel(NONE, self)
        font = QFont(self.value.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.9)
        font.setBold(True)
        self.value.setFont(font)
        self.note = QLabel("", self)
        for label in (self.caption, self.value, self.note):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        self.restyle()

    def set(self, value: str, note: str = "", *, alert: bool = False) -> None:
        self.value.setText(value)
        self.note.setText(note or " ")  # the line stays: tiles side by side keep one height
        if alert != self.alert:
            self.alert = alert
            self.restyle()

    def restyle(self) -> None:
        c = _colours(self)
        background, border = (c["alert_bg"], c["alert_border"]) if self.alert else (c["base"], c["border"])
        value = c["alert_text"] if self.alert else c["text"]
        width = 2 if self.alert else 1
        self.setStyleSheet(
            f"QFrame#{self.objectName()} {{ background: {background}; border: {width}px solid {border};"
            " border-radius: 6px; }"
        )
        self.caption.setStyleSheet(f"color: {c['muted']}; background: transparent; border: none;")
        self.value.setStyleSheet(f"color: {value}; background: transparent; border: none;")
        self.note.setStyleSheet(f"color: {c['muted']}; background: transparent; border: none;")


class TileGrid(QWidget):
    """Tiles in rows of ``columns``."""

    def __init__(self, tiles: Sequence[tuple[str, str]], columns: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.tiles: dict[str, Tile] = {}
        for index, (key, caption) in enumerate(tiles):
            tile = Tile(key, caption, self)
            self.tiles[key] = tile
            layout.addWidget(tile, index // columns, index % columns)
        for column in range(columns):
            layout.setColumnStretch(column, 1)


# ---------------------------------------------------------------------- charts
def _plot(parent: QWidget, title: str, left: str) -> pg.PlotWidget:
    c = _colours(parent)
    plot = pg.PlotWidget(parent, background=c["base"])
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    item = plot.getPlotItem()
    item.setTitle(title, color=c["text"], size="10pt")
    item.showGrid(x=False, y=True, alpha=0.25)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(c["border"]))
        axis.setTextPen(pg.mkPen(c["muted"]))
    item.getAxis("left").setLabel(left, color=c["muted"])
    item.getAxis("left").setWidth(48)
    return plot


class HourChart(QWidget):
    """Handled contacts per hour of the day, as bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = _plot(self, "Handled per hour", "calls")
        self.plot.setMinimumHeight(150)
        layout.addWidget(self.plot)
        self.bars: pg.BarGraphItem | None = None
        self.shown: dict[int, int] = {}

    def show_hours(self, per_hour: Mapping[int, int], now_hour: int) -> None:
        self.shown = dict(per_hour)
        item = self.plot.getPlotItem()
        if self.bars is not None:
            item.removeItem(self.bars)
        hours = sorted(per_hour)
        first = min([8, now_hour, *hours])  # a working day at least, and every hour with calls
        last = max([now_hour, *hours, min(17, first + 9)])
        colour = _colours(self)["accent"]
        self.bars = pg.BarGraphItem(x=hours, height=[per_hour[h] for h in hours], width=0.7,
                                    brush=colour, pen=pg.mkPen(colour))
        item.addItem(self.bars)
        item.setXRange(first - 0.6, last + 0.6, padding=0)
        item.setYRange(0, max([3, *per_hour.values()]) + 0.5, padding=0)
        ticks = [(h, f"{h:02d}") for h in range(first, last + 1, 1 if last - first <= 12 else 2)]
        item.getAxis("bottom").setTicks([ticks])
        item.getAxis("left").setTickSpacing(major=max(1, (max([3, *per_hour.values()]) + 3) // 4), minor=1)


class TrendChart(QWidget):
    """Service level, AHT and handled contacts per day: three small charts side by side."""

    SERIES = (("service_level", "Service level", "%"), ("aht", "Avg handle time", "min"),
              ("handled", "Handled", "calls"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.plots: dict[str, pg.PlotWidget] = {}
        for key, title, unit in self.SERIES:
            plot = _plot(self, title, unit)
            plot.setMinimumHeight(140)
            self.plots[key] = plot
            layout.addWidget(plot)
        self.days: list[datetime] = []
        self.values: dict[str, list[float | None]] = {}

    def show_days(self, days: Sequence[datetime], values: Mapping[str, Sequence[float | None]],
                  target: float | None = None) -> None:
        self.days = list(days)
        self.values = {k: list(v) for k, v in values.items()}
        c = _colours(self)
        step = max(1, -(-len(days) // 5))  # five dates at most: they stay readable in a narrow chart
        last = len(days) - 1  # today always has its label
        ticks = [(i, day.strftime("%d.%m")) for i, day in enumerate(days) if (last - i) % step == 0]
        for key, _title, _unit in self.SERIES:
            item = self.plots[key].getPlotItem()
            item.clear()
            series = self.values.get(key, [])
            shown = [(i, float(v)) for i, v in enumerate(series) if v is not None and (v or key != "handled")]
            xs, ys = [i for i, _ in shown], [v for _, v in shown]
            if key == "handled":
                bars = pg.BarGraphItem(x=xs, height=ys, width=0.7, brush=c["accent"], pen=c["accent"])
                item.addItem(bars)
            else:
                item.plot(xs, ys, pen=pg.mkPen(c["accent"], width=2), symbol="o", symbolSize=5,
                          symbolBrush=c["accent"], symbolPen=pg.mkPen(c["accent"]))
            if key == "service_level" and target is not None:
                dashed = pg.mkPen(c["alert_border"], style=Qt.PenStyle.DashLine)
                line = pg.InfiniteLine(pos=target, angle=0, pen=dashed)
                item.addItem(line)
                item.setYRange(0, 100, padding=0.05)
            if key != "service_level":
                item.setYRange(0, max([1.0, *ys]) * 1.15, padding=0)
            item.getAxis("bottom").setTicks([ticks])
            item.setXRange(-1.0, max(last, 1) + 1.0, padding=0)  # room for the outer dates


# ---------------------------------------------------------------------- the two dashboards
def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.15)
    label.setFont(font)
    return label


AGENT_TILES = (
    ("handled", "Handled"), ("aht", "Avg handle time"), ("acw", "Avg after-call work"), ("hold", "Avg hold"),
    ("transfers", "Transfers"), ("fcr", "First-contact resolution"), ("csat", "Satisfaction (CSAT)"),
    ("occupancy", "Occupancy"),
)


class AgentDashboardWidget(QWidget):
    """The agent's day: a heading, the tiles (two columns) and handled calls per hour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.heading = _heading("My day", self)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {_colours(self)['muted']};")
        self.grid = TileGrid(AGENT_TILES, 2, self)
        self.tiles = self.grid.tiles
        self.chart = HourChart(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        layout.addWidget(self.grid)
        layout.addWidget(self.chart, 1)


TEAM_TILES = (
    ("waiting", "Calls waiting"), ("service_level", "Service level"), ("abandonment", "Abandoned"),
    ("asa", "Avg speed of answer"), ("handled", "Handled"), ("aht", "Avg handle time"),
)
TEAM_COLUMNS = ("Agent", "State", "Since", "Handled", "AHT")


class TeamDashboardWidget(QWidget):
    """The team's day (tiles, agents, alerts) and, on a second tab, the trends."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.heading = _heading("Team", self)
        self.status = QLabel("", self)
        self.status.setStyleSheet(f"color: {_colours(self)['muted']};")
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.status)
        layout.addLayout(top)
        self.tabs = QTabWidget(self)
        layout.addWidget(self.tabs, 1)

        today = QWidget(self.tabs)
        row = QHBoxLayout(today)
        row.setContentsMargins(4, 6, 4, 4)
        row.setSpacing(8)
        self.grid = TileGrid(TEAM_TILES, 3, today)
        self.tiles = self.grid.tiles
        left = QVBoxLayout()
        left.addWidget(self.grid)
        left.addStretch(1)
        row.addLayout(left, 4)

        self.table = QTableWidget(0, len(TEAM_COLUMNS), today)
        self.table.setHorizontalHeaderLabels(list(TEAM_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the state: elided if need be
        row.addWidget(self.table, 6)

        alerts = QVBoxLayout()
        alerts.addWidget(QLabel("Alerts", today))
        self.alerts = QListWidget(today)
        self.alerts.setWordWrap(True)
        alerts.addWidget(self.alerts, 1)
        row.addLayout(alerts, 3)
        self.tabs.addTab(today, "Today")

        self.trend = TrendChart(self.tabs)
        self.tabs.addTab(self.trend, "Trends")

    def add_alert(self, text: str, *, cleared: bool = False) -> None:
        item = QListWidgetItem(text)
        c = _colours(self)
        item.setForeground(QColor(c["muted"] if cleared else c["alert_text"]))
        self.alerts.insertItem(0, item)
        while self.alerts.count() > 100:
            self.alerts.takeItem(self.alerts.count() - 1)

    def show_agents(self, rows: Sequence[Sequence[str]]) -> None:
        table = self.table
        table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if column >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, column, item)


__all__ = [
    "AgentDashboardWidget",
    "HourChart",
    "TeamDashboardWidget",
    "Tile",
    "TrendChart",
    "duration",
    "lasted",
    "percent",
]
