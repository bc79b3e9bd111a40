"""The entity form's widgets: field editors built from entity metadata, the grid of them, and the
form's view around it (header, buttons, notices, sub-list tabs); the control is in :mod:`.entity_form`.

One editor per :class:`~usd_desktop.data.metadata.FieldMeta`: a line for ``string``, several lines
for ``text``, a drop-down for an option set, a check box for ``boolean``, a line checked as it is
typed for numbers, dates and times (shown in local time), and, for a lookup, the related record's
primary name (read-only; the id is kept behind it).

Every editor has two views of its value:

* :meth:`FieldEditor.value`: what the agent sees, JSON-friendly (text, ``bool``, ``None``); drafts
  keep this, and :meth:`FieldEditor.set_value` takes it back (or a record's value);
* :meth:`FieldEditor.typed_value`: the value to write (an ``int``, a UTC ``datetime``...); text that
  does not parse is handed over as typed, so the data layer names the field in its error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLocale, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import (
    QDoubleValidator,
    QFontMetrics,
    QIntValidator,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.data.metadata import EntityMeta, FieldMeta

if TYPE_CHECKING:
    from usd_desktop.hosted_controls.qt.entity_list import RelatedList

#: Fields shown read-only even when the metadata allows writing them (the data source and the case
#: lifecycle keep them).
SYSTEM_FIELDS = frozenset({"id", "created_at", "updated_at", "resolved_at", "closed_at", "escalated_at"})
#: How the editors show and read a date and a date with a time (local time).
DATE_FORMAT = "%Y-%m-%d"
_ERROR_PREFIX = re.compile(r"^.*?entity '[^']*', field '[^']*'(?: \([^)]*\))?:?")
#: The widest a field's label gets; a longer one wraps.
LABEL_WIDTH = 170
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
ERROR_COLOUR = "#d1242f"


def humanise(value: str) -> str:
    """An option-set value as people read it: ``needs_follow_up`` -> ``Needs follow up``."""
    words = value.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else value


def local_text(value: Any, kind: str) -> str:
    """A record's value as the editor shows it (dates and times local, in ISO order)."""
    if value is None:
        return ""
    if kind == "datetime" and isinstance(value, datetime):
        moment = value.astimezone() if value.tzinfo is not None else value
        return moment.strftime(DATETIME_FORMAT)
    if kind in ("date", "datetime") and isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, float):
        return QLocale.c().toString(value, "g", 15)
    return str(value)


def parse_local(text: str, kind: str) -> Any:
    """Text typed in a date or date-and-time editor as its value; the text itself if it does not parse."""
    raw = text.strip()
    if not raw:
        return None
    try:
        if kind == "date":
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return raw
    return moment.astimezone() if moment.tzinfo is None else moment


