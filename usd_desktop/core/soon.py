"""Work coalesced into one run per event-loop turn.

Many changes in one step of the desktop (a data update that touches ten parameters, a burst of
record changes) should cause one refresh, one write or one render, not ten. :class:`SoonOnce` runs
its function once, on the next turn of the running asyncio loop, however often it is asked for
before then; without a running loop (a script, a test without a loop) it runs at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class SoonOnce:
    """``request()`` runs ``func`` once on the loop's next turn; ``cancel()`` drops a pending run."""

    __slots__ = ("_func", "_handle", "_lock")

    def __init__(self, func: Callable[[], object]) -> None:
        self._func = func
        self._handle: asyncio.Handle | None = None
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        """A run is scheduled and has not happened yet."""
        return self._handle is not None

    def request(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._func()  # no loop to coalesce in: now
            return
        with self._lock:
            if self._handle is not None:
                return
            self._handle = loop.call_soon(self._run)

    def cancel(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def _run(self) -> None:
        with self._lock:
            self._handle = None
        self._func()
