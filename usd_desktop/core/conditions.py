"""Conditions: JavaScript evaluated after replacement, as in USD.

A condition on an action call, a navigation rule or a toolbar button is first rendered with the
replacement parameters, then evaluated as JavaScript in the sandbox of :mod:`jsengine`.

* blank (or only whitespace) runs;
* truthy runs; false, or an exception (a syntax error, a throw, a time-out) skips, and
  :class:`ConditionResult` says why, for the trace and the debugger;
* a replacement parameter without ``+`` that has no value skips too (:attr:`missing` names it).
  The dispatcher treats that case as "aborted on a missing parameter", as USD does for the whole
  action call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from usd_desktop.core import jsengine
from usd_desktop.core.errors import MissingParameter, ReplacementError, ScriptError


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """The outcome of one condition: whether to run, the rendered JavaScript and the reason."""

    run: bool
    rendered: str = ""
    reason: str = ""
    missing: MissingParameter | None = None

    def __bool__(self) -> bool:
        return self.run


def evaluate_condition(
    condition: str | None,
    data: Mapping[str, Any],
    *,
    scriptlets: Mapping[str, str] | None = None,
    time_limit: float = jsengine.DEFAULT_TIME_LIMIT,
) -> ConditionResult:
    """Render ``condition`` with ``data`` (see :func:`replacement.render`) and evaluate it."""
    if condition is None or not condition.strip():
        return ConditionResult(True, "", "no condition")
    from usd_desktop.core import replacement  # local: replacement uses the JS engine as well

    try:
        rendered = replacement.render(condition, data, scriptlets=scriptlets)
    except MissingParameter as exc:
        return ConditionResult(False, "", str(exc), exc)
    except ReplacementError as exc:
        return ConditionResult(False, "", f"condition could not be rendered: {exc}")
    if not rendered.strip():
        return ConditionResult(True, rendered, "condition rendered empty")
    try:
        ok = jsengine.evaluate_to_bool(rendered, time_limit=time_limit)
    except ScriptError as exc:
        return ConditionResult(False, rendered, f"condition threw: {exc}")
    return ConditionResult(ok, rendered, "condition true" if ok else "condition false")


def should_run(condition: str | None, data: Mapping[str, Any]) -> bool:
    """The conformance contract: does an action call with this condition run on this data?"""
    return evaluate_condition(condition, data).run


_TOKEN = re.compile(r"\[\[[^\[\]]*\][^\[\]]{0,12}\]")


def condition_syntax_error(condition: str | None) -> str | None:
    """Check a condition's JavaScript syntax without data, when a configuration loads.

    Replacement tokens are swapped for a placeholder identifier first (a token normally sits inside
    quotes, where any placeholder is fine, or stands for a number or boolean). Returns the syntax
    error, or ``None``.
    """
    if condition is None or not condition.strip():
        return None
    placeholder = _TOKEN.sub("0", condition)
    placeholder = re.sub(r"\$(Expression|Multiline)\(", "(", placeholder)
    return jsengine.syntax_error(placeholder)
