"""The Debugger hosted control (USD's Debugger, reference §4.7), made more useful.

Tabs:

* **Action Calls**: every event and action call of the trace journal, live, coloured by outcome
  (green ran, yellow skipped by its condition, red aborted or failed, blue deferred, grey
  abandoned, events in bold), filterable, with the resolved data, rendered condition, result and
  parent chain of the selected row (:mod:`debugger_trace`);
* **Data Parameters**: session → root → name = value, editable (:mod:`debugger_data`);
* **Run**: a configured action call, a direct action or a piece of JavaScript
  (:mod:`debugger_run`);
* **Debug Output**: the desktop's log (:mod:`debugger_log`);
* **Problems**: plugins and hosted controls that failed to load.

UII actions: ``SetReplacementParameter`` (``appname``, ``param``, ``value``, ``global``),
``TestScriptlet`` (the Data is JavaScript; its value is returned into ``$Return``) and ``Clear``.
The data all comes from the Qt-free core; this module only shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QScrollArea, QTabWidget, QWidget

from usd_desktop.core import jsengine, replacement
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError, UsdError
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import DEBUGGER
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.debugger_data import DataPane
from usd_desktop.hosted_controls.qt.debugger_log import LogPane
from usd_desktop.hosted_controls.qt.debugger_run import DEBUG_EVENT, ProblemsPane, RunPane
from usd_desktop.hosted_controls.qt.debugger_trace import TracePane

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})


class DebuggerWidget(QTabWidget):
    """The debugger's tabs; :meth:`dispose` detaches every live listener."""

    def __init__(
        self,
        control: DebuggerControl,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        dispatcher = control.env.dispatcher
        self.trace = TracePane(dispatcher.journal, control.session_label, self)
        self.data = DataPane(dispatcher.sessions, self)
        self.run = RunPane(dispatcher, control.control_actions, control.evaluate_script, self)
        self.log = LogPane(parent=self)
        self.problems = ProblemsPane(control.problems, self)
        self.addTab(self.trace, "Action Calls")
        self.addTab(self.data, "Data Parameters")
        # the Run pane scrolls, so the debugger can sit in a short panel
        self._run_scroll = QScrollArea(self)
        self._run_scroll.setWidgetResizable(True)
        self._run_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._run_scroll.setWidget(self.run)
        self.addTab(self._run_scroll, "Run")
        self.addTab(self.log, "Debug Output")
        self.addTab(self.problems, "Problems")
        self.currentChanged.connect(self._tab_shown)
        self._disposed = False

    def _tab_shown(self, index: int) -> None:
        page = self.widget(index)
        if page is self.problems:
            self.problems.refresh()
        elif page is self._run_scroll:
            self.run.reload()

    def dispose(self) -> None:
        """Stop listening to the journal, the sessions and the log; cancel unfinished runs."""
        if self._disposed:
            return
        self._disposed = True
        for pane in (self.trace, self.data, self.run, self.log):
            try:
                pane.dispose()
            except RuntimeError:  # a Qt part is already deleted; the Python side is released
                pass


class DebuggerControl(QtHostedControl):
    """A live view of the runtime and a place to run actions (USD Debugger)."""

    control_type = DEBUGGER

    def create_widget(self) -> QWidget:
        widget = DebuggerWidget(self)
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        return widget

    def _widget_destroyed(self, widget: DebuggerWidget) -> None:
        """The widget went away without :meth:`close` (its panel was deleted): let go of it."""
        widget.dispose()
        if self._widget is widget:
            self._widget = None

    @property
    def debugger_widget(self) -> DebuggerWidget | None:
        widget = self._widget
        return widget if isinstance(widget, DebuggerWidget) else None

    # ------------------------------------------------------------------ what the panes read
    def session_label(self, session_id: str) -> str:
        sessions = self.env.dispatcher.sessions
        if session_id == sessions.global_session.id:
            return "Global"
        session = sessions.get(session_id)
        short = session_id[:8]
        return f"{session.name} ({short})" if session is not None and session.name else short

    def control_actions(self) -> Mapping[str, Sequence[str]]:
        """Configured hosted controls -> the UII actions their type (and definition) offer."""
        config = getattr(self.env, "config", None)
        registry = getattr(self.env, "registry", None)
        result: dict[str, Sequence[str]] = {}
        for definition in getattr(config, "hosted_controls", ()):
            control_type = registry.get(definition.type) if registry is not None else None
            names = set(control_type.all_actions) if control_type is not None else set()
            names.update(definition.actions)
            result[definition.name] = sorted(names, key=str.lower)
        return result

    def problems(self) -> Sequence[str]:
        return list(getattr(self.env, "problems", ()))

    def evaluate_script(self, code: str, event: Mapping[str, str] | None = None) -> str:
        """Render ``code``'s replacement parameters, then run it as JavaScript (TestScriptlet)."""
        dispatcher = self.env.dispatcher
        data = dispatcher.sessions.data_for(dispatcher.sessions.active, event or DEBUG_EVENT)
        rendered = replacement.render(code, data, scriptlets=dispatcher.scriptlets)
        return jsengine.evaluate_to_string(rendered)

    # ------------------------------------------------------------------ UII actions
    @uii_action("SetReplacementParameter")
    def set_replacement_parameter(self, data: ActionData, call: CallContext) -> None:
        app = (data.take("appname") or "").strip()
        param = (data.take("param") or "").strip()
        value = data.take("value")
        scope = (data.take("global") or "").strip().lower()
        if not app or not param:
            raise ActionError("SetReplacementParameter needs appname=<root> and param=<name>")
        sessions = call.dispatcher.sessions
        session = sessions.global_session if scope in TRUE_WORDS else sessions.active
        session.store.set(app, param, value or "")

    @uii_action("TestScriptlet")
    def test_scriptlet(self, data: ActionData, call: CallContext) -> str:
        code = data.remainder()
        if not code.strip():
            raise ActionError("TestScriptlet needs JavaScript in its Data")
        widget = self.debugger_widget
        try:
            result = jsengine.evaluate_to_string(code)
        except UsdError as exc:
            if widget is not None:
                widget.run.script_result.setPlainText(f"Error: {exc}")
            raise ActionError(f"TestScriptlet: {exc}") from None
        if widget is not None:
            widget.run.script_result.setPlainText(result)
        return result

    @uii_action("FindTrace")
    def find_trace(self, data: ActionData, call: CallContext) -> str:
        """Filter the trace by the text (first line or ``text=``) and select the newest match, so
        its details (for a navigation: every rule considered) show; ``$Return`` is its name."""
        text = (data.take("text") or data.remainder()).strip()
        widget = self.debugger_widget
        found = widget.trace.find_record(text) if widget is not None else None
        return found.name if found is not None else ""

    @uii_action("Clear")
    def clear(self, data: ActionData, call: CallContext) -> None:
        widget = self.debugger_widget
        if widget is not None:
            widget.trace.clear()

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        widget = self.debugger_widget
        if widget is not None:
            widget.dispose()
        super().close()

