"""The simulator as an ACD (``offer_to: available``), on virtual time: scenario calls wait in a queue
until the agent is available with no call and past wrap-up, first come first served; a caller who
waits longer than ``queue_patience`` leaves unseen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.cti.test_simulator import Recorder, VirtualClock, scenario_file
from usd_desktop.cti import contract as c
from usd_desktop.cti.adapters.simulator import SimulatorAdapter, SimulatorSettings

QUEUED = """
calls:
  - {at: 1, ani: "+358401000001", queue: Billing}
  - {at: 2, ani: "+358401000002", queue: Billing}
  - {at: 3, ani: "+358401000003", queue: Billing}
  - {at: 30, ani: "+358401000004", queue: Billing}
"""


@pytest.fixture
async def acd(tmp_path: Path) -> AsyncIterator[tuple[SimulatorAdapter, Recorder, VirtualClock]]:
    clock = VirtualClock()
    settings = SimulatorSettings.model_validate({
        "scenario": scenario_file(tmp_path, QUEUED), "offer_to": "available", "queue_patience": 60})
    adapter = SimulatorAdapter(settings, sleep=clock.sleep, clock=clock.time)
    recorder = Recorder(clock)
    await adapter.start(recorder)
    try:
        yield adapter, recorder, clock
    finally:
        await adapter.close()


def offered(recorder: Recorder) -> list[str]:
    return [e.ani for e in recorder.of(c.CallOffered)]


async def test_calls_wait_until_the_agent_is_available_and_free(
        acd: tuple[SimulatorAdapter, Recorder, VirtualClock]) -> None:
    adapter, recorder, clock = acd
    await clock.advance(10)
    assert offered(recorder) == []  # the agent is offline: three callers wait
    await adapter.set_agent_state("available")
    await clock.advance(0)
    assert offered(recorder) == ["+358401000001"]  # one call at a time, the first caller first
    first = recorder.of(c.CallOffered)[0].call
    await adapter.answer(first)
    await adapter.hangup(first)
    await clock.advance(25)  # the fourth caller arrives meanwhile (at 30)
    assert len(offered(recorder)) == 1  # in wrap-up: nothing yet
    await adapter.complete_wrap_up(first, "Resolved")
    await clock.advance(0)
    assert offered(recorder) == ["+358401000001", "+358401000002"]
    second = recorder.of(c.CallOffered)[1].call
    await adapter.reject(second)  # ended while ringing: no wrap-up, the next caller at once
    await clock.advance(0)
    assert offered(recorder)[-1] == "+358401000003"
    third = recorder.of(c.CallOffered)[2].call
    await adapter.set_agent_state("not_ready", "Break")
    await adapter.reject(third)
    await clock.advance(5)
    assert len(offered(recorder)) == 3  # not ready: the fourth caller waits
    await adapter.set_agent_state("available")
    await clock.advance(0)
    assert offered(recorder)[-1] == "+358401000004"


async def test_a_caller_who_waits_too_long_leaves_the_queue_unseen(
        acd: tuple[SimulatorAdapter, Recorder, VirtualClock]) -> None:
    adapter, recorder, clock = acd
    await clock.advance(62.5)  # the first two callers (at 1 and 2) have waited more than 60 s
    await adapter.set_agent_state("available")
    await clock.advance(0)
    assert offered(recorder) == ["+358401000003"]


async def test_a_trainers_call_does_not_wait(acd: tuple[SimulatorAdapter, Recorder, VirtualClock]) -> None:
    adapter, recorder, _ = acd
    call = await adapter.simulate_call("+358409999999", "100")
    assert [e.call for e in recorder.of(c.CallOffered)] == [call]
