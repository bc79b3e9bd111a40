"""Session lines: a customer session's tab name and its overview (usd-reference §6.0).

The tab's name is the ``display`` of the first ``session_name`` line, by ``order`` (ties keep list
order), whose replacement parameters all resolve; the overview stacks every ``session_overview``
line that resolves. A line with an ``entity`` applies only to sessions of that entity. A line whose
rendering fails for another reason (a throwing ``$Expression``) is left out as well, as USD hides a
line whose scriptlet throws, and the reason is kept for the debugger.

:meth:`SessionLines.affected_by` tells whether a context change can alter a view, from the
parameters the lines read, so sessions are re-evaluated only when something they show changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from usd_desktop.core import replacement
from usd_desktop.core.context import ChangeSet
from usd_desktop.core.errors import MissingParameter, ReplacementError


class SessionLineDef(Protocol):
    """What a session line needs to be (the configuration's ``SessionLine``)."""

    @property
    def name(self) -> str: ...
    @property
    def order(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def entity(self) -> str | None: ...
    @property
    def display(self) -> str: ...


@dataclass(frozen=True, slots=True)
class OverviewLine:
    name: str
    text: str


@dataclass(frozen=True, slots=True)
class SessionView:
    """What the session lines give one session: its tab name (``None``: no line resolved) and
    its overview lines; ``skipped`` names the lines left out and why (for the debugger)."""

    name: str | None
    overview: tuple[OverviewLine, ...]
    skipped: tuple[tuple[str, str], ...] = ()


class SessionLines:
    """The configuration's session lines, ordered once; evaluated against a session's data view."""

    def __init__(
        self, lines: Sequence[SessionLineDef], *, scriptlets: Mapping[str, str] | None = None
    ) -> None:
        ordered = [line for _, line in sorted(enumerate(lines), key=lambda p: (p[1].order, p[0]))]
        self.name_lines = [line for line in ordered if line.type == "session_name"]
        self.overview_lines = [line for line in ordered if line.type == "session_overview"]
        self._scriptlets = dict(scriptlets or {})
        self._deps = replacement.dependencies(*(line.display for line in ordered))

    def __bool__(self) -> bool:
        return bool(self.name_lines or self.overview_lines)

    def evaluate(self, data: Mapping[str, Any], entity: str | None = None) -> SessionView:
        """The view of the session whose ``{"session", "global", "active", "event"}`` data is given.

        An empty value counts as missing: a line about a field the record leaves empty is not shown."""
        data = replacement.without_blanks(data)
        skipped: list[tuple[str, str]] = []
        name: str | None = None
        for line in self.name_lines:
            if not _applies(line, entity):
                continue
            text = self._render(line, data, skipped)
            if text is not None and text.strip():
                name = text.strip()
                break
        overview = []
        for line in self.overview_lines:
            if not _applies(line, entity):
                continue
            text = self._render(line, data, skipped)
            if text is not None and text.strip():
                overview.append(OverviewLine(line.name, text.strip()))
        return SessionView(name, tuple(overview), tuple(skipped))

    def affected_by(self, change: ChangeSet) -> bool:
        """Can ``change`` alter what the lines show?"""
        if not self:
            return False
        deps = self._deps
        if deps is None:
            return True
        return any((root, name) in deps or (root, None) in deps for root, name in change.keys)

    def _render(
        self, line: SessionLineDef, data: Mapping[str, Any], skipped: list[tuple[str, str]]
    ) -> str | None:
        try:
            return replacement.render(line.display, data, scriptlets=self._scriptlets)
        except MissingParameter as exc:
            skipped.append((line.name, str(exc)))
        except ReplacementError as exc:
            skipped.append((line.name, f"could not be rendered: {exc}"))
        return None


def _applies(line: SessionLineDef, entity: str | None) -> bool:
    return not line.entity or (entity or "").lower() == line.entity.lower()
