"""Base of the hosted controls that show a widget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from PySide6.QtWidgets import QWidget

from usd_desktop.core.context import Session
from usd_desktop.core.errors import UsdError
from usd_desktop.hosted_controls.base import HostedControl

log = logging.getLogger(__name__)


class QtHostedControl(HostedControl):
    """A hosted control with a widget, created the first time the shell asks for it."""

    _widget: QWidget | None = None
    #: What the log says when a task of :meth:`start_task` fails unexpectedly.
    task_failure = "background work failed"

    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self.create_widget()
            self._widget.setObjectName(self.name)
        return self._widget

    @property
    def has_widget(self) -> bool:
        return self._widget is not None

    def create_widget(self) -> QWidget:
        raise TypeError(f"{type(self).__name__} does not implement create_widget")

    # ------------------------------------------------------------------ background work
    @property
    def _owned_tasks(self) -> set[asyncio.Task[Any]]:
        tasks: set[asyncio.Task[Any]] | None = self.__dict__.get("_task_set")
        if tasks is None:
            tasks = self.__dict__["_task_set"] = set()
        return tasks

    def start_task(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``coro`` on the loop, owned by this control: cancelled when it closes, failures logged.

        A :class:`UsdError` (a refused action, a data error) is a warning naming the control; anything
        else is an error with its traceback.
        """
        task = asyncio.ensure_future(coro)
        self._owned_tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._owned_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if isinstance(exc, UsdError):
                log.warning("%s: %s", self.name, exc)
            else:
                log.error("%s: %s", self.name, self.task_failure, exc_info=exc)

    @property
    def busy(self) -> bool:
        """Whether a task of :meth:`start_task` is still running."""
        return bool(self._owned_tasks)

    def cancel_tasks(self) -> None:
        for task in list(self._owned_tasks):
            task.cancel()

    def context_session(self) -> Session:
        """The session whose records this control follows: its own, or the active one when global."""
        return self.env.dispatcher.sessions.active if self.session.is_global else self.session

    def close(self) -> None:
        self.cancel_tasks()
        super().close()
        if self._widget is not None:
            self._widget.deleteLater()
            self._widget = None
