"""A minimal Qt-free signal: ``connect`` returns the disposer that undoes it.

The shell bridges these to Qt signals in one place; the core never needs Qt to notify anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Signal(Generic[T]):
    """Calls its listeners, in connection order, with one payload.

    A listener that raises is logged and the others still run: one broken observer (a debugger
    view, a plugin) never stops the runtime.
    """

    __slots__ = ("_listeners", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._listeners: list[Callable[[T], object]] = []

    def connect(self, listener: Callable[[T], object]) -> Callable[[], None]:
        self._listeners.append(listener)

        def dispose() -> None:
            try:
                self._listeners.remove(listener)
            except ValueError:
                pass

        return dispose

    def emit(self, payload: T) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(payload)
            except Exception:
                log.exception("listener of %s failed", self.name or "signal")

    def __len__(self) -> int:
        return len(self._listeners)
