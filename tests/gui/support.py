"""What GUI tests share: the real main window around a desktop, opened and closed the same way."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent

from usd_desktop.config.schema import Configuration
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.shell.host import QtDesktopHost
from usd_desktop.shell.main_window import MainWindow
from usd_desktop.testing import make_desktop


async def open_shell(text: str | Configuration, **kwargs: Any) -> tuple[Desktop, MainWindow, QtDesktopHost]:
    """A desktop for ``text`` with every installed control type, in a shown main window, started."""
    host = QtDesktopHost()
    kwargs.setdefault("registry", Registry.discover())
    desktop = make_desktop(text, host=host, **kwargs)
    window = MainWindow(desktop, state_file=None)
    host.bind(window)
    window.show()
    await desktop.start()
    return desktop, window, host


async def close_shell(desktop: Desktop, window: MainWindow, host: QtDesktopHost | None = None) -> None:
    """Close the messages, the window and the desktop, and let Qt delete what they leave."""
    for box in list(host.open_messages if host else ()):
        box.done(0)
    window.close()
    await desktop.shutdown()
    window.deleteLater()
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        await asyncio.sleep(0)
