"""Tests of the Counter hosted control, Qt-free: a desktop built from YAML, driven by action calls."""

from __future__ import annotations

from usd_counter import COUNTER
from usd_counter.control import Counter

from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.catalog import GLOBAL_MANAGER
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_desktop

CONFIG = """
name: Counter test
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Counter, type: Counter, settings: {start: 10}}
action_calls:
  - {name: Add two, control: Counter, action: Increment, data: "by=2"}
  - {name: Add lots, control: Counter, action: Increment, data: "by=lots"}
  - {name: Start over, control: Counter, action: Reset}
  - {name: Tell the agent, control: Global Manager, action: DisplayMessage, data: "Count: [[count]]"}
events:
  - {control: Counter, name: CountChanged, action_calls: [Tell the agent]}
"""


def test_declared_actions_are_implemented() -> None:
    deferring = {"executeontimeout", "executeondataavailable", "executeonexpressiontrue"}
    assert Counter.implemented_actions() == {a.lower() for a in COUNTER.all_actions} - deferring


async def test_increment_and_reset() -> None:
    host = RecordingHost()
    desktop = make_desktop(CONFIG, host=host, registry=Registry([GLOBAL_MANAGER, COUNTER]))
    await desktop.start()
    store = desktop.sessions.global_session.store
    assert store.get("Counter", "count") == "10"

    outcome = await desktop.dispatcher.run_action_call("Add two")
    assert outcome.outcome is Outcome.RAN and outcome.result == "12"
    assert store.get("$Return", "Add two") == "12"
    assert store.get("Counter", "count") == "12"
    assert host.of("display_message") == [("Count: 12", "Message")]

    bad = await desktop.dispatcher.run_action_call("Add lots")
    assert bad.outcome is Outcome.FAILED and "'lots' is not a whole number" in bad.reason

    assert (await desktop.dispatcher.run_action_call("Start over")).result == "10"
    assert host.of("display_message")[-1] == ("Count: 10", "Message")
    await desktop.shutdown()
