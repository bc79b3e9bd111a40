"""Lint for what the agent sees in a session: agent scripts and session lines (usd-reference §6.0,
§6.1). Run by :func:`usd_desktop.config.lint.lint`; the codes are part of its ``CODES``.

A task is reached from an entry point (a start task, or a task with triggers) by following the
answers' ``linked_task``; a task no entry point leads to is reported (USD198) when the script has
a start task at all (without one, USD197 says so once).
"""

from __future__ import annotations

from collections.abc import Iterator

from usd_desktop.config.lint_common import ERROR, WARNING, Report, reference, unique
from usd_desktop.config.schema import AgentScriptTask, Configuration, DataPath

#: code -> (severity, what it means).
SCRIPT_CODES: dict[str, tuple[str, str]] = {
    "USD182": (ERROR, "duplicate session line name"),
    "USD183": (WARNING, "session lines but none of type session_name"),
    "USD191": (ERROR, "duplicate agent script task name"),
    "USD192": (ERROR, "duplicate answer name within an agent script task"),
    "USD193": (ERROR, "duplicate trigger name within an agent script task"),
    "USD194": (ERROR, "agent script task or answer names an unknown action call"),
    "USD195": (ERROR, "answer links to an unknown agent script task"),
    "USD196": (ERROR, "agent script task shows an unknown hosted control"),
    "USD197": (WARNING, "agent script tasks but no start task"),
    "USD198": (WARNING, "agent script task unreachable from any start task"),
}

SCRIPTS = "agent_scripts"


def lint_scripts(config: Configuration, report: Report) -> None:
    """Check the session lines and the agent scripts of ``config``."""
    _session_lines(config, report)
    tasks = config.agent_scripts
    unique(tasks, (SCRIPTS,), "USD191", "agent script task name", report)
    calls, by_name = config.action_calls_by_name, config.agent_scripts_by_name
    for t, task in enumerate(tasks):
        path = (SCRIPTS, t)
        reference(
            (*path, "show_tab"), task.show_tab, config.controls_by_name, "USD196", "hosted control", report
        )
        for j, name in enumerate(task.action_calls):
            reference((*path, "action_calls", j), name, calls, "USD194", "action call", report)
        unique(task.answers, (*path, "answers"), "USD192", "answer name", report)
        unique(task.triggers, (*path, "triggers"), "USD193", "trigger name", report)
        for a, answer in enumerate(task.answers):
            answer_path = (*path, "answers", a)
            reference((*answer_path, "linked_task"), answer.linked_task, by_name, "USD195", "task", report)
            for j, name in enumerate(answer.action_calls):
                reference((*answer_path, "action_calls", j), name, calls, "USD194", "action call", report)
    if tasks and not any(task.start_task for task in tasks):
        report(
            (SCRIPTS,),
            "USD197",
            "no task has start_task: true, so the agent script cannot start (triggers only pick a task)",
        )
    else:
        _unreachable(config, report)


def _unreachable(config: Configuration, report: Report) -> None:
    by_name = config.agent_scripts_by_name
    todo = [task for task in config.agent_scripts if task.start_task or task.triggers]
    reached = {task.name for task in todo}
    while todo:
        task: AgentScriptTask = todo.pop()
        for answer in task.answers:
            target = by_name.get(answer.linked_task or "")
            if target is not None and target.name not in reached:
                reached.add(target.name)
                todo.append(target)
    for t, task in enumerate(config.agent_scripts):
        if task.name not in reached:
            report(
                (SCRIPTS, t),
                "USD198",
                f"task {task.name!r} is unreachable: it is no start task, has no trigger, and no "
                "answer of a reachable task links to it",
            )


def _session_lines(config: Configuration, report: Report) -> None:
    lines = config.session_lines
    unique(lines, ("session_lines",), "USD182", "session line name", report)
    if lines and not any(line.type == "session_name" for line in lines):
        report(
            ("session_lines",),
            "USD183",
            "no session line of type session_name: session tabs keep their default label",
        )


def script_texts(config: Configuration) -> Iterator[tuple[DataPath, str]]:
    """The texts that may hold replacement parameters: displays, script texts, answers."""
    for i, line in enumerate(config.session_lines):
        yield ("session_lines", i, "display"), line.display
    for t, task in enumerate(config.agent_scripts):
        yield (SCRIPTS, t, "script_text"), task.script_text
        yield (SCRIPTS, t, "instructions"), task.instructions
        for a, answer in enumerate(task.answers):
            yield (SCRIPTS, t, "answers", a, "text"), answer.text
