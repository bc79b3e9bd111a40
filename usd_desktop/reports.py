"""Printable KPI reports: a table of :func:`usd_desktop.data.kpi.compute` rows as an A4 PDF with charts.

:func:`write_pdf` draws with :class:`QPainter` on a :class:`QPdfWriter` (vector text and charts, no
widgets): a title with the period and the grouping, a bar chart of the handled contacts and a line of
the service level (against its target) per group, then the KPI table, split over as many pages as it
needs with its header repeated on each, the totals last, and a footer with the page number. The
columns and their formatting come from :mod:`usd_desktop.data.kpi_export` (the CSV's source too).

It needs a :class:`QGuiApplication` (fonts); :func:`ensure_gui_application` makes one for a command
line tool, on the ``offscreen`` platform when there is no display.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
)

import usd_desktop
from usd_desktop.data.kpi import KpiRow
from usd_desktop.data.kpi_export import COLUMNS_BY_FIELD, display_key, display_value, key_names

#: The KPI columns of the printed table (the CSV has them all).
PDF_FIELDS = (
    "offered", "handled", "abandoned", "aht", "acw", "asa",
    "service_level", "abandonment_rate", "fcr", "csat", "occupancy",
)
#: Shorter names where the column is narrow.
SHORT_NAMES = {"abandoned": "Aband.", "abandonment_rate": "Aband. rate", "occupancy": "Occup."}
RESOLUTION = 300  # dots per inch: the painter's unit is a dot
MARGIN_MM = 15.0
BAR = QColor("#3b6ea8")
LINE = QColor("#c0504d")
GRID = QColor("#d0d0d0")
SHADE = QColor("#eef2f7")

_app: QGuiApplication | None = None


def ensure_gui_application() -> QGuiApplication:
    """The running :class:`QGuiApplication`, or a new one (``offscreen`` when ``QT_QPA_PLATFORM`` is
    unset and there is no ``DISPLAY`` nor ``WAYLAND_DISPLAY``)."""
    global _app
    current = QGuiApplication.instance()
    if isinstance(current, QGuiApplication):
        return current
    if current is not None:
        raise RuntimeError("a QCoreApplication without a GUI is running: the PDF report needs fonts")
    if not os.environ.get("QT_QPA_PLATFORM") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    _app = QGuiApplication(sys.argv[:1])
    return _app


def _mm(value: float) -> float:
    return value * RESOLUTION / 25.4


def _font(points: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


@dataclass(frozen=True)
class _Page:
    """The drawing area of a page, in dots (the painter's origin is inside the margins)."""

    width: float
    height: float
    footer: float  # where the footer line starts

    @property
    def bottom(self) -> float:
        return self.footer - _mm(3)


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of 10) giving about ``ticks`` ticks up to ``top``."""
    raw = max(top, 1e-9) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= raw))


class _Drawer:
    """Draws one report on a :class:`QPainter` over a :class:`QPdfWriter`."""

    def __init__(self, painter: QPainter, writer: QPdfWriter, page: _Page) -> None:
        self.p, self.writer, self.page = painter, writer, page

    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.writer)

    def text(
        self, rect: QRectF, text: str, font: QFont, flags: Qt.AlignmentFlag, color: QColor | None = None
    ) -> None:
        self.p.setFont(font)
        self.p.setPen(color or QColor("black"))
        elided = self.metrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        self.p.drawText(rect, int(flags), elided)

    # -- charts

    def _frame(
        self, rect: QRectF, title: str, labels: Sequence[str], top: float, unit: str
    ) -> tuple[QRectF, float]:
        """The title, the y axis with its grid and the x labels of a chart; returns the plot area and
        the value at its top."""
        small, bold = _font(7), _font(9, bold=True)
        line = self.metrics(small).height()
        title_rect = QRectF(rect.left(), rect.top(), rect.width(), line * 1.6)
        self.text(title_rect, title, bold, Qt.AlignmentFlag.AlignLeft)
        step = _nice_step(top)
        top = max(step, math.ceil(top / step) * step)
        axis_w = self.metrics(small).horizontalAdvance(f"{top:,.0f}{unit}") + _mm(2)
        plot = QRectF(
            rect.left() + axis_w, rect.top() + line * 2, rect.width() - axis_w, rect.height() - line * 3.5
        )
        self.p.setPen(QPen(GRID, _mm(0.2)))
        ticks = round(top / step)
        for index in range(ticks + 1):
            y = plot.bottom() - plot.height() * index / ticks
            self.p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            label_rect = QRectF(rect.left(), y - line / 2, axis_w - _mm(1), line)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            self.text(label_rect, f"{step * index:,.0f}{unit}", small, align)
        if labels:
            slot = plot.width() / len(labels)
            widest = max(self.metrics(small).horizontalAdvance(label) for label in labels) + _mm(2)
            every = max(1, math.ceil(widest / slot))
            for index in range(0, len(labels), every):
                x = plot.left() + slot * (index + 0.5)
                width = slot * every
                left = min(max(x - width / 2, rect.left()), rect.right() - width)
                label_rect = QRectF(left, plot.bottom() + _mm(1), width, line)
                self.text(label_rect, labels[index], small, Qt.AlignmentFlag.AlignHCenter)
        return plot, top

    def bar_chart(self, rect: QRectF, title: str, labels: Sequence[str], values: Sequence[float]) -> None:
        plot, top = self._frame(rect, title, labels, max(values, default=0.0) or 1.0, "")
        if not values:
            return
        slot = plot.width() / len(values)
        for index, value in enumerate(values):
            height = plot.height() * value / top
            bar = QRectF(plot.left() + slot * (index + 0.15), plot.bottom() - height, slot * 0.7, height)
            self.p.fillRect(bar, BAR)

    def line_chart(
        self,
        rect: QRectF,
        title: str,
        labels: Sequence[str],
        values: Sequence[float | None],
        target: float | None,
    ) -> None:
        plot, top = self._frame(rect, title, labels, 100.0, " %")
        slot = plot.width() / max(1, len(values))

        def point(index: int, value: float) -> QPointF:
            return QPointF(plot.left() + slot * (index + 0.5), plot.bottom() - plot.height() * value / top)

        if target is not None:
            self.p.setPen(QPen(QColor("#707070"), _mm(0.3), Qt.PenStyle.DashLine))
            y = point(0, target).y()
            self.p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        path, drawing = QPainterPath(), False
        for index, value in enumerate(values):
            if value is None:  # no offered contacts: a gap in the line
                drawing = False
                continue
            if drawing:
                path.lineTo(point(index, value))
            else:
                path.moveTo(point(index, value))
                drawing = True
        self.p.setPen(QPen(LINE, _mm(0.5)))
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawPath(path)
        self.p.setBrush(LINE)
        for index, value in enumerate(values):
            if value is not None:
                self.p.drawEllipse(point(index, value), _mm(0.7), _mm(0.7))
        self.p.setBrush(Qt.BrushStyle.NoBrush)

    # -- table

    def footer(self, left: str, number: int, count: int) -> None:
        font = _font(7)
        rect = QRectF(0, self.page.footer, self.page.width, self.metrics(font).height())
        self.p.setPen(QPen(GRID, _mm(0.2)))
        self.p.drawLine(QPointF(0, rect.top()), QPointF(self.page.width, rect.top()))
        grey = QColor("#505050")
        self.text(rect, left, font, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, grey)
        flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom
        self.text(rect, f"Page {number} of {count}", font, flags, grey)


@dataclass(frozen=True)
class _Table:
    """The printed table: header cells, body rows (the totals last) and the column widths."""

    header: list[str]
    rows: list[list[str]]
    widths: list[float]
    total_row: bool


def _table(rows: Sequence[KpiRow], names: Sequence[str], totals: KpiRow | None, drawer: _Drawer) -> _Table:
    columns = [COLUMNS_BY_FIELD[name] for name in PDF_FIELDS]
    group = " / ".join(name.capitalize() for name in names) or "All"
    header = [group]
    for column in columns:
        name = SHORT_NAMES.get(column.field, column.name)
        header.append(f"{name} ({column.unit})" if column.unit else name)
    body = [
        [" / ".join(display_key(name, row.key.get(name)) for name in names) or "All",
         *(display_value(column, getattr(row, column.field)) for column in columns)]
        for row in rows
    ]
    if totals is not None:
        body.append(["Total", *(display_value(column, getattr(totals, column.field)) for column in columns)])
    fm = drawer.metrics(_font(7.5))
    key_width = max([fm.horizontalAdvance(cells[0]) for cells in body] + [fm.horizontalAdvance(group)])
    key_width = min(max(key_width + _mm(2), _mm(22)), _mm(45))
    rest = (drawer.page.width - key_width) / len(columns)
    return _Table(header, body, [key_width] + [rest] * len(columns), totals is not None)


def _draw_table_header(drawer: _Drawer, table: _Table, y: float, height: float) -> None:
    font = _font(6.5, bold=True)
    drawer.p.fillRect(QRectF(0, y, drawer.page.width, height), SHADE)
    drawer.p.setFont(font)
    drawer.p.setPen(QColor("black"))
    x = 0.0
    for index, (name, width) in enumerate(zip(table.header, table.widths, strict=True)):
        align = Qt.AlignmentFlag.AlignLeft if index == 0 else Qt.AlignmentFlag.AlignRight
        cell = QRectF(x + _mm(0.8), y, width - _mm(1.6), height - _mm(0.8))
        flags = int(align | Qt.AlignmentFlag.AlignBottom) | int(Qt.TextFlag.TextWordWrap)
        drawer.p.drawText(cell, flags, name)  # wrapped, not elided
        x += width
    drawer.p.setPen(QPen(QColor("#808080"), _mm(0.3)))
    drawer.p.drawLine(QPointF(0, y + height), QPointF(drawer.page.width, y + height))


def _draw_table_row(
    drawer: _Drawer, table: _Table, cells: list[str], y: float, height: float, total: bool
) -> None:
    font = _font(7.5, bold=total)
    if total:
        drawer.p.setPen(QPen(QColor("#808080"), _mm(0.3)))
        drawer.p.drawLine(QPointF(0, y), QPointF(drawer.page.width, y))
    x = 0.0
    for index, (text, width) in enumerate(zip(cells, table.widths, strict=True)):
        align = Qt.AlignmentFlag.AlignLeft if index == 0 else Qt.AlignmentFlag.AlignRight
        cell = QRectF(x + _mm(0.8), y, width - _mm(1.6), height)
        drawer.text(cell, text, font, align | Qt.AlignmentFlag.AlignVCenter)
        x += width
    if not total:
        drawer.p.setPen(QPen(GRID, _mm(0.15)))
        drawer.p.drawLine(QPointF(0, y + height), QPointF(drawer.page.width, y + height))


def _paginate(count: int, first: float, page: _Page, header_h: float, row_h: float) -> list[range]:
    """The rows on each page: the first page's table starts at ``first``, the others at the top."""
    pages, start, top = [], 0, first
    while True:
        fits = max(1, int((page.bottom - top - header_h) // row_h))
        pages.append(range(start, min(count, start + fits)))
        start += fits
        if start >= count:
            return pages
        top = 0.0


def write_pdf(
    path: Path | str,
    rows: Sequence[KpiRow],
    *,
    period: str,
    group_by: str | Sequence[str] | None = None,
    totals: KpiRow | None = None,
    service_level_target: float | None = 80.0,
    title: str = "KPI report",
) -> int:
    """Write the report of ``rows`` (one grouping, as :func:`~usd_desktop.data.kpi.compute` gives
    them) to ``path`` as an A4 PDF; returns the number of pages. ``period`` is printed as given;
    ``totals`` (:func:`~usd_desktop.data.kpi.totals`) adds a last row. Needs a
    :class:`QGuiApplication` (:func:`ensure_gui_application`); :class:`OSError` when the file cannot
    be written."""
    names = key_names(rows, group_by)
    grouping = ", ".join(names) or "nothing (totals)"
    buffer = QBuffer()  # written to ``path`` at the end: no half-written file, and OSError explains
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Portrait)
    writer.setPageMargins(QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"{title}: {period}, by {grouping}")
    writer.setCreator(f"usd_desktop {getattr(usd_desktop, '__version__', '')}".strip())
    painter = QPainter()
    if not painter.begin(writer):
        raise RuntimeError("cannot paint the PDF")
    try:
        footer_h = QFontMetricsF(_font(7), writer).height()
        page = _Page(float(writer.width()), float(writer.height()), writer.height() - footer_h)
        drawer = _Drawer(painter, writer, page)
        y = _title(drawer, title, period, grouping, len(rows))
        labels = [" / ".join(display_key(name, row.key.get(name)) for name in names) or "All" for row in rows]
        chart_h = _mm(62)
        drawer.bar_chart(QRectF(0, y, page.width, chart_h), "Handled contacts", labels,
                         [float(row.handled) for row in rows])
        y += chart_h + _mm(4)
        target = f" (target {service_level_target:g} %, dashed)" if service_level_target is not None else ""
        drawer.line_chart(QRectF(0, y, page.width, chart_h), f"Service level{target}", labels,
                          [row.service_level for row in rows], service_level_target)
        y += chart_h + _mm(6)
        table = _table(rows, names, totals, drawer)
        row_h = QFontMetricsF(_font(7.5), writer).height() * 1.5
        header_h = QFontMetricsF(_font(6.5, bold=True), writer).height() * 3 + _mm(1.6)
        pages = _paginate(len(table.rows), y, page, header_h, row_h)
        left = f"{title} · {period} · by {grouping}"
        for number, chunk in enumerate(pages, start=1):
            if number > 1:
                writer.newPage()
                y = 0.0
            _draw_table_header(drawer, table, y, header_h)
            y += header_h
            for index in chunk:
                total = table.total_row and index == len(table.rows) - 1
                _draw_table_row(drawer, table, table.rows[index], y, row_h, total)
                y += row_h
            drawer.footer(left, number, len(pages))
    finally:
        painter.end()
    buffer.close()
    Path(path).write_bytes(bytes(buffer.data().data()))
    return len(pages)


def _title(drawer: _Drawer, title: str, period: str, grouping: str, count: int) -> float:
    """The title and the line under it; returns where the charts start."""
    big, small = _font(16, bold=True), _font(9)
    big_h, small_h = drawer.metrics(big).height(), drawer.metrics(small).height()
    width = drawer.page.width
    drawer.text(QRectF(0, 0, width, big_h), title, big, Qt.AlignmentFlag.AlignLeft)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    groups = f"{count} group{'s' if count != 1 else ''}"
    line = f"Period {period} · by {grouping} · {groups} · made {made}"
    drawer.text(QRectF(0, big_h + _mm(1), width, small_h), line, small, Qt.AlignmentFlag.AlignLeft,
                QColor("#404040"))
    return big_h + small_h + _mm(6)


__all__ = ["PDF_FIELDS", "ensure_gui_application", "write_pdf"]
