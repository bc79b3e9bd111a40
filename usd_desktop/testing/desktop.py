"""A recording desktop host, desktop and data factories, and waiting on conditions (see
:mod:`usd_desktop.testing`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.core.trace import TraceJournal
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop, MemorySettings
from usd_desktop.hosted_controls.registry import Registry


@dataclass
class RecordingHost:
    """A :class:`DesktopHost` that records what the runtime asked of the user interface."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def _note(self, what: str, *args: Any) -> None:
        self.calls.append((what, args))

    def display_message(self, text: str, caption: str) -> None:
        self._note("display_message", text, caption)

    def show_outside(self, url: str) -> None:
        self._note("show_outside", url)

    def show_control(self, control: str) -> None:
        self._note("show_control", control)

    def move_to_panel(self, control: str, panel: str) -> None:
        self._note("move_to_panel", control, panel)

    def copy_to_clipboard(self, text: str) -> None:
        self._note("copy_to_clipboard", text)

    def launch_url(self, url: str) -> None:
        self._note("launch_url", url)

    def set_theme(self, theme: str) -> None:
        self._note("set_theme", theme)

    def show_about(self) -> None:
        self._note("show_about")

    def close_control(self, control: str) -> None:
        self._note("close_control", control)

    def set_control_size(self, control: str, width: int | None, height: int | None) -> None:
        self._note("set_control_size", control, width, height)

    def of(self, what: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == what]


def make_desktop(
    yaml_text: str | Configuration,
    *,
    host: Any = None,
    registry: Registry | None = None,
    settings: MemorySettings | None = None,
    user: dict[str, str] | None = None,
    data: DataServices | None = None,
) -> Desktop:
    """A :class:`Desktop` for a configuration given as YAML text or loaded (built-in types by default)."""
    config = yaml_text if isinstance(yaml_text, Configuration) else loads_configuration(
        yaml_text, source_name="<test>")
    return Desktop(
        config,
        host=host or RecordingHost(),
        registry=registry if registry is not None else Registry.discover(),
        journal=TraceJournal(),
        settings=settings or MemorySettings(),
        user=user or {"firstname": "Tracie", "fullname": "Tracie Agent"},
        data=data,
    )


def make_data_services(
    url: str, *, user: str = "tracie", demo_customers: int = 0, drafts: str = ":memory:"
) -> DataServices:
    """:class:`DataServices` over a fresh :class:`SqlRepository` at ``url``, optionally with demo data."""
    from usd_desktop.data.knowledge import KnowledgeSearch
    from usd_desktop.data.repository import SqlRepository

    repo = SqlRepository(url)
    if demo_customers:
        from usd_desktop.data import demo

        demo.generate(repo, demo_customers)
    from usd_desktop.data.drafts import DraftStore

    return DataServices(repo, knowledge=KnowledgeSearch(repo), drafts=DraftStore(drafts), user=user)


async def until(predicate: Callable[[], Any], what: str = "the condition", timeout: float = 10.0) -> Any:
    """Poll ``predicate`` without blocking the event loop until it is truthy; return its value.

    Tests wait on conditions, never on fixed times: this returns as soon as it holds and fails with
    ``what`` in the message after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.01)
