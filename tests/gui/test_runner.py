"""A newly published configuration replaces the desktop: at once, or after the last customer session."""

from __future__ import annotations

import asyncio

from usd_desktop.config.loader import loads_configuration
from usd_desktop.core.trace import Outcome, TraceJournal
from usd_desktop.hosted_controls.desktop import MemorySettings
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.shell.runner import DesktopRunner
from usd_desktop.testing import until

V1 = """
name: Live
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Debugger, type: Debugger}
action_calls:
  - {name: Mark, control: Global Manager, action: CopyToContext, data: "version=VERSION"}
events:
  - {control: Global Manager, name: DesktopReady, action_calls: [Mark]}
"""


def version(n: int):
    return loads_configuration(V1.replace("VERSION", str(n)))


def make_runner() -> DesktopRunner:
    return DesktopRunner(registry=Registry.discover(), journal=TraceJournal(),
                         settings=MemorySettings(), user={"fullname": "Ana"}, language="en",
                         state_file=None)


def marked(runner: DesktopRunner) -> str | None:
    assert runner.desktop is not None
    return runner.desktop.sessions.global_session.store.get("$Context", "version")


async def test_update_applies_at_once_without_customer_sessions():
    runner = make_runner()
    runner.build(version(1), "Live v1").show()
    await runner.desktop.start()
    first = runner.window
    runner.offer(version(2), "Live v2")
    await until(lambda: runner.applied == ["Live v2"], "the update")
    assert marked(runner) == "2" and runner.window is not first and runner.window.isVisible()
    assert runner.journal.find(kind="configuration", outcome=Outcome.RAN)
    await runner.close()
    runner.window.close()


async def test_update_waits_for_the_last_customer_session():
    runner = make_runner()
    runner.build(version(1), "Live v1").show()
    await runner.desktop.start()
    desktop = runner.desktop
    one = desktop.sessions.create("One")
    two = desktop.sessions.create("Two")
    runner.offer(version(2), "Live v2")
    await asyncio.sleep(0.05)
    assert runner.applied == [] and marked(runner) == "1"
    assert runner.journal.find(kind="configuration", outcome=Outcome.DEFERRED)
    desktop.sessions.close(one)
    await asyncio.sleep(0.05)
    assert runner.applied == [] and runner.desktop is desktop  # one session still open
    desktop.sessions.close(two)
    await until(lambda: runner.applied == ["Live v2"], "the update after the last session")
    assert marked(runner) == "2"
    await runner.close()
    runner.window.close()
