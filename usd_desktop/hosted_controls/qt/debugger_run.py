"""The debugger's *Run* tab (configured action call, direct action, JavaScript) and *Problems* tab.

Every run is a task on the asyncio loop (qasync): a click never blocks the window, and what ran
appears in the *Action Calls* tab like anything else. The pane keeps its tasks so none is lost,
and cancels the unfinished ones when it is disposed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.core.dispatcher import CallOutcome, Dispatcher
from usd_desktop.core.errors import UsdError

#: Event parameters of a run started from the debugger: ``[[$Debug]]`` is ``true`` there (USD).
DEBUG_EVENT = {"$Debug": "true"}


def outcome_text(outcome: CallOutcome) -> str:
    text = f"{outcome.name or 'direct action'}: {outcome.outcome}"
    if outcome.reason:
        text += f" ({outcome.reason})"
    if outcome.result is not None:
        text += f" → {outcome.result!r}"
    return text


class RunPane(QWidget):
    """Run a configured action call, a direct action, or a piece of JavaScript."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        controls: Callable[[], Mapping[str, Sequence[str]]],
        evaluate: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.dispatcher = dispatcher
        self._controls = controls
        self._evaluate = evaluate
        self.tasks: set[asyncio.Task[Any]] = set()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        # -- configured action call
        self.call_combo = QComboBox(self)
        self.call_combo.setEditable(True)
        self.call_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        call_completer = self.call_combo.completer()
        if call_completer is not None:
            call_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            call_completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.run_call_button = QPushButton("Run", self)
        self.run_call_button.clicked.connect(self.run_configured)
        calls = QGroupBox("Configured action call", self)
        row = QHBoxLayout(calls)
        row.addWidget(self.call_combo, 1)
        row.addWidget(self.run_call_button)

        # -- direct action
        self.control_combo = QComboBox(self)
        self.action_edit = QLineEdit(self)
        self.action_edit.setPlaceholderText("UII action, e.g. CopyToContext")
        self._action_names = QStringListModel(self)
        completer = QCompleter(self._action_names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.action_edit.setCompleter(completer)
        self.control_combo.currentTextChanged.connect(self._control_changed)
        self.data_edit = QPlainTextEdit(self)
        self.data_edit.setFont(mono)
        self.data_edit.setPlaceholderText("key=value lines; replacement parameters allowed")
        self.data_edit.setMaximumHeight(110)
        self.run_action_button = QPushButton("Run", self)
        self.run_action_button.clicked.connect(self.run_direct)
        direct = QGroupBox("Direct action", self)
        form = QFormLayout(direct)
        form.addRow("Hosted control", self.control_combo)
        form.addRow("Action", self.action_edit)
        form.addRow("Data", self.data_edit)
        run_row = QHBoxLayout()
        run_row.addStretch(1)
        run_row.addWidget(self.run_action_button)
        form.addRow("", run_row)

        # -- JavaScript
        self.script_edit = QPlainTextEdit(self)
        self.script_edit.setFont(mono)
        self.script_edit.setPlaceholderText(
            'JavaScript; replacement parameters first, e.g. "[[$Context.name]+]".length'
        )
        self.script_edit.setMaximumHeight(110)
        self.evaluate_button = QPushButton("Evaluate", self)
        self.evaluate_button.clicked.connect(self.run_script)
        self.script_result = QPlainTextEdit(self)
        self.script_result.setFont(mono)
        self.script_result.setReadOnly(True)
        self.script_result.setMaximumHeight(80)
        script = QGroupBox("Scriptlet / JavaScript", self)
        col = QVBoxLayout(script)
        col.addWidget(self.script_edit)
        col.addWidget(self.evaluate_button, 0, Qt.AlignmentFlag.AlignRight)
        col.addWidget(self.script_result)

        self.status = QLabel("Runs in the active session.", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addWidget(calls)
        layout.addWidget(direct)
        layout.addWidget(script)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.reload()

    # ------------------------------------------------------------------ lists
    def reload(self) -> None:
        """Refill the action-call and control lists (after a configuration change)."""
        call = self.call_combo.currentText()
        self.call_combo.clear()
        self.call_combo.addItems(sorted(self.dispatcher.action_calls, key=str.lower))
        if call:
            self.call_combo.setCurrentText(call)
        control = self.control_combo.currentText()
        self.control_combo.clear()
        self.control_combo.addItems(list(self._controls()))
        if control:
            self.control_combo.setCurrentText(control)
        self._control_changed(self.control_combo.currentText())

    def _control_changed(self, control: str) -> None:
        self._action_names.setStringList(list(self._controls().get(control, ())))

    # ------------------------------------------------------------------ running
    def run_configured(self) -> asyncio.Task[Any] | None:
        name = self.call_combo.currentText().strip()
        if not name:
            self.status.setText("Choose an action call first.")
            return None
        session = self.dispatcher.sessions.active
        return self._schedule(
            self.dispatcher.run_action_call(name, session=session, event=DEBUG_EVENT),
            lambda outcome: self.status.setText(outcome_text(outcome)),
        )

    def run_direct(self) -> asyncio.Task[Any] | None:
        control = self.control_combo.currentText().strip()
        action = self.action_edit.text().strip()
        if not control or not action:
            self.status.setText("Choose a hosted control and type an action first.")
            return None
        return self._schedule(
            self.dispatcher.run_action(
                control, action, self.data_edit.toPlainText(),
                session=self.dispatcher.sessions.active, event=DEBUG_EVENT,
            ),
            lambda outcome: self.status.setText(outcome_text(outcome)),
        )

    def run_script(self) -> asyncio.Task[Any]:
        code = self.script_edit.toPlainText()

        async def evaluate() -> str:
            await asyncio.sleep(0)  # let the click return first
            try:
                return self._evaluate(code)
            except UsdError as exc:
                return f"Error: {exc}"

        self.script_result.setPlainText("…")
        return self._schedule(evaluate(), self.script_result.setPlainText)

    def _schedule(
        self, coro: Awaitable[Any], show: Callable[[Any], object]
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self.tasks.discard(finished)
            if finished.cancelled():
                return
            error = finished.exception()
            if error is not None:
                self.status.setText(f"Error: {type(error).__name__}: {error}")
            else:
                show(finished.result())

        task.add_done_callback(done)
        return task

    def dispose(self) -> None:
        """Cancel the runs that have not finished (the debugger is closing)."""
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()


class ProblemsPane(QWidget):
    """The plugins and hosted controls that failed to load; refreshed when shown."""

    def __init__(self, problems: Callable[[], Sequence[str]], parent: QWidget | None = None):
        super().__init__(parent)
        self._problems = problems
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.summary = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        self.refresh()

    def refresh(self) -> None:
        problems = list(self._problems())
        self.summary.setText(
            f"{len(problems)} problem(s) while loading plugins and hosted controls."
            if problems else "No problems: every plugin and hosted control loaded."
        )
        self.text.setPlainText("\n".join(problems))

    def showEvent(self, event: Any) -> None:
        self.refresh()
        super().showEvent(event)
