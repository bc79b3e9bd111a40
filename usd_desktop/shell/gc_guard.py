"""Python's cycle collector runs on the GUI thread only.

CPython runs the cycle collector in whichever thread happens to allocate when a generation's
threshold is crossed. When that is a data worker (``DataServices``, ``asyncio.to_thread``) and the
garbage holds a Qt object (a widget in a reference cycle, an old event loop's timer object), Qt
deletes that object from the wrong thread: "QObject::~QObject: Timers cannot be stopped from
another thread", and sometimes a crash later on the GUI thread.

``install`` turns automatic collection off and collects on a GUI-thread timer instead, with the
same per-generation thresholds Python would have used, so memory behaves as before.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Collects garbage cycles on the thread that owns it (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        gc.disable()
        self._timer.start()

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; the objects freed."""
        counts = gc.get_count()
        generation = -1
        for number, (count, threshold) in enumerate(zip(counts, self.thresholds, strict=True)):
            if threshold <= 0 or count <= threshold:
                break
            generation = number
        return gc.collect(generation) if generation >= 0 else 0

    def uninstall(self) -> None:
        self._timer.stop()
        gc.enable()


def install(app: QCoreApplication) -> MainThreadCollector:
    """The application's collector, created on first use (idempotent)."""
    existing = app.findChild(MainThreadCollector)
    if isinstance(existing, MainThreadCollector):
        return existing
    return MainThreadCollector(app)
