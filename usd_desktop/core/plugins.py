"""Plugins found through entry points: hosted-control types, CTI adapters.

:func:`load_plugins` loads each entry point of a group, in name order; one that cannot be loaded is
reported (it names the entry point and why) and skipped, so a broken plugin never stops the others
or the desktop. What the loaded object must be is the registry's own check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, entry_points


def load_plugins(group: str, report: Callable[[str, str], None]) -> Iterator[tuple[EntryPoint, str, object]]:
    """``(entry point, "name = module:object", the loaded object)`` for each entry point of ``group``;
    ``report(source, why)`` for one that cannot be loaded."""
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        source = f"{ep.name} = {ep.value}"
        try:
            obj = ep.load()
        except Exception as exc:
            report(source, f"could not be loaded: {type(exc).__name__}: {exc}")
            continue
        yield ep, source, obj
