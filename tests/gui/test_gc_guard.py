"""Garbage cycles that hold Qt objects are freed on the GUI thread, never by a worker that
happened to allocate when a collection was due."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication

from usd_desktop.shell import gc_guard


def _garbage_cycle_with_a_qobject(freed_on: list[int]) -> None:
    obj = QObject()
    obj.destroyed.connect(lambda *_: freed_on.append(threading.get_ident()), Qt.ConnectionType.DirectConnection)
    holder: dict[str, object] = {"obj": obj}
    holder["self"] = holder  # only the cycle collector can free this


def _allocate_in_a_worker() -> list[list[int]]:
    """Containers a worker makes and keeps: enough to cross every collection threshold."""
    kept: list[list[int]] = []
    worker = threading.Thread(target=lambda: kept.extend([] for _ in range(20_000)))
    worker.start()
    worker.join()
    return kept


def test_a_worker_allocating_never_frees_qt_objects(qapp: QApplication) -> None:
    collector = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is collector and not gc.isenabled()
    freed_on: list[int] = []
    _garbage_cycle_with_a_qobject(freed_on)
    kept = _allocate_in_a_worker()
    assert freed_on == []  # the worker crossed every threshold, yet collected nothing
    assert collector.check() > 0
    assert freed_on == [threading.get_ident()]
    assert collector.check() == 0  # nothing left over the thresholds
    del kept


def test_the_timer_collects_when_events_are_processed(qapp: QApplication, qtbot) -> None:  # type: ignore[no-untyped-def]
    gc_guard.install(qapp)
    freed_on: list[int] = []
    _garbage_cycle_with_a_qobject(freed_on)
    kept = _allocate_in_a_worker()
    qtbot.waitUntil(lambda: freed_on == [threading.get_ident()], timeout=3000)
    del kept
