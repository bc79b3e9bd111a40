"""usd_counter: a Counter hosted-control type for usd_desktop.

This module is what the entry point names, so it stays cheap to import: it declares the type as
data and nothing else. The desktop imports the implementation (``usd_counter.control``) only when a
configuration has a hosted control of type ``Counter``; ``usd-admin validate`` never imports it.
"""

from __future__ import annotations

from usd_desktop.hosted_controls.base import ControlType

COUNTER = ControlType(
    name="Counter",
    factory="usd_counter.control:Counter",
    description="Counts. Increment (by=<n>) and Reset return the new count, publish it as "
    "[[<control>.count]] and raise CountChanged (parameter count).",
    actions=frozenset({"Increment", "Reset"}),
    events=frozenset({"CountChanged"}),
    singleton=False,
    needs_qt=False,
    default_panel="HiddenPanel",
)

__all__ = ["COUNTER"]
