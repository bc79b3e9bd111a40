"""Base of the hosted controls that show a widget."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from usd_desktop.hosted_controls.base import HostedControl


class QtHostedControl(HostedControl):
    """A hosted control with a widget, created the first time the shell asks for it."""

    _widget: QWidget | None = None

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

    def close(self) -> None:
        super().close()
        if self._widget is not None:
            self._widget.deleteLater()
            self._widget = None
