"""The Agent Scripting control's widget: it shows a :class:`ScriptView` and reports the agent's clicks.

Layout, top to bottom: Back, the history drop-down (every earlier step, then the current one) and
Main Menu; the task's name; the script text (missing parameters as highlighted placeholders); the
instructions (italic, smaller, in the palette's link colour so they stand apart in every theme);
one button per answer (``✓`` once chosen); a status line for what went wrong.

Colours come from palette roles only, so the light, dark and high-contrast themes all read well;
the script text is re-drawn when the palette changes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

#: What a visited answer's button starts with.
CHECK = "✓"


@dataclass(frozen=True, slots=True)
class AnswerView:
    """One button: ``key`` is what a click reports (the answer's name, or a task's on the menu)."""

    key: str
    label: str
    visited: bool = False


@dataclass(frozen=True, slots=True)
class ScriptView:
    """Everything the widget shows. ``script`` alternates text and missing-parameter names:
    ``("Hello ", "contact.first_name", "!")``."""

    title: str
    script: tuple[str, ...]
    instructions: str
    answers: tuple[AnswerView, ...]
    history: tuple[str, ...]  # earlier positions, oldest first
    current: str  # the position shown (the last entry of the drop-down)
    can_go_back: bool
    main_menu: bool  # whether the Main Menu button shows (two or more start tasks)
    status: str = ""


def script_html(parts: tuple[str, ...], palette: QPalette) -> str:
    """``parts`` as rich text: the text escaped, missing parameters as ``«name»`` in the palette's
    placeholder colour."""
    colour = palette.color(QPalette.ColorRole.PlaceholderText).name()
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f'<span style="color:{colour}; font-style:italic">«{html.escape(part)}»</span>')
        else:
            out.append(html.escape(part))
    return "".join(out).replace("\n", "<br>")


def answer_label(answer: AnswerView) -> str:
    return f"{CHECK} {answer.label}" if answer.visited else answer.label


class AgentScriptWidget(QWidget):
    """The script as the agent sees it (see the module doc)."""

    answer_clicked = Signal(str)
    history_chosen = Signal(int)
    back_clicked = Signal()
    main_menu_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: ScriptView | None = None
        self._quiet = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)

        bar = QHBoxLayout()
        self.back_button = QPushButton("◀ Back", self)
        self.back_button.setToolTip("Back to the previous step (actions already run are not undone)")
        self.history = QComboBox(self)
        self.history.setToolTip("Go back to an earlier step")
        self.history.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.history.setMinimumContentsLength(12)
        self.main_menu_button = QPushButton("Main Menu", self)
        bar.addWidget(self.back_button)
        bar.addWidget(self.history, 1)
        bar.addWidget(self.main_menu_button)
        layout.addLayout(bar)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(scroll)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 6, 0, 0)
        self.title = QLabel(body)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        title_font = self.title.font()
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.script = QLabel(body)
        self.script.setTextFormat(Qt.TextFormat.RichText)
        self.script.setWordWrap(True)
        self.script.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.script.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.instructions = QLabel(body)
        self.instructions.setTextFormat(Qt.TextFormat.PlainText)
        self.instructions.setWordWrap(True)
        self.instructions.setForegroundRole(QPalette.ColorRole.Link)
        font = self.instructions.font()
        font.setItalic(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 0.9)
        elif font.pixelSize() > 0:
            font.setPixelSize(max(8, round(font.pixelSize() * 0.9)))
        self.instructions.setFont(font)
        self.answers_box = QWidget(body)
        self.answers_layout = QVBoxLayout(self.answers_box)
        self.answers_layout.setContentsMargins(0, 6, 0, 0)
        body_layout.addWidget(self.title)
        body_layout.addWidget(self.script)
        body_layout.addWidget(self.instructions)
        body_layout.addWidget(self.answers_box)
        body_layout.addStretch(1)
        scroll.setWidget(body)
        layout.addWidget(scroll, 1)

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.status.hide()
        layout.addWidget(self.status)

        self._buttons: list[QPushButton] = []
        self.back_button.clicked.connect(self.back_clicked.emit)
        self.main_menu_button.clicked.connect(self.main_menu_clicked.emit)
        self.history.currentIndexChanged.connect(self._on_history)

    # ------------------------------------------------------------------ showing
    def show_view(self, view: ScriptView) -> None:
        self._view = view
        self.title.setText(view.title)
        self.script.setText(script_html(view.script, self.palette()))
        self.script.setVisible(any(view.script))
        self.instructions.setText(view.instructions)
        self.instructions.setVisible(bool(view.instructions))
        self._show_answers(view.answers)
        self._show_history(view)
        self.back_button.setEnabled(view.can_go_back)
        self.main_menu_button.setVisible(view.main_menu)
        self.status.setText(view.status)
        self.status.setVisible(bool(view.status))

    def _show_answers(self, answers: tuple[AnswerView, ...]) -> None:
        keys = [str(b.property("answer")) for b in self._buttons]
        if keys != [a.key for a in answers]:  # other answers: new buttons (else keep focus)
            for button in self._buttons:
                self.answers_layout.removeWidget(button)
                button.deleteLater()
            self._buttons = []
            for answer in answers:
                button = QPushButton(self.answers_box)
                button.setProperty("answer", answer.key)
                button.clicked.connect(lambda _=False, key=answer.key: self.answer_clicked.emit(key))
                self.answers_layout.addWidget(button)
                self._buttons.append(button)
        for button, answer in zip(self._buttons, answers, strict=True):
            button.setText(answer_label(answer))
            button.setProperty("visited", answer.visited)
            button.setAccessibleDescription("chosen before" if answer.visited else "")

    def _show_history(self, view: ScriptView) -> None:
        self._quiet = True
        try:
            self.history.clear()
            for i, label in enumerate((*view.history, view.current), start=1):
                self.history.addItem(f"{i}. {label}")
            self.history.setCurrentIndex(len(view.history))
            self.history.setEnabled(bool(view.history))
        finally:
            self._quiet = False

    def _on_history(self, index: int) -> None:
        view = self._view
        if self._quiet or view is None or not 0 <= index < len(view.history):
            return
        self.history_chosen.emit(index)

    def answer_buttons(self) -> list[QPushButton]:
        """The answer buttons, in order (for tests and accessibility tools)."""
        return list(self._buttons)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._view is not None:
            self.script.setText(script_html(self._view.script, self.palette()))