class FieldEditor:
    """The editor of one field: its label, its input widget and its error line."""

    def __init__(self, meta: FieldMeta, on_edit: Callable[[str], None]) -> None:
        self.meta = meta
        self._on_edit = on_edit
        self._quiet = 0
        self.original: Any = None
        self.read_only = False
        self._style = ""  # the input's own style sheet (read-only look); an error adds a red border
        self.input = self._make_input()
        self.input.setObjectName(f"field_{meta.name}")
        self.input.setToolTip(meta.label)
        self.label = QLabel()
        self.label.setObjectName(f"label_{meta.name}")
        self.label.setBuddy(self.input)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.error = QLabel()
        self.error.setObjectName(f"error_{meta.name}")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}; font-size: 8pt;")
        self.error.hide()
        self._set_label(meta.required)

    # ------------------------------------------------------------------ the widget
    def _make_input(self) -> QWidget:
        kind = self.meta.type
        if self.meta.options and kind in ("string", "text"):
            combo = QComboBox()
            combo.addItem("", None)
            for option in self.meta.options:
                combo.addItem(humanise(option), option)
            combo.currentIndexChanged.connect(lambda _i: self._edited())
            return combo
        if kind == "boolean":
            box = QCheckBox()
            box.toggled.connect(lambda _b: self._edited())
            return box
        if kind == "text":
            area = QPlainTextEdit()
            area.setTabChangesFocus(True)
            lines = QFontMetrics(area.font()).lineSpacing()
            area.setFixedHeight(lines * 3 + 12)
            area.textChanged.connect(self._edited)
            return area
        line = QLineEdit()
        if kind == "integer":
            line.setValidator(QIntValidator(line))
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
        elif kind == "float":
            validator = QDoubleValidator(line)
            validator.setLocale(QLocale.c())
            line.setValidator(validator)
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
        elif kind == "datetime":
            line.setPlaceholderText("YYYY-MM-DD HH:MM")
        elif kind == "date":
            line.setPlaceholderText("YYYY-MM-DD")
        elif kind == "lookup":
            line.setReadOnly(True)
            line.setPlaceholderText("—")
        if self.meta.max_length is not None and kind == "string":
            line.setMaxLength(self.meta.max_length)
        line.textEdited.connect(lambda _t: self._edited())
        return line

    def _set_label(self, required: bool) -> None:
        mark = f' <span style="color:{ERROR_COLOUR}">*</span>' if required and not self.read_only else ""
        text = self.meta.label.replace("&", "&amp;").replace("<", "&lt;")
        self.label.setText(f"{text}{mark}")
        self.label.setToolTip(f"{self.meta.label} ({self.meta.name})" + (", required" if required else ""))

    def _edited(self) -> None:
        if not self._quiet:
            self.clear_error()
            self._on_edit(self.meta.name)

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        widget = self.input
        if isinstance(widget, QLineEdit):
            fixed = read_only or self.meta.type == "lookup"
            widget.setReadOnly(fixed)
            widget.setFrame(not fixed)  # what cannot be typed into does not look like a box
            self._style = "QLineEdit { background: transparent; border: none; }" if fixed else ""
            widget.setStyleSheet(self._style)
            if fixed:
                widget.setPlaceholderText("—")
        elif isinstance(widget, QPlainTextEdit):
            widget.setReadOnly(read_only)
        else:
            widget.setEnabled(not read_only)
        self._set_label(self.meta.required)

    # ------------------------------------------------------------------ values
    def value(self) -> Any:
        """What the editor holds, as JSON-friendly text (``bool`` for a check box, ``None`` if empty)."""
        widget = self.input
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if self.meta.type == "lookup":
            return self._lookup_id
        text = widget.toPlainText() if isinstance(widget, QPlainTextEdit) else self._line().text()
        return text if text.strip() else None

    def typed_value(self) -> Any:
        """The value to write: typed when the text parses, else the text (the data layer names the field)."""
        value = self.value()
        if value is None or isinstance(value, bool):
            return value
        kind = self.meta.type
        if kind in ("date", "datetime"):
            return parse_local(str(value), kind)
        if kind == "integer":
            try:
                return int(str(value).strip())
            except ValueError:
                return value
        if kind == "float":
            try:
                return float(str(value).strip())
            except ValueError:
                return value
        return value

    def set_value(self, value: Any, *, original: bool = False) -> None:
        """Show ``value`` (a record's value or a draft's); ``original``: it is the saved value."""
        self._quiet += 1
        try:
            self._show(value)
        finally:
            self._quiet -= 1
        if original:
            self.original = self.value()
        else:
            self._edited()

    def _show(self, value: Any) -> None:
        widget = self.input
        if isinstance(widget, QComboBox):
            text = "" if value is None else str(value)
            index = widget.findData(text) if text else 0
            if index < 0:  # a value outside the option set: shown, and refused when saved
                widget.addItem(text, text)
                index = widget.count() - 1
            with QSignalBlocker(widget):
                widget.setCurrentIndex(index)
        elif isinstance(widget, QCheckBox):
            with QSignalBlocker(widget):
                widget.setChecked(_truthy(value))
        elif self.meta.type == "lookup":
            self._lookup_id = None if value in (None, "") else str(value)
            self.set_lookup_name(None)
        elif isinstance(widget, QPlainTextEdit):
            with QSignalBlocker(widget):
                widget.setPlainText(local_text(value, self.meta.type))
        else:
            self._line().setText(local_text(value, self.meta.type))

    _lookup_id: str | None = None

    def set_lookup_name(self, name: str | None) -> None:
        """Show the related record's primary name (``None``: not known yet, the id shows)."""
        line = self._line()
        ident = self._lookup_id
        if ident is None:
            line.setText("")
            line.setToolTip(self.meta.label)
            return
        line.setText(name if name else ident)
        line.setToolTip(f"{self.meta.label}: {name or ''} ({self.meta.lookup} {ident})")
        line.setCursorPosition(0)

    @property
    def lookup_id(self) -> str | None:
        return self._lookup_id

    @property
    def dirty(self) -> bool:
        return bool(self.value() != self.original)

    def _line(self) -> QLineEdit:
        assert isinstance(self.input, QLineEdit)
        return self.input

    # ------------------------------------------------------------------ errors
    def set_error(self, message: str) -> None:
        """Show ``message`` under the field (without the "entity 'x', field 'y' (Label)" the
        form's notice already says)."""
        short = _ERROR_PREFIX.sub("", message, count=1).strip()
        short = short.removeprefix("is ")  # "is required: ..." -> "Required: ..."
        self.error.setText(short[:1].upper() + short[1:] if short else message)
        self.error.show()
        self.input.setProperty("invalid", True)
        kind = type(self.input).__name__
        self.input.setStyleSheet(f"{self._style} {kind} {{ border: 1px solid {ERROR_COLOUR}; }}")

    def clear_error(self) -> None:
        if self.error.isVisible() or self.error.text():
            self.error.clear()
            self.error.hide()
            self.input.setProperty("invalid", False)
            self.input.setStyleSheet(self._style)

    @property
    def error_text(self) -> str:
        return self.error.text()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes", "y", "on"}


