"""The call bar's two small windows: the dial pad and the transfer / consult dialog.

Both are plain widgets (non-modal, never a nested event loop): the call control opens them, listens
to their signals and runs the commands itself.

* :class:`DialPad`: keys 1-9, ``*``, 0, ``#`` (and ``+``) over a number field. With a connected
  call (*tones* mode) a key sends its DTMF tone at once (:attr:`DialPad.tones_requested`); without
  one (*dial* mode) the keys and the keyboard fill the field and *Call* (or Enter) dials it
  (:attr:`DialPad.dial_requested`); a pasted ``tel:`` link becomes its number.
* :class:`TransferDialog`: the directory (the call control's ``directory`` setting: agents, queues
  and numbers), filtered as the agent types; the typed text itself can be dialled when it is a
  number. *Transfer now* (blind) and *Consult first* emit the chosen target.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.cti.calls import dial_target

log = logging.getLogger(__name__)

#: The dial pad's keys, row by row.
KEYS = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("*", "0", "#"))
#: The letters under the keys (as on a phone).
LETTERS = {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV",
           "9": "WXYZ", "0": "+"}
TONES = frozenset("0123456789*#")
KINDS = ("agent", "queue", "number")
KIND_LABELS = {"agent": "Agent", "queue": "Queue", "number": "Number"}
#: What a typed text must look like to be dialled as a number.
NUMBER_RE = re.compile(r"^\+?[0-9][0-9 ()./-]*[0-9#*]?$|^(sips?|tel):\S+$")

#: A search typed as (part of) a phone number.
PHONE_QUERY_RE = re.compile(r"^[+0-9 ()./-]+$")


def dial_text(text: str) -> str:
    """The number in ``text``: a ``tel:`` or ``callto:`` link gives its number, the rest as typed."""
    return dial_target(text)


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# ---------------------------------------------------------------------- the dial pad
class DialPad(QDialog):
    """The dial pad (see the module doc)."""

    dial_requested = Signal(str)
    """*Call* was pressed in dial mode: the number (a ``tel:`` link already reduced to its number)."""
    tones_requested = Signal(str)
    """A key was pressed in tones mode: the DTMF digit(s) to send."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialPad")
        self.setWindowTitle("Dial pad")
        self.setModal(False)
        self.tones = False
        self.can_dial = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        self.heading = QLabel(self)
        self.heading.setObjectName("dialPadHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.heading)
        self.field = QLineEdit(self)
        self.field.setObjectName("dialNumber")
        self.field.setAccessibleName("Number")
        self.field.setClearButtonEnabled(True)
        font = self.field.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.field.setFont(font)
        self.field.textEdited.connect(self._edited)
        self.field.textChanged.connect(lambda _t: self._update_buttons())
        layout.addWidget(self.field)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.keys: dict[str, QToolButton] = {}
        for r, row in enumerate(KEYS):
            for c, key in enumerate(row):
                button = QToolButton(self)
                button.setObjectName(f"dialKey:{key}")
                letters = LETTERS.get(key, "")
                button.setText(f"{key}\n{letters}" if letters else key)
                button.setAccessibleName(f"Key {key}")
                button.setFixedSize(56, 44)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the field
                button.clicked.connect(lambda _checked=False, k=key: self.press(k))
                grid.addWidget(button, r, c)
                self.keys[key] = button
        layout.addLayout(grid)
        actions = QHBoxLayout()
        self.plus = QToolButton(self)
        self.plus.setObjectName("dialKey:+")
        self.plus.setText("+")
        self.plus.setAccessibleName("Plus")
        self.plus.setToolTip("International prefix")
        self.plus.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plus.clicked.connect(lambda: self.press("+"))
        self.back = QToolButton(self)
        self.back.setObjectName("dialBackspace")
        self.back.setText("⌫")
        self.back.setAccessibleName("Delete the last digit")
        self.back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back.clicked.connect(self.field.backspace)
        self.call_button = QPushButton("Call", self)
        self.call_button.setObjectName("dialCall")
        self.call_button.setDefault(True)
        self.call_button.clicked.connect(self.call)
        actions.addWidget(self.plus)
        actions.addWidget(self.back)
        actions.addStretch(1)
        actions.addWidget(self.call_button)
        layout.addLayout(actions)
        self.set_mode(tones=False)

    def set_mode(self, *, tones: bool, target: str = "", can_dial: bool = True,
                 can_tone: bool = True) -> None:
        """Tones mode (``tones``: a connected call, ``target`` its label) or dial mode."""
        changed = tones != self.tones
        self.tones, self.can_dial = tones, can_dial
        if tones:
            self.heading.setText(f"Tones to {target}" if target else "Tones to the caller")
            self.setWindowTitle("Dial pad: tones")
            if changed:
                self.field.clear()
            self.field.setReadOnly(True)
            self.field.setPlaceholderText("Tones sent")
            for key, button in self.keys.items():
                button.setEnabled(can_tone and key in TONES)
        else:
            self.heading.setText("Dial a number" if can_dial else "This adapter cannot dial")
            self.setWindowTitle("Dial pad")
            if changed:
                self.field.clear()
            self.field.setReadOnly(False)
            self.field.setPlaceholderText("Number or tel: link")
            for button in self.keys.values():
                button.setEnabled(can_dial)
        self.call_button.setVisible(not tones)
        self.plus.setVisible(not tones)
        self.back.setVisible(not tones)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.call_button.setEnabled(self.can_dial and bool(self.field.text().strip()))

    def _edited(self, text: str) -> None:
        lower = text.lower()
        for scheme in ("tel:", "callto:"):  # a pasted link: keep its number only
            if scheme in lower:
                number = dial_text(text[lower.index(scheme):])
                if any(ch.isdigit() for ch in number):  # not while "tel:" is being typed
                    self.field.setText(number)
                return

    def press(self, key: str) -> None:
        """A key of the pad (or of the keyboard): a tone, or one more character of the number."""
        if self.tones:
            if key in TONES and self.keys[key].isEnabled():
                self.field.setText(self.field.text() + key)
                self.tones_requested.emit(key)
            return
        if self.can_dial:
            self.field.insert(key)

    def call(self) -> None:
        number = dial_text(self.field.text())
        if self.tones or not self.can_dial or not number:
            return
        self.dial_requested.emit(number)
        self.field.clear()
        self.hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if self.tones and text and text in TONES:
            self.press(text)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.call()  # dial mode: Enter dials; tones mode: nothing (the pad stays open)
            return
        super().keyPressEvent(event)


# ---------------------------------------------------------------------- the transfer dialog
@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One entry of the ``directory`` setting."""

    name: str
    number: str
    kind: str = "number"  # agent, queue or number

    def matches(self, query: str) -> bool:
        query = query.strip().lower()
        if not query:
            return True
        haystack = f"{self.name} {self.number} {KIND_LABELS.get(self.kind, '')}".lower()
        if all(word in haystack for word in query.split()):
            return True
        # "40 123" and "040 123" (a national number: its trunk prefix left out) find "+358 40 1234567"
        digits = digits_of(query).lstrip("0") or digits_of(query)
        return bool(digits) and bool(PHONE_QUERY_RE.match(query)) and digits in digits_of(self.number)


def parse_directory(value: Any, *, owner: str = "") -> tuple[DirectoryEntry, ...]:
    """The ``directory`` setting as entries; malformed entries are logged and skipped."""
    if not value:
        return ()
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        log.warning("%s: setting directory must be a list of {name, number, kind}", owner)
        return ()
    entries = []
    for item in value:
        if not isinstance(item, Mapping) or not str(item.get("number") or "").strip():
            log.warning("%s: directory entry %r needs a number", owner, item)
            continue
        kind = str(item.get("kind") or "number").strip().lower()
        if kind not in KINDS:
            log.warning("%s: directory entry %r: kind must be agent, queue or number", owner, item)
            kind = "number"
        number = str(item["number"]).strip()
        entries.append(DirectoryEntry(str(item.get("name") or number).strip(), number, kind))
    return tuple(entries)


class TransferDialog(QDialog):
    """The transfer / consult dialog (see the module doc)."""

    transfer_requested = Signal(str)
    """*Transfer now*: the target (a number, an agent or a queue) for a blind transfer."""
    consult_requested = Signal(str)
    """*Consult first*: the target to consult before completing the transfer."""

    ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, directory: Sequence[DirectoryEntry] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transferDialog")
        self.setWindowTitle("Transfer or consult")
        self.setModal(False)
        self.setMinimumSize(360, 340)
        self.directory = tuple(directory)
        self.can_transfer = True
        self.can_consult = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        self.heading = QLabel(self)
        self.heading.setObjectName("transferHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.heading)
        self.search = QLineEdit(self)
        self.search.setObjectName("transferSearch")
        self.search.setAccessibleName("Search the directory or type a number")
        self.search.setPlaceholderText("Name, queue or number")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.list = QListWidget(self)
        self.list.setObjectName("transferDirectory")
        self.list.setAccessibleName("Directory")
        self.list.setAlternatingRowColors(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setSpacing(1)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.itemDoubleClicked.connect(lambda _item: self._enter())
        layout.addWidget(self.list, 1)
        self.empty = QLabel("No match: type a number to dial it", self)
        self.empty.setObjectName("transferEmpty")
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty.hide()
        layout.addWidget(self.empty)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("transferCancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.transfer_button = QPushButton("Transfer now", self)
        self.transfer_button.setObjectName("transferNow")
        self.transfer_button.setToolTip("Blind transfer: the call goes to the target at once")
        self.transfer_button.setAutoDefault(False)
        self.transfer_button.clicked.connect(lambda: self._choose(self.transfer_requested))
        self.consult_button = QPushButton("Consult first", self)
        self.consult_button.setObjectName("transferConsult")
        self.consult_button.setToolTip("Hold the caller and talk to the target first")
        self.consult_button.setAutoDefault(False)
        self.consult_button.clicked.connect(lambda: self._choose(self.consult_requested))
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.transfer_button)
        buttons.addWidget(self.consult_button)
        layout.addLayout(buttons)
        self._filter("")

    def prepare(self, *, target: str = "", can_transfer: bool = True, can_consult: bool = True) -> None:
        """Ready for a new transfer of the call ``target`` (its label): empty search, capabilities."""
        self.heading.setText(f"Transfer {target}" if target else "Transfer the call")
        self.can_transfer, self.can_consult = can_transfer, can_consult
        self.search.clear()
        self._filter("")
        self.search.setFocus()

    def set_directory(self, directory: Sequence[DirectoryEntry]) -> None:
        self.directory = tuple(directory)
        self._filter(self.search.text())

    def visible_entries(self) -> list[DirectoryEntry]:
        """The entries listed now, in order (the typed number first when there is one)."""
        entries = (self.list.item(i).data(self.ROLE) for i in range(self.list.count()))
        return [e for e in entries if isinstance(e, DirectoryEntry)]

    def _filter(self, text: str) -> None:
        self.list.clear()
        typed = text.strip()
        if typed and NUMBER_RE.match(typed):
            number = dial_text(typed)
            item = QListWidgetItem(f"Dial {number}\nThe number you typed")
            item.setData(self.ROLE, DirectoryEntry(number, number, "number"))
            item.setToolTip("The number you typed")
            self.list.addItem(item)
        for entry in self.directory:
            if entry.matches(typed):
                kind = KIND_LABELS.get(entry.kind, "")
                second = f"{kind} · {entry.number}" if entry.name != entry.number else kind
                item = QListWidgetItem(f"{entry.name}\n{second}")
                item.setData(self.ROLE, entry)
                item.setToolTip(f"{KIND_LABELS.get(entry.kind, '')}: {entry.number}")
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.empty.setVisible(self.list.count() == 0)
        self._update_buttons()

    def current_entry(self) -> DirectoryEntry | None:
        item = self.list.currentItem()
        entry = None if item is None else item.data(self.ROLE)
        return entry if isinstance(entry, DirectoryEntry) else None

    def _update_buttons(self) -> None:
        chosen = self.current_entry() is not None
        self.transfer_button.setEnabled(chosen and self.can_transfer)
        self.consult_button.setEnabled(chosen and self.can_consult)

    def _enter(self) -> None:
        """Enter: consult when the adapter can (the careful choice), else transfer."""
        if self.consult_button.isEnabled():
            self._choose(self.consult_requested)
        elif self.transfer_button.isEnabled():
            self._choose(self.transfer_requested)

    def _choose(self, signal: Any) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        signal.emit(entry.number)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Up/Down in the search field move through the list
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.list.count():
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            row = min(self.list.count() - 1, max(0, self.list.currentRow() + step))
            self.list.setCurrentRow(row)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._enter()
            return
        super().keyPressEvent(event)
