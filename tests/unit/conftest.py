"""Unit tests: no Qt, no display. They also run in an environment without PySide6."""

from __future__ import annotations

import pytest

from usd_desktop.hosted_controls.catalog import CONNECTION_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_desktop


@pytest.fixture
def qt_free_registry() -> Registry:
    return Registry([GLOBAL_MANAGER, CONNECTION_MANAGER])


@pytest.fixture
def desktop_factory(qt_free_registry: Registry):  # type: ignore[no-untyped-def]
    def make(yaml_text: str, **kwargs: object) -> Desktop:
        kwargs.setdefault("registry", qt_free_registry)
        return make_desktop(yaml_text, **kwargs)  # type: ignore[arg-type]

    return make


__all__ = ["RecordingHost"]