class FieldGrid(QWidget):
    """The editors of an entity's fields in two columns; multi-line text spans the width below."""

    def __init__(
        self,
        meta: EntityMeta,
        names: Iterable[str],
        read_only: Iterable[str],
        on_edit: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.meta = meta
        self.editors: dict[str, FieldEditor] = {}
        locked = set(read_only)
        for name in names:
            fmeta = meta.fields.get(name)
            if fmeta is None or name in self.editors:
                continue
            editor = FieldEditor(fmeta, on_edit)
            editor.set_read_only(fmeta.read_only or name in locked or name in SYSTEM_FIELDS)
            self.editors[name] = editor
        self._lay_out()

    def _lay_out(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        short = [e for e in self.editors.values() if not isinstance(e.input, QPlainTextEdit)]
        long = [e for e in self.editors.values() if isinstance(e.input, QPlainTextEdit)]
        # short fields down the left column, then down the right one; multi-line text below, in pairs
        half = (len(short) + 1) // 2
        for index, editor in enumerate(short):
            row, column = (index, 0) if index < half else (index - half, 3)
            self._place(grid, editor, row * 2, column, 1)
        row = half * 2
        for index in range(0, len(long), 2):
            pair = long[index : index + 2]
            for position, editor in enumerate(pair):
                editor.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self._place(grid, editor, row, position * 3, 1 if len(pair) == 2 else 4)
            row += 2
        grid.setColumnMinimumWidth(2, 16)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1)
        for column in (0, 3):
            labels = [e.label for e in self.editors.values() if self._column.get(e.meta.name) == column]
            if labels:
                width = min(max(label.sizeHint().width() for label in labels), LABEL_WIDTH)
                grid.setColumnMinimumWidth(column, width)
        grid.setRowStretch(row, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    _column: dict[str, int]

    def _place(self, grid: QGridLayout, editor: FieldEditor, row: int, column: int, span: int) -> None:
        if not hasattr(self, "_column"):
            self._column = {}
        self._column[editor.meta.name] = column
        if editor.label.sizeHint().width() > LABEL_WIDTH:  # a long label wraps instead of widening
            editor.label.setWordWrap(True)
            editor.label.setMaximumWidth(LABEL_WIDTH)
        grid.addWidget(editor.label, row, column)
        grid.addWidget(editor.input, row, column + 1, 1, span)
        grid.addWidget(editor.error, row + 1, column + 1, 1, span)

    # ------------------------------------------------------------------ values
    def load(self, record: Mapping[str, Any]) -> None:
        """Show ``record`` as the saved values (nothing dirty, no errors)."""
        for name, editor in self.editors.items():
            editor.set_value(record.get(name), original=True)
            editor.clear_error()

    def dirty_values(self) -> dict[str, Any]:
        """The edited fields' values (the editors' JSON-friendly view)."""
        return {name: e.value() for name, e in self.editors.items() if not e.read_only and e.dirty}

    def clear_errors(self) -> None:
        for editor in self.editors.values():
            editor.clear_error()

    def first_error(self) -> FieldEditor | None:
        return next((e for e in self.editors.values() if e.error_text), None)


#: How long the form waits after a keystroke before it writes the draft.
DRAFT_DELAY_MS = 300
_NOTICE_STYLE = {
    "error": "background: rgba(209, 36, 47, 0.10); border: 1px solid rgba(209, 36, 47, 0.55);",
    "info": "background: rgba(11, 100, 192, 0.08); border: 1px solid rgba(11, 100, 192, 0.40);",
}


class EntityFormWidget(QWidget):
    """An entity form's view: header (title, state, buttons), a notice line, the fields (a
    :class:`FieldGrid`) and the sub-lists below. Buttons and Ctrl+S call ``run_action`` with the
    action's name; the draft timer calls ``write_draft``."""

    def __init__(
        self,
        run_action: Callable[[str], None],
        write_draft: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = QLabel("No record open", self)
        self.title.setObjectName("formTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("formSubtitle")
        self.state = QLabel(self)
        self.state.setObjectName("formState")
        self.case_buttons: dict[str, QPushButton] = {}
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(6)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.subtitle)
        header.addLayout(names, 1)
        header.addWidget(self.state)
        for action, caption, tip in (
            ("ResolveCase", "Resolve", "Resolve the case with the resolution typed in the form"),
            ("CloseCase", "Close case", "Close the case"),
            ("ReopenCase", "Reopen", "Reopen the case"),
            ("EscalateCase", "Escalate", "Escalate the case with the reason typed in the form"),
        ):
            button = QPushButton(caption, self)
            button.setObjectName(action)
            button.setToolTip(tip)
            button.setAutoDefault(False)
            button.hide()
            button.clicked.connect(lambda _c=False, a=action: run_action(a))
            header.addWidget(button)
            self.case_buttons[action] = button
        self.save = QPushButton("Save", self)
        self.save.setObjectName("Save")
        self.save.setToolTip("Save the record (Ctrl+S)")
        self.save.setAutoDefault(False)
        self.save.setEnabled(False)
        self.save.clicked.connect(lambda: run_action("Save"))
        header.addWidget(self.save)
        self.notice = QLabel(self)
        self.notice.setObjectName("formNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        self.fields_host = QWidget()
        self.fields_layout = QVBoxLayout(self.fields_host)
        self.fields_layout.setContentsMargins(0, 4, 4, 4)
        self.grid: FieldGrid | None = None
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(self.fields_host)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("relatedTabs")
        self.tabs.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.scroll_area)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.splitterMoved.connect(self._splitter_moved)
        self._user_sized = False  # once the agent drags the splitter, the form keeps their sizes
        self._fit_pending = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(DRAFT_DELAY_MS)
        self.draft_timer.timeout.connect(write_draft)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: run_action("Save"))
        self.related: list[RelatedList] = []
        self.hide_command_bar = self.hide_navigation_bar = False

    def set_grid(self, grid: FieldGrid) -> None:
        if self.grid is not None:
            self.fields_layout.removeWidget(self.grid)
            self.grid.deleteLater()
        self.grid = grid
        self.fields_layout.insertWidget(0, grid)
        if self.fields_layout.count() == 1:
            self.fields_layout.addStretch(1)
        self.fit_fields()

    def _splitter_moved(self, _pos: int, _index: int) -> None:
        self._user_sized = True

    def fit_fields(self) -> None:
        """Give the fields the height they need (at most two thirds), the sub-lists the rest."""
        if self._user_sized or self.grid is None:
            return
        total = self.splitter.height()
        if total <= 0:
            return
        margins = self.fields_layout.contentsMargins()
        wanted = self.grid.sizeHint().height() + margins.top() + margins.bottom() + 2
        if not self.tabs.isVisibleTo(self):
            self.splitter.setSizes([total, 0])
            return
        top = min(wanted, max(total * 2 // 3, 120))
        self.splitter.setSizes([top, max(total - top, 80)])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_fields()

    def set_related(self, lists: list[RelatedList]) -> None:
        self.tabs.clear()
        for old in self.related:
            old.deleteLater()
        self.related = lists
        for item in lists:
            self.tabs.addTab(item, item.caption())
        self.show_related(bool(lists))

    def show_related(self, visible: bool) -> None:
        """Show the sub-lists (not for a new record: nothing refers to it yet)."""
        self._related_wanted = visible
        self.tabs.setVisible(visible and bool(self.related) and not self.hide_navigation_bar)
        self.fit_fields()

    def hide_bars(self, command: bool, navigation: bool) -> None:
        """A navigation rule's Hide Command Bar (Save and the case buttons) and Hide Navigation Bar
        (the related records), for the page it routed here; the next page shows them again."""
        self.hide_command_bar, self.hide_navigation_bar = command, navigation
        self.save.setVisible(not command)
        self.show_related(getattr(self, "_related_wanted", False))

    def update_captions(self) -> None:
        for index, item in enumerate(self.related):
            self.tabs.setTabText(index, item.caption())

    def show_notice(self, message: str, kind: str = "error") -> None:
        self.notice.setText(message)
        self.notice.setStyleSheet(f"QLabel#formNotice {{ {_NOTICE_STYLE[kind]} padding: 4px 8px; "
                                  "border-radius: 3px; }")
        self.notice.setProperty("kind", kind)
        self.notice.setVisible(bool(message))
        self.fit_soon()

    def fit_soon(self) -> None:
        """:meth:`fit_fields` once the layout has settled (a notice or an error changed heights)."""
        if not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self, self._fit_now)

    def _fit_now(self) -> None:
        self._fit_pending = False
        self.fit_fields()


__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "DRAFT_DELAY_MS",
    "SYSTEM_FIELDS",
    "EntityFormWidget",
    "FieldEditor",
    "FieldGrid",
    "humanise",
    "local_text",
    "parse_local",
]
