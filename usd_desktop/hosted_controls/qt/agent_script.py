"""Agent Scripting: guided call and chat scripts (usd-reference §6.1 and the §2.2 table).

The control shows the configuration's ``agent_scripts`` through the Qt-free
:class:`~usd_desktop.core.agent_script.ScriptEngine`: the current task's script text and
instructions, rendered with replacement parameters, its answers as buttons (``✓`` once chosen), a
history drop-down and Back, and the ``[Main Menu]`` of start tasks when there are two or more.

**Entering the script.** When the control is created, and on ``StartScript``, the script starts
afresh at the task whose trigger matches the call data (the session's ``cti`` section over its
``$Context``; ``StartScript``'s ``key=value`` lines over both), else at the only start task, else
at the main menu. ``StartScript task=<name>`` starts at that task.

**Moves.** Choosing an answer runs its action calls, then raises ``AnswerChosen`` (``task``,
``answer``) and, when that choice completes the task's answers, ``AllAnswersVisited`` (``task``,
``id``: the task's name, our tasks' only identity), then jumps to the linked task (none: it stays).
Reaching a position publishes it as ``[[<control>.Name]]``, ``ScriptText``, ``Instructions``,
``Category``, ``StartTask`` and ``ShowTab`` (``Name`` is ``[Main Menu]`` on the menu; the texts are
rendered, a missing parameter as nothing), raises ``TaskUpdated`` (``task``), runs the task's
action calls in order and shows its ``show_tab`` control. Going back (Back, the history drop-down)
or to the main menu runs no action call: USD does not undo actions, and running them again because
the agent looked back would surprise them; ``TaskUpdated`` still fires and the tab still shows.

The screen moves at once; what the move asks for (action calls, events, the tab) runs in the
background, in order, one move after the other, so the agent is never blocked. A failing action
call is in the trace (the dispatcher records it) and on the control's status line; the script
stays usable. Action calls run in the session the control follows (its own; the active one for a
global control).

**Parameters.** A replacement parameter without a value (absent, or empty like a record's blank
field) shows as a highlighted ``«contact.first_name»`` instead of hiding the text (USD issue
#1242), and the texts are rendered again whenever the session's data changes, so the name appears
as soon as the customer is loaded.

**Actions.** ``GoToTask`` (the task name: first line or ``task=``), ``GotoTaskByDnis`` (``dnis=``:
the first task with that DNIS trigger), ``Back``, ``MainMenu``, ``StartScript`` (``task=`` and call
data lines). Each returns the position reached (``$Return``).

**Crash recovery.** :meth:`AgentScriptControl.session_state` gives ``{"script": <state>}``;
:meth:`~AgentScriptControl.restore_session_state` puts it back without running anything (the
entry's pending work, if not started, is dropped; a task no longer configured gives the main menu).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from PySide6.QtWidgets import QWidget

from usd_desktop.core import replacement
from usd_desktop.core.agent_script import (
    MAIN_MENU,
    ScriptEngine,
    ScriptState,
    Step,
    placeholder,
    render_text,
    without_blanks,
)
from usd_desktop.core.context import ChangeSet, Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext, Chain
from usd_desktop.core.errors import ActionError
from usd_desktop.core.soon import SoonOnce
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import AGENT_SCRIPTING
from usd_desktop.hosted_controls.qt.agent_script_widget import (
    AgentScriptWidget,
    AnswerView,
    ScriptView,
)
from usd_desktop.hosted_controls.qt.base import QtHostedControl

log = logging.getLogger(__name__)

#: Marks a missing parameter in a rendered text until it is shown (private-use characters).
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKED = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.DOTALL)
_MENU_TEXT = "Choose the script to start."

Effect = Callable[[], Awaitable[None]]


def _mark(parameter: str) -> str:
    return f"{_OPEN}{parameter}{_CLOSE}"


def _nothing(parameter: str) -> str:
    return ""


def _first(data: ActionData, key: str) -> str:
    value = data.take(key)
    if value is not None and value.strip():
        return value.strip()
    found = data.positionals()
    return found[0].strip() if found else ""


class AgentScriptControl(QtHostedControl):
    """The agent script of a session (see the module doc)."""

    control_type = AGENT_SCRIPTING

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine = ScriptEngine(self.env.config.agent_scripts)
        self.state = ScriptState()
        self.problem = ""
        self._queue: deque[Effect] = deque()
        self._running = False
        self._refresh_once = SoonOnce(self._refresh_from_data)  # one render per loop turn
        self._deps: dict[str, Any] = {}  # task name -> the parameters its texts read (None: any)
        sessions = self.env.dispatcher.sessions
        self.follow_context(self._on_context_changed)
        if self.session.is_global:
            self.keep(sessions.active_changed.connect(lambda _s: self._refresh_soon()))
        # A session being restored after a crash: its state comes next, and nothing may run.
        restoring = bool(getattr(self.env, "restoring", False))
        state, step = self.engine.start(self._call_data())
        self.state = state
        if restoring:
            self._publish_position()
        else:
            self._queue.append(self._announce_state)  # the control is registered by then
            self._after_move(step, None, notify=False)

    # ------------------------------------------------------------------ reading
    @property
    def current(self) -> str | None:
        """The task shown; ``None``: the main menu."""
        return self.state.current

    @property
    def idle(self) -> bool:
        """Whether every action call and event asked for so far has run."""
        return not self._running and not self._queue

    def _data(self) -> dict[str, Any]:
        """The data texts render against; an empty value shows as missing, like an absent one."""
        return without_blanks(self.env.dispatcher.sessions.data_for(self.context_session()))

    def _call_data(self) -> dict[str, str]:
        store = self.context_session().store
        data = dict(store.section("$Context"))
        data.update(store.section("cti"))
        return data

    def _render(self, template: str, data: Mapping[str, Any]) -> tuple[str, str]:
        """``template`` rendered with missing parameters marked; and the problem, if any."""
        rendered = render_text(template, data, scriptlets=self.env.dispatcher.scriptlets, mark=_mark)
        return rendered.text, rendered.error

    def _plain(self, template: str, data: Mapping[str, Any],
               missing: Callable[[str], str] = placeholder) -> str:
        text, _ = self._render(template, data)
        return _MARKED.sub(lambda m: missing(m.group(1)), text)

    # ------------------------------------------------------------------ moves
    def go_to(self, task: str, chain: Chain | None = None) -> Step:
        """Show ``task``; its action calls run. :class:`ActionError` when there is no such task."""
        try:
            step = self.engine.go_to(self.state, task)
        except ValueError as exc:
            raise ActionError(f"{self.name}: {exc}") from None
        self._after_move(step, chain)
        return step

    def choose(self, key: str, chain: Chain | None = None) -> Step:
        """The agent chose answer ``key`` (on the main menu: the start task ``key``)."""
        if self.state.current is None:
            return self.go_to(key, chain)
        try:
            step = self.engine.choose(self.state, key)
        except ValueError as exc:
            raise ActionError(f"{self.name}: {exc}") from None
        self._after_move(step, chain)
        return step

    def back(self, chain: Chain | None = None) -> Step:
        step = self.engine.back(self.state)
        if step.moved:
            self._after_move(step, chain)
        return step

    def back_to(self, index: int, chain: Chain | None = None) -> Step:
        try:
            step = self.engine.back_to(self.state, index)
        except IndexError as exc:
            raise ActionError(f"{self.name}: {exc}") from None
        self._after_move(step, chain)
        return step

    def main_menu(self, chain: Chain | None = None) -> Step:
        step = self.engine.main_menu(self.state)
        if step.moved:
            self._after_move(step, chain)
        return step

    def start(self, call_data: Mapping[str, str] | None = None, task: str | None = None,
              chain: Chain | None = None) -> Step:
        """Start the script afresh (history and check marks cleared) at ``task`` or the entry."""
        data = self._call_data()
        data.update(call_data or {})
        try:
            state, step = self.engine.start(data, task)
        except ValueError as exc:
            raise ActionError(f"{self.name}: {exc}") from None
        self.state = state
        self._after_move(step, chain)
        return step

    def _after_move(self, step: Step, chain: Chain | None, *, notify: bool = True) -> None:
        """Show the new position now; queue what the step asks for, in its order."""
        self.problem = ""
        self._refresh()
        if notify:
            self.state_changed()
        session = self.context_session()
        work: list[Effect] = [partial(self._run_call, name, session, chain)
                              for name in step.answer_action_calls]
        if step.answer is not None:
            work.append(partial(self._fire, "AnswerChosen", {"task": step.task, "answer": step.answer},
                                session, chain))
        if step.all_answers_visited:
            work.append(partial(self._fire, "AllAnswersVisited", {"task": step.task, "id": step.task},
                                session, chain))
        if step.moved:
            work.append(partial(self._reached, step.position, session, chain))
            work.extend(partial(self._run_call, name, session, chain) for name in step.task_action_calls)
            task = self.engine.tasks.get(step.reached or "")
            if task is not None and task.show_tab:
                work.append(partial(self._show_tab, task.show_tab, session))
        self._enqueue(work)

    # ------------------------------------------------------------------ background work, in order
    def _enqueue(self, work: list[Effect]) -> None:
        self._queue.extend(work)
        if self._queue and not self._running and not self.closed:
            self._running = True
            self.env.spawn(self._drain(), session=self.session)

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                effect = self._queue.popleft()
                try:
                    await effect()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one broken step never stops the script
                    log.exception("%s: a script step failed", self.name)
                    self._set_problem(f"{type(exc).__name__}: {exc}")
        finally:
            self._running = False

    async def _announce_state(self) -> None:
        self.state_changed()

    async def _run_call(self, name: str, session: Session, chain: Chain | None) -> None:
        outcome = await self.env.dispatcher.run_action_call(name, session=session, chain=chain)
        if outcome.outcome is Outcome.FAILED:
            self._set_problem(f"“{name}” failed: {outcome.reason}")
        elif outcome.outcome is Outcome.ABORTED:
            self._set_problem(f"“{name}” did not run: {outcome.reason}")

    async def _fire(self, event: str, parameters: Mapping[str, Any], session: Session,
                    chain: Chain | None) -> None:
        await self.env.dispatcher.fire_event(self.name, event, parameters, session=session, chain=chain)

    async def _reached(self, position: str, session: Session, chain: Chain | None) -> None:
        self._publish_position()
        await self._fire("TaskUpdated", {"task": position}, session, chain)

    async def _show_tab(self, control: str, session: Session) -> None:
        directory = self.env.dispatcher.controls
        if directory.is_global(control) is None:
            self._set_problem(f"show_tab: no hosted control named {control!r}")
            return
        try:
            directory.resolve(control, session)  # a session control may not exist yet
        except ActionError as exc:
            self._set_problem(f"show_tab: {exc}")
            return
        self.env.host.show_control(control)

    def _set_problem(self, text: str) -> None:
        self.problem = text
        log.info("%s: %s", self.name, text)
        self._refresh()

    # ------------------------------------------------------------------ data parameters
    def _publish_position(self) -> None:
        task = self.engine.tasks.get(self.state.current or "")
        if task is None:
            self.publish({"Name": MAIN_MENU, "ScriptText": "", "Instructions": "", "Category": "",
                          "StartTask": "", "ShowTab": ""})
            return
        data = self._data()
        self.publish({
            "Name": task.name,
            "ScriptText": self._plain(task.script_text, data, _nothing),
            "Instructions": self._plain(task.instructions, data, _nothing),
            "Category": task.category,
            "StartTask": task.start_task,
            "ShowTab": task.show_tab or "",
        })

    def _republish_texts(self) -> None:
        """The published texts follow the data, once the position itself is published."""
        task = self.engine.tasks.get(self.state.current or "")
        if task is None or self.session.store.get(self.name, "Name") != task.name:
            return
        data = self._data()
        self.publish({"ScriptText": self._plain(task.script_text, data, _nothing),
                      "Instructions": self._plain(task.instructions, data, _nothing)})

    # ------------------------------------------------------------------ following the data
    def _on_context_changed(self, change: ChangeSet) -> None:
        if self.closed or change.roots <= {self.name}:
            return
        sessions = self.env.dispatcher.sessions
        if change.session_id in (self.context_session().id, sessions.global_session.id) and \
                self._reads(change):
            self._refresh_soon()

    def _reads(self, change: ChangeSet) -> bool:
        """Can ``change`` alter the texts shown (the task's text, instructions and answers)?"""
        task = self.engine.tasks.get(self.state.current or "")
        if task is None:
            return False  # the main menu shows task names only
        deps = self._deps.get(task.name, ())
        if deps == ():
            deps = self._deps[task.name] = replacement.dependencies(
                task.script_text, task.instructions, *(a.text for a in task.answers))
        if deps is None:
            return True
        return any((root, name) in deps or (root, None) in deps for root, name in change.keys)

    def _refresh_soon(self) -> None:
        if not self.closed:
            self._refresh_once.request()

    def _refresh_from_data(self) -> None:
        if self.closed:
            return
        self._refresh()
        self._republish_texts()

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = AgentScriptWidget()
        widget.answer_clicked.connect(lambda key: self._from_ui(self.choose, key))
        widget.history_chosen.connect(lambda index: self._from_ui(self.back_to, index))
        widget.back_clicked.connect(lambda: self._from_ui(self.back))
        widget.main_menu_clicked.connect(lambda: self._from_ui(self.main_menu))
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        widget.show_view(self.view())
        return widget

    def _widget_destroyed(self, widget: AgentScriptWidget) -> None:
        if self._widget is widget:
            self._widget = None

    @property
    def script_widget(self) -> AgentScriptWidget | None:
        widget = self._widget
        return widget if isinstance(widget, AgentScriptWidget) else None

    def _from_ui(self, move: Callable[..., Step], *args: Any) -> None:
        try:
            move(*args)
        except ActionError as exc:
            self._set_problem(str(exc).removeprefix(f"{self.name}: "))

    def _refresh(self) -> None:
        widget = self.script_widget
        if widget is not None:
            widget.show_view(self.view())

    def _label(self, position: str | None) -> str:
        return MAIN_MENU if position is None else position

    def view(self) -> ScriptView:
        """What the widget shows now (rendered against the session's current data)."""
        state = self.state
        problems = [self.problem] if self.problem else []
        task = self.engine.tasks.get(state.current or "")
        script: tuple[str, ...]
        if task is None:
            title, script, instructions = MAIN_MENU, (_MENU_TEXT,), ""
            answers = tuple(AnswerView(t.name, t.name) for t in self.engine.start_tasks)
        else:
            data = self._data()
            text, error = self._render(task.script_text, data)
            script = tuple(_MARKED.split(text))
            instructions = self._plain(task.instructions, data)
            title = task.name
            answers = tuple(
                AnswerView(a.name, self._plain(a.text, data) or a.name,
                           state.is_visited(task.name, a.name))
                for a in self.engine.answers(task.name)
            )
            if error:
                problems.append(f"The script text could not be rendered: {error}")
        return ScriptView(
            title=title,
            script=script,
            instructions=instructions,
            answers=answers,
            history=tuple(self._label(p) for p in state.history),
            current=self._label(state.current),
            can_go_back=bool(state.history),
            main_menu=self.engine.has_main_menu,
            status="\n".join(problems),
        )

    # ------------------------------------------------------------------ crash recovery
    def session_state(self) -> dict[str, Any] | None:
        return {"script": self.state.to_json()}

    def restore_session_state(self, state: Mapping[str, Any]) -> None:
        script = state.get("script")
        try:
            if not isinstance(script, Mapping):
                raise ValueError(f"'script' is {type(script).__name__}, not a mapping")
            restored = ScriptState.from_json(script)
        except ValueError as exc:
            log.warning("%s: the journaled script state is not usable: %s", self.name, exc)
            return
        known = self.engine.tasks
        restored.history = [p for p in restored.history if p is None or p in known]
        if restored.current is not None and restored.current not in known:
            restored.current = None
        self._queue.clear()  # the entry's work not started yet: the restored state replaces it
        self.state = restored
        self.problem = ""
        self._publish_position()
        self._refresh()

    # ------------------------------------------------------------------ UII actions
    @uii_action("GoToTask")
    def go_to_task_action(self, data: ActionData, call: CallContext) -> str:
        task = _first(data, "task")
        if not task:
            raise ActionError("GoToTask needs the task name (first line or task=<name>)")
        return self.go_to(task, call.chain).position

    @uii_action("GotoTaskByDnis")
    def go_to_task_by_dnis(self, data: ActionData, call: CallContext) -> str:
        dnis = _first(data, "dnis")
        if not dnis:
            raise ActionError("GotoTaskByDnis needs dnis=<dialled number>")
        task = self.engine.task_for_dnis(dnis)
        if task is None:
            raise ActionError(f"{self.name}: no agent script task has a DNIS trigger for {dnis!r}")
        return self.go_to(task, call.chain).position

    @uii_action("Back")
    def back_action(self, data: ActionData, call: CallContext) -> str:
        return self.back(call.chain).position

    @uii_action("MainMenu")
    def main_menu_action(self, data: ActionData, call: CallContext) -> str:
        return self.main_menu(call.chain).position

    @uii_action("StartScript")
    def start_script_action(self, data: ActionData, call: CallContext) -> str:
        task = (data.take("task") or "").strip() or None
        return self.start(data.as_dict(), task, call.chain).position

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        self._queue.clear()
        super().close()
