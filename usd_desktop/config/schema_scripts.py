"""Agent scripts (usd-reference §6.1): tasks with text for the agent, and answers that jump to
other tasks.

A task is an entry point when it is a start task (two or more give the agent a main menu) or has
triggers; answers link the tasks into a graph. A task's action calls run when it is reached, an
answer's before the jump.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from usd_desktop.config.schema_types import Name, _Model


class AgentScriptAnswer(_Model):
    """An answer of an agent script task: a button that runs action calls and jumps to a task."""

    name: Name = Field(description="Name, unique within its task (for administrators).")
    text: str = Field(description="The button's label; may contain replacement parameters.")
    linked_task: Name | None = Field(
        default=None, description="The task shown after the answer is chosen; unset: stay on this task."
    )
    order: int = Field(
        default=0, description="Position among the task's answers (ascending; ties keep list order)."
    )
    action_calls: list[Name] = Field(
        default_factory=list,
        description="Names of the action calls run when the answer is chosen, before the jump.",
    )


class ScriptTrigger(_Model):
    """A script task trigger: call data that selects the task when a session starts."""

    name: Name = Field(description="Name, unique within its task.")
    type: Literal["dnis", "other"] = Field(
        default="other", description="`dnis`: matched against the dialled number; `other`: other call data."
    )
    data: str = Field(default="", description="The value matched, e.g. the DNIS number.")


class AgentScriptTask(_Model):
    """An agent script task: what the agent reads and the answers to choose from."""

    name: Name = Field(description="Unique name; answers' `linked_task` refer to the task by it.")
    start_task: bool = Field(
        default=False,
        description="A task the script can start with; with two or more, the agent first sees a main menu.",
    )
    show_tab: Name | None = Field(
        default=None, description="The hosted control whose tab is shown when the task is reached."
    )
    category: str = Field(default="", description="A grouping for administrators.")
    script_text: str = Field(
        default="", description="What the agent reads out; may contain replacement parameters."
    )
    instructions: str = Field(
        default="",
        description="Guidance for the agent, shown in a different font; may contain replacement parameters.",
    )
    action_calls: list[Name] = Field(
        default_factory=list, description="Names of the action calls run when the task is reached."
    )
    answers: list[AgentScriptAnswer] = Field(default_factory=list, description="The answers, by `order`.")
    triggers: list[ScriptTrigger] = Field(
        default_factory=list, description="Call data that starts the script at this task."
    )
