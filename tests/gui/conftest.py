"""GUI tests: PySide6 offscreen (or under Xvfb), with qasync as the asyncio loop."""

from __future__ import annotations

import os
import sys

import pytest

if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox (tests and CI only)
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-first-run")

# QtWebEngine must be imported before the QApplication exists.
import PySide6.QtWebEngineWidgets  # noqa: F401
import qasync
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from usd_desktop.shell import gc_guard


class _NestedLoopApp:
    """What qasync drives instead of the QApplication: ``exec`` runs a nested QEventLoop.

    qasync ends every ``run_until_complete`` with ``QApplication.exit()``; in Qt 6 that emits
    ``aboutToQuit``, on which QtWebEngine destroys its context, and the next ``exit`` (the next
    test, or the loop's own close) crashes inside Chromium. Leaving a nested loop emits nothing.
    """

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._loops: list[QEventLoop] = []

    def exec(self) -> int:
        loop = QEventLoop()
        self._loops.append(loop)
        try:
            return loop.exec()
        finally:
            self._loops.pop()

    def exit(self, code: int = 0) -> None:
        if self._loops:
            self._loops[-1].exit(code)

    def __getattr__(self, name: str) -> object:
        return getattr(self._app, name)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, object]:
    def factory() -> qasync.QEventLoop:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        # Deleting a shown top-level widget must not quit the application mid-test.
        app.setQuitOnLastWindowClosed(False)
        gc_guard.install(app)
        return qasync.QEventLoop(_NestedLoopApp(app))  # type: ignore[arg-type]

    return {"qasync": factory}


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(qapp: QApplication) -> None:
    """As in the desktop: garbage cycles holding Qt objects are freed on the GUI thread only (also
    in the tests that run after the GUI tests, in the same process)."""
    gc_guard.install(qapp)
