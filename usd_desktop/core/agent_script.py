"""Agent scripts as a pure state machine (usd-reference §6.1): where the agent is, and what a move does.

:class:`ScriptEngine` knows the tasks; a :class:`ScriptState` says where one script is (a task, or
the main menu), what came before (for Back and the history drop-down) and which answers were
chosen (the check marks). Each move returns a :class:`Step` telling the caller (the Agent
Scripting control) what to do, in order; the engine itself runs nothing, reads nothing and never
blocks, so it is tested without Qt or a dispatcher.

Decisions:

* **Entry** (:meth:`ScriptEngine.entry`): the first task, in task order, with a trigger matching
  the call data; else the only start task; else the main menu (no start task, or two or more).
  A ``dnis`` trigger matches when its digits equal the dialled number's (``call_data["dnis"]``;
  spaces, ``+``, ``-``, ``.`` and parentheses ignored); an ``other`` trigger's ``data`` is
  ``key=value`` and matches when the call data's ``key`` (any case) holds exactly ``value``
  (surrounding blanks ignored).
* **Action calls**: an answer's run before the jump, then the reached task's. Going *back*
  (:meth:`~ScriptEngine.back`, :meth:`~ScriptEngine.back_to`) or to the main menu runs none: USD
  does not undo actions, and running a task's actions again because the agent looked back would
  surprise them (a second case created, a second e-mail sent). ``GoToTask`` to a task, even the
  one shown, runs its actions: it is asked for.
* **History**: every forward move (a task reached by an answer or ``GoToTask``, the main menu)
  puts the position left on the history; Back takes the last one off, ``back_to(i)`` drops
  entry ``i`` and everything after it. An answer without a linked task stays and adds nothing.
* **Visited answers** are kept per task for the whole script (also when the task is reached
  again); ``all_answers_visited`` is true on the choice that completes the set, once.

:func:`render_text` renders a script text for display: a missing parameter shows as a visible
placeholder (``«contact.first_name»``) instead of hiding the whole text (USD issue #1242). With
:func:`without_blanks` data, an empty value shows the same way (a record's empty field is as
unknown to the agent as one not loaded yet).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from usd_desktop.core.errors import MissingParameter, ReplacementError
from usd_desktop.core.replacement import render, try_render, without_blanks

__all__ = [
    "MAIN_MENU",
    "RenderedText",
    "ScriptAnswerDef",
    "ScriptEngine",
    "ScriptState",
    "ScriptTaskDef",
    "ScriptTriggerDef",
    "Step",
    "normalise_dnis",
    "placeholder",
    "render_text",
    "without_blanks",
]

#: How the main menu is named in ``TaskUpdated`` and the history (as USD).
MAIN_MENU = "[Main Menu]"


# ------------------------------------------------------------------------------ what the engine reads
class ScriptTriggerDef(Protocol):
    """A script task trigger (``config.schema.ScriptTrigger`` has this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> str: ...


class ScriptAnswerDef(Protocol):
    """An answer (``config.schema.AgentScriptAnswer`` has this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def linked_task(self) -> str | None: ...
    @property
    def order(self) -> int: ...
    @property
    def action_calls(self) -> Sequence[str]: ...


class ScriptTaskDef(Protocol):
    """A task (``config.schema.AgentScriptTask`` has this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def start_task(self) -> bool: ...
    @property
    def show_tab(self) -> str | None: ...
    @property
    def category(self) -> str: ...
    @property
    def script_text(self) -> str: ...
    @property
    def instructions(self) -> str: ...
    @property
    def action_calls(self) -> Sequence[str]: ...
    @property
    def answers(self) -> Sequence[ScriptAnswerDef]: ...
    @property
    def triggers(self) -> Sequence[ScriptTriggerDef]: ...


# ------------------------------------------------------------------------------ state and steps
@dataclass
class ScriptState:
    """Where one script is. JSON-friendly: :meth:`to_json` / :meth:`from_json` round-trip exactly."""

    current: str | None = None  # the task shown; None: the main menu
    history: list[str | None] = field(default_factory=list)  # positions before, oldest first
    visited: dict[str, list[str]] = field(default_factory=dict)  # task -> answers chosen, in order

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "history": list(self.history),
            "visited": {task: list(answers) for task, answers in self.visited.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScriptState:
        """The state :meth:`to_json` gave; :class:`ValueError` when ``data`` is not of that shape."""
        if not isinstance(data, Mapping):
            raise ValueError(f"an agent script state is a mapping, not {type(data).__name__}")
        current = data.get("current")
        history = data.get("history", [])
        visited = data.get("visited", {})
        if current is not None and not isinstance(current, str):
            raise ValueError(f"agent script state: current is {current!r}, not a task name or null")
        if not isinstance(history, list) or not all(h is None or isinstance(h, str) for h in history):
            raise ValueError("agent script state: history must be a list of task names or nulls")
        if not isinstance(visited, Mapping) or not all(
            isinstance(task, str) and isinstance(answers, list)
            and all(isinstance(a, str) for a in answers)
            for task, answers in visited.items()
        ):
            raise ValueError("agent script state: visited must map task names to lists of answer names")
        return cls(current, list(history), {task: list(answers) for task, answers in visited.items()})

    def is_visited(self, task: str, answer: str) -> bool:
        return answer in self.visited.get(task, ())


@dataclass(frozen=True, slots=True)
class Step:
    """What a move asks of the control, in this order.

    ``answer_action_calls`` (the chosen answer's), then, when ``moved``, the position reached
    (``reached``: a task name, ``None`` for the main menu) is shown and announced, and
    ``task_action_calls`` (the reached task's; empty for a move back) run.
    """

    moved: bool = False
    reached: str | None = None
    answer_action_calls: tuple[str, ...] = ()
    task_action_calls: tuple[str, ...] = ()
    task: str | None = None  # the task the chosen answer belongs to
    answer: str | None = None  # the chosen answer's name
    all_answers_visited: bool = False

    @property
    def position(self) -> str:
        """The position reached, as ``TaskUpdated`` names it (``[Main Menu]`` for the menu)."""
        return MAIN_MENU if self.reached is None else self.reached


# ------------------------------------------------------------------------------ the engine
_DNIS_NOISE = re.compile(r"[\s+\-.()]")


def normalise_dnis(number: str) -> str:
    """A dialled number without spaces, ``+``, ``-``, ``.`` and parentheses (``+1 800-555``: ``1800555``)."""
    return _DNIS_NOISE.sub("", number or "")


class ScriptEngine:
    """The tasks of a configuration, and the moves between them (see the module doc)."""

    def __init__(self, tasks: Sequence[ScriptTaskDef]) -> None:
        self.tasks: dict[str, ScriptTaskDef] = {}
        for task in tasks:
            self.tasks.setdefault(task.name, task)  # a duplicated name: the first wins (USD191)
        self._order = list(self.tasks.values())
        self._answers = {
            name: sorted(task.answers, key=lambda a: a.order)  # stable: ties keep list order
            for name, task in self.tasks.items()
        }

    # ------------------------------------------------------------------ reading
    @property
    def start_tasks(self) -> list[ScriptTaskDef]:
        """The start tasks, in task order."""
        return [task for task in self._order if task.start_task]

    @property
    def has_main_menu(self) -> bool:
        """Whether the agent gets a main menu (two or more start tasks)."""
        return len(self.start_tasks) >= 2

    def task(self, name: str) -> ScriptTaskDef:
        """The task named ``name``; :class:`ValueError` naming it when there is none."""
        task = self.tasks.get(name)
        if task is None:
            known = ", ".join(self.tasks) or "none"
            raise ValueError(f"no agent script task named {name!r} (tasks: {known})")
        return task

    def answers(self, task: str) -> list[ScriptAnswerDef]:
        """The answers of ``task`` by ``order`` (ties keep list order)."""
        self.task(task)
        return list(self._answers[task])

    def answer(self, task: str, name: str) -> ScriptAnswerDef:
        for answer in self.answers(task):
            if answer.name == name:
                return answer
        raise ValueError(f"agent script task {task!r} has no answer named {name!r}")

    # ------------------------------------------------------------------ entry
    def entry(self, call_data: Mapping[str, str]) -> str | None:
        """The task a script starts at for ``call_data``; ``None``: the main menu."""
        data = {str(k).strip().casefold(): str(v) for k, v in call_data.items()}
        for task in self._order:
            if any(_matches(trigger, data) for trigger in task.triggers):
                return task.name
        starts = self.start_tasks
        return starts[0].name if len(starts) == 1 else None

    def task_for_dnis(self, dnis: str) -> str | None:
        """The first task with a ``dnis`` trigger for ``dnis`` (``GotoTaskByDnis``)."""
        wanted = normalise_dnis(dnis)
        if not wanted:
            return None
        for task in self._order:
            for trigger in task.triggers:
                if trigger.type == "dnis" and normalise_dnis(trigger.data) == wanted:
                    return task.name
        return None

    def start(
        self, call_data: Mapping[str, str] | None = None, task: str | None = None
    ) -> tuple[ScriptState, Step]:
        """A fresh script at ``task``, else at :meth:`entry`: the state and the step reaching it."""
        target = task if task is not None else self.entry(call_data or {})
        state = ScriptState()
        if target is None:
            return state, Step(moved=True, reached=None)
        reached = self.task(target)
        state.current = reached.name
        return state, Step(moved=True, reached=reached.name,
                           task_action_calls=tuple(reached.action_calls))

    # ------------------------------------------------------------------ moves
    def go_to(self, state: ScriptState, task: str) -> Step:
        """Show ``task`` (``GoToTask``, a main-menu choice); its action calls run."""
        target = self.task(task)
        state.history.append(state.current)
        state.current = target.name
        return Step(moved=True, reached=target.name, task_action_calls=tuple(target.action_calls))

    def choose(self, state: ScriptState, answer_name: str) -> Step:
        """The agent chose ``answer_name`` of the current task: record it, then jump or stay."""
        if state.current is None:
            raise ValueError(f"the main menu has no answers (chose {answer_name!r}); go to a task")
        task = self.task(state.current)
        answer = self.answer(task.name, answer_name)
        target = self.task(answer.linked_task) if answer.linked_task else None
        chosen = state.visited.setdefault(task.name, [])
        first_time = answer.name not in chosen
        if first_time:
            chosen.append(answer.name)
        names = {a.name for a in self._answers[task.name]}
        complete = first_time and names <= set(chosen)
        calls = tuple(answer.action_calls)
        if target is None:
            return Step(moved=False, reached=state.current, answer_action_calls=calls,
                        task=task.name, answer=answer.name, all_answers_visited=complete)
        state.history.append(state.current)
        state.current = target.name
        return Step(moved=True, reached=target.name, answer_action_calls=calls,
                    task_action_calls=tuple(target.action_calls), task=task.name,
                    answer=answer.name, all_answers_visited=complete)

    def back(self, state: ScriptState) -> Step:
        """Back to the previous position (nothing when there is none); no action call runs."""
        if not state.history:
            return Step(moved=False, reached=state.current)
        state.current = state.history.pop()
        return Step(moved=True, reached=state.current)

    def back_to(self, state: ScriptState, index: int) -> Step:
        """Back to history entry ``index`` (0: the first position); no action call runs."""
        if not 0 <= index < len(state.history):
            raise IndexError(f"no history entry {index} (the history has {len(state.history)})")
        state.current = state.history[index]
        del state.history[index:]
        return Step(moved=True, reached=state.current)

    def main_menu(self, state: ScriptState) -> Step:
        """Show the main menu (the start tasks); no action call runs."""
        if state.current is None:
            return Step(moved=False, reached=None)
        state.history.append(state.current)
        state.current = None
        return Step(moved=True, reached=None)


def _matches(trigger: ScriptTriggerDef, data: Mapping[str, str]) -> bool:
    if trigger.type == "dnis":
        wanted = normalise_dnis(trigger.data)
        return bool(wanted) and normalise_dnis(data.get("dnis", "")) == wanted
    key, sep, value = trigger.data.partition("=")
    key = key.strip().casefold()
    if not sep or not key or key not in data:
        return False
    return data[key].strip() == value.strip()


# ------------------------------------------------------------------------------ display text
def placeholder(parameter: str) -> str:
    """How a missing parameter shows: ``«contact.first_name»``."""
    return f"«{parameter}»"


@dataclass(frozen=True, slots=True)
class RenderedText:
    """A script text for display: ``missing`` parameters shown by the mark; ``error`` when the
    text could not be rendered at all (then ``text`` is the template as written)."""

    text: str
    missing: tuple[str, ...] = ()
    error: str = ""


#: At most this many distinct missing parameters are replaced by placeholders in one text.
_MAX_MISSING = 64


def render_text(
    template: str,
    data: Mapping[str, Any],
    *,
    scriptlets: Mapping[str, str] | None = None,
    mark: Callable[[str], str] = placeholder,
) -> RenderedText:
    """Render ``template``; each missing parameter (a token without ``+``) shows as ``mark(name)``.

    A missing parameter found inside a value being expanded (not written in ``template`` itself)
    cannot be marked in place: the text is then given as written, with ``error`` saying why.
    """
    if not template:
        return RenderedText("")
    try:
        done = try_render(template, data, scriptlets=scriptlets)
    except ReplacementError as exc:
        return RenderedText(template, (), str(exc))
    if done is not None:
        return RenderedText(done)
    text, missing = template, list[str]()
    while len(missing) < _MAX_MISSING:
        try:
            return RenderedText(render(text, data, scriptlets=scriptlets), tuple(missing))
        except MissingParameter as exc:
            if exc.token not in text:
                return RenderedText(template, tuple(missing), str(exc))
            missing.append(exc.parameter)
            text = text.replace(exc.token, mark(exc.parameter))
        except ReplacementError as exc:
            return RenderedText(template, tuple(missing), str(exc))
    return RenderedText(template, tuple(missing), "too many missing replacement parameters")
