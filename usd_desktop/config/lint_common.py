"""Helpers shared by :mod:`usd_desktop.config.lint` and the ``lint_*`` modules it runs."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from usd_desktop.config.schema import DataPath
from usd_desktop.core.conditions import condition_syntax_error

ERROR = "error"
WARNING = "warning"

#: Codes of the shared checks that the ``lint_*`` modules report too.
CONDITION_CODE = "USD131"


class Report(Protocol):
    """Records a finding about the value at ``path`` (``offset``: a position in that string)."""

    def __call__(self, path: DataPath, code: str, message: str, offset: int | None = None) -> None: ...


def close(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when one of ``choices`` is close to ``word``, else ``""``."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unique(records: Sequence[Any], path: DataPath, code: str, what: str, report: Report) -> None:
    """Report every record of ``records`` (at ``path``) whose ``name`` an earlier one has."""
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        if record.name in first:
            first_is = f"{path[-1]}[{first[record.name]}]"
            report((*path, i), code, f"duplicate {what} {record.name!r} (first is {first_is})")
        else:
            first[record.name] = i


def reference(
    path: DataPath, name: str | None, known: Mapping[str, Any], code: str, what: str, report: Report
) -> None:
    """Report ``name`` (at ``path``) when it is set and not in ``known``."""
    if name is not None and name not in known:
        report(path, code, f"no {what} named {name!r}{close(name, known)}")


def condition(path: DataPath, text: str, report: Report) -> None:
    """Report a condition that is not valid JavaScript."""
    error = condition_syntax_error(text)
    if error:
        report(path, CONDITION_CODE, f"condition is not valid JavaScript: {error}")
