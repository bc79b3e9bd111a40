"""The scenario simulator on virtual time: scenario playback, every operation's events, validation."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.core.paths import resources_dir
from usd_desktop.cti import contract as c
from usd_desktop.cti.adapters.simulator import (
    DEFAULT_SCENARIO,
    SimulatorAdapter,
    SimulatorSettings,
    load_scenario,
)


class VirtualClock:
    """``sleep``/``time`` for the simulator: time moves only when the test advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            if not future.done():
                future.set_result(None)
            await _settle()
        self.now = target


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


class Recorder:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.timed: list[tuple[float, Any]] = []

    def __call__(self, event: c.CtiEvent) -> None:
        self.timed.append((self.clock.now, event))

    @property
    def events(self) -> list[Any]:
        return [e for _, e in self.timed]

    def of(self, *kinds: type[c.CtiEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kinds)]

    def names(self, call: str | None = None) -> list[str]:
        return [type(e).__name__ for e in self.events
                if call is None or getattr(e, "call", None) == call]

    def clear(self) -> None:
        self.timed.clear()


Start = Callable[..., Awaitable[tuple[SimulatorAdapter, Recorder]]]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def start(clock: VirtualClock) -> AsyncIterator[Start]:
    adapters: list[SimulatorAdapter] = []

    async def make(**settings: Any) -> tuple[SimulatorAdapter, Recorder]:
        settings.setdefault("scenario", None)
        adapter = SimulatorAdapter(SimulatorSettings.model_validate(settings), sleep=clock.sleep,
                                   clock=clock.time)
        recorder = Recorder(clock)
        await adapter.start(recorder)
        adapters.append(adapter)
        return adapter, recorder

    yield make
    for adapter in adapters:
        await adapter.close()


def scenario_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


async def _connected_call(adapter: SimulatorAdapter, clock: VirtualClock, **kw: Any) -> str:
    call = await adapter.simulate_call("+358401234567", "800100", **kw)
    await adapter.answer(call)
    return call


# ---------------------------------------------------------------------- scenario playback
SCENARIO = """
name: Test
calls:
  - {at: 25, ani: "+447400470889", queue: Billing}
  - at: 0
    ani: "+358412523711"
    dnis: 800100
    queue: Billing
    caller_name: Pertti Alanen
    data: {account_number: 1001, reason: invoice, verified: true}
  - {at: 10, ani: "+40712402267", activity: chat}
"""


async def test_a_scenario_offers_its_calls_at_their_times(start: Start, clock: VirtualClock, tmp_path: Path):
    adapter, rec = await start(scenario=scenario_file(tmp_path, SCENARIO), speed=2, start_delay=4)
    assert isinstance(rec.events[0], c.ConnectionUp) and "Test" in rec.events[0].detail
    await clock.advance(100)
    offers = [(t, e) for t, e in rec.timed if isinstance(e, c.CallOffered)]
    # start_delay 4 and at 0/10/25, all divided by speed 2
    assert [t for t, _ in offers] == [2.0, 7.0, 14.5]
    first = offers[0][1]
    assert isinstance(first, c.CallOffered)
    assert (first.ani, first.dnis, first.queue, first.caller_name) == ("+358412523711", "800100", "Billing",
                                                                       "Pertti Alanen")
    assert first.direction == "inbound" and first.activity == "phonecall"
    assert dict(first.data) == {"account_number": "1001", "reason": "invoice", "verified": "true"}
    assert [e.ani for _, e in offers] == ["+358412523711", "+40712402267", "+447400470889"]
    assert offers[1][1].activity == "chat"
    assert len({e.call for _, e in offers}) == 3
    # calls without ring/talk ring until someone acts
    assert all(adapter.call_state(e.call) == "ringing" for _, e in offers)


async def test_ring_timeout_abandons_and_answer_stops_it(start: Start, clock: VirtualClock, tmp_path: Path):
    text = """
calls:
  - {at: 0, ani: "111", ring: 10}
  - {at: 0, ani: "222", ring: 10}
"""
    adapter, rec = await start(scenario=scenario_file(tmp_path, text))
    await clock.advance(0)
    first, second = (e.call for e in rec.of(c.CallOffered))
    await clock.advance(5)
    await adapter.answer(second)
    await clock.advance(5)
    missed = rec.of(c.CallMissed)
    assert [(m.call, m.abandoned) for m in missed] == [(first, True)]
    assert [t for t, e in rec.timed if isinstance(e, c.CallMissed)] == [10.0]
    assert adapter.call_state(first) is None and adapter.call_state(second) == "active"
    with pytest.raises(c.CtiError, match="no such call"):
        await adapter.answer(first)


async def test_talk_time_ends_the_call(start: Start, clock: VirtualClock, tmp_path: Path):
    adapter, rec = await start(scenario=scenario_file(tmp_path, "calls: [{at: 0, ani: '1', talk: 30}]"))
    await clock.advance(3)
    call = rec.of(c.CallOffered)[0].call
    await adapter.answer(call)
    await clock.advance(29.9)
    assert not rec.of(c.CallEnded)
    await clock.advance(0.1)
    ended = rec.of(c.CallEnded)
    assert [(e.call, e.cause) for e in ended] == [(call, "normal")]
    assert [t for t, e in rec.timed if isinstance(e, c.CallEnded)] == [33.0]


async def test_scripted_holds_and_transfer(start: Start, clock: VirtualClock, tmp_path: Path):
    text = """
calls:
  - {at: 0, ani: "1", talk: 40, hold: [[5, 3], [20, 10]], transfer_to: "2001"}
"""
    adapter, rec = await start(scenario=scenario_file(tmp_path, text))
    await clock.advance(0)
    call = rec.of(c.CallOffered)[0].call
    await adapter.answer(call)
    await clock.advance(10)
    assert [(t, type(e).__name__) for t, e in rec.timed if isinstance(e, c.CallHeld | c.CallRetrieved)] == [
        (5.0, "CallHeld"), (8.0, "CallRetrieved")]
    # the second scripted hold; the agent retrieves early and holds again: the script leaves that hold
    await clock.advance(11)
    await adapter.retrieve(call)
    await adapter.hold(call)
    await clock.advance(15)
    assert adapter.call_state(call) == "held"
    await clock.advance(10)
    assert rec.names(call)[-2:] == ["CallTransferred", "CallEnded"]
    transferred, ended = rec.events[-2:]
    assert isinstance(transferred, c.CallTransferred) and transferred.target == "2001"
    assert isinstance(ended, c.CallEnded) and ended.cause == "transferred"


async def test_a_scenario_loops(start: Start, clock: VirtualClock, tmp_path: Path):
    text = """
loop: true
period: 50
calls: [{at: 0, ani: "1"}, {at: 10, ani: "2"}]
"""
    path = scenario_file(tmp_path, text)
    _, rec = await start(scenario=path)
    await clock.advance(120)
    assert [t for t, e in rec.timed if isinstance(e, c.CallOffered)] == [0, 10, 50, 60, 100, 110]
    # the setting overrides the scenario's loop
    _, once = await start(scenario=path, loop=False)
    await clock.advance(120)
    assert len(once.of(c.CallOffered)) == 2


async def test_a_loop_without_period_waits_a_minute_after_the_last_call(start: Start, clock: VirtualClock,
                                                                       tmp_path: Path):
    _, rec = await start(scenario=scenario_file(tmp_path, "calls: [{at: 10, ani: '1'}]"), loop=True)
    await clock.advance(150)
    assert [t for t, e in rec.timed if isinstance(e, c.CallOffered)] == [10, 80, 150]


async def test_the_packaged_demo_scenario_plays(start: Start, clock: VirtualClock):
    assert SimulatorSettings().scenario_path() == resources_dir() / DEFAULT_SCENARIO
    scenario = load_scenario(resources_dir() / DEFAULT_SCENARIO)
    assert scenario.loop and len(scenario.calls) >= 5
    assert any(call.transfer_to for call in scenario.calls)
    assert any(call.ring is not None and call.ring < 10 for call in scenario.calls)  # an abandon
    countries = {call.ani[:3] for call in scenario.calls}
    assert {"+35", "+40", "+86", "+44"} <= countries
    adapter, rec = await start(scenario=str(DEFAULT_SCENARIO), speed=10)
    await clock.advance(scenario.round_length() / 10 * 2)
    assert len(rec.of(c.CallOffered)) == 2 * len(scenario.calls)
    assert rec.of(c.CallMissed)  # nobody answered: every call with a ring time was missed
    await adapter.close()


async def test_real_time_with_a_speed_factor(tmp_path: Path):
    adapter = SimulatorAdapter(SimulatorSettings(
        scenario=Path(scenario_file(tmp_path, "calls: [{at: 2, ani: '1'}]")), speed=1000))
    offered = asyncio.Event()
    await adapter.start(lambda e: offered.set() if isinstance(e, c.CallOffered) else None)
    try:
        await asyncio.wait_for(offered.wait(), 5)
    finally:
        await adapter.close()


# ---------------------------------------------------------------------- scenario validation
@pytest.mark.parametrize(("text", "expected"), [
    ("calls: [{at: 0, ani: '1'}, {at: 5, ani: '2', ring: soon}]",
     "call 2 (calls[1]), field ring: Input should be a valid number"),
    ("calls: [{at: 0}]", "call 1 (calls[0]), field ani: Field required"),
    ("calls: [{at: 0, ani: '1', colour: red}]", "call 1 (calls[0]), field colour: Extra inputs"),
    ("calls: [{at: -1, ani: '1'}]", "call 1 (calls[0]), field at: Input should be greater than or equal to 0"),
    ("calls: [{at: 0, ani: '1', transfer_to: '2001'}]",
     "call 1 (calls[0]), field transfer_to: transfer_to needs a talk time"),
    ("calls: [{at: 0, ani: '1', talk: 60, hold: [[10, 20], [15, 5]]}]",
     "call 1 (calls[0]), field hold: holds must be in order and must not overlap"),
    ("calls: [{at: 0, ani: '1', talk: 20, hold: [[10, 20]]}]", "a hold ends at 30 s, after the caller hangs up"),
    ("calls: [{at: 0, ani: '1', activity: fax}]", "call 1 (calls[0]), field activity: Input should be"),
    ("{period: 5, calls: [{at: 10, ani: '1'}]}", "period (5 s) must be longer than the last call's at"),
    ("calls: []", "field calls: Tuple should have at least 1 item"),
    ("calls: [{at: 0, ani: '1'}\n  - oops", "not valid YAML (line 2"),
    ("42", "expected a mapping with 'calls'"),
])
def test_scenario_errors_name_the_file_the_call_and_the_field(tmp_path: Path, text: str, expected: str):
    path = scenario_file(tmp_path, text)
    with pytest.raises(c.CtiError) as info:
        load_scenario(Path(path))
    message = str(info.value)
    assert message.startswith(f"simulator scenario {path}: ")
    assert expected in message


def test_a_bare_list_of_calls_is_a_scenario(tmp_path: Path):
    scenario = load_scenario(Path(scenario_file(tmp_path, "- {at: 0, ani: 800100}\n")))
    assert scenario.calls[0].ani == "800100" and not scenario.loop


def test_a_bad_scenario_fails_when_the_adapter_is_made(tmp_path: Path):
    with pytest.raises(c.CtiError, match=r"call 1 \(calls\[0\]\), field ani"):
        SimulatorAdapter(SimulatorSettings(scenario=Path(scenario_file(tmp_path, "calls: [{at: 0}]"))))


# ---------------------------------------------------------------------- operations
async def test_simulate_call(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await adapter.simulate_call("+40712402267", "800", queue="Support", caller_name="Ștefan",
                                       ring=20, account_number="A-1", priority=2)
    offered = rec.events[-1]
    assert isinstance(offered, c.CallOffered)
    assert (offered.call, offered.ani, offered.dnis, offered.queue, offered.caller_name) == (
        call, "+40712402267", "800", "Support", "Ștefan")
    assert dict(offered.data) == {"account_number": "A-1", "priority": "2"}
    await clock.advance(20)
    assert isinstance(rec.events[-1], c.CallMissed)
    await adapter.close()
    with pytest.raises(c.NotConnected):
        await adapter.simulate_call("1")


async def test_answer_hold_retrieve_mute_dtmf_recording_hangup(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await adapter.simulate_call("1")
    with pytest.raises(c.CtiError, match="it is ringing \\(it must be active or held\\)"):
        await adapter.hold(call)
    await adapter.answer(call)
    await adapter.hold(call)
    await adapter.hold(call)  # again: nothing
    await adapter.retrieve(call)
    await adapter.retrieve(call)
    await adapter.mute(call, True)
    await adapter.send_dtmf(call, "12#")
    with pytest.raises(c.CtiError, match="only 0-9"):
        await adapter.send_dtmf(call, "12x")
    await adapter.start_recording(call)
    await adapter.start_recording(call)
    await adapter.stop_recording(call)
    await adapter.complete_wrap_up(call)
    await adapter.hangup(call)
    assert rec.names(call) == ["CallOffered", "CallAnswered", "CallHeld", "CallRetrieved", "DtmfReceived",
                               "RecordingStarted", "RecordingStopped", "CallEnded"]
    assert rec.of(c.DtmfReceived)[0].digits == "12#"
    assert rec.events[-1].cause == "normal"
    with pytest.raises(c.CtiError, match="no such call"):
        await adapter.hangup(call)


async def test_reject_and_hangup_of_a_ringing_call(start: Start):
    adapter, rec = await start()
    one = await adapter.simulate_call("1")
    two = await adapter.simulate_call("2")
    await adapter.reject(one)
    await adapter.hangup(two)
    assert [(e.call, e.cause) for e in rec.of(c.CallEnded)] == [(one, "rejected"), (two, "rejected")]


async def test_dial_rings_then_answers_or_is_busy(start: Start, clock: VirtualClock):
    adapter, rec = await start(speed=2, dial_answer_after=1.0, busy_numbers=["486"])
    call = await adapter.dial("+358401234567", {"case": "CAS-1"})
    dialing = rec.events[-1]
    assert isinstance(dialing, c.CallDialing) and dialing.call == call
    assert dialing.number == "+358401234567" and dict(dialing.data) == {"case": "CAS-1"}
    await clock.advance(0.49)
    assert adapter.call_state(call) == "dialing"
    await clock.advance(0.01)
    assert rec.names(call) == ["CallDialing", "CallAnswered"]
    busy = await adapter.dial("486")
    await clock.advance(1)
    assert rec.names(busy) == ["CallDialing", "CallEnded"]
    assert rec.events[-1].cause == "busy"
    with pytest.raises(c.CtiError, match="empty number"):
        await adapter.dial("  ")


async def test_blind_transfer(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await _connected_call(adapter, clock)
    await adapter.blind_transfer(call, "2001")
    assert rec.names(call)[-2:] == ["CallTransferred", "CallEnded"]
    assert rec.events[-2].target == "2001" and rec.events[-1].cause == "transferred"


async def test_consult_then_complete(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await _connected_call(adapter, clock)
    rec.clear()
    consultation = await adapter.consult(call, "2001")
    assert rec.names() == ["CallHeld", "CallDialing"]
    assert dict(rec.events[-1].data) == {"consultation_of": call}
    with pytest.raises(c.CtiError, match="already has the consultation call"):
        await adapter.consult(call, "2002")
    await clock.advance(1)
    assert rec.names(consultation) == ["CallDialing", "CallAnswered"]
    rec.clear()
    await adapter.complete_transfer(call, consultation)
    assert [(type(e).__name__, e.call) for e in rec.events] == [
        ("CallTransferred", call), ("CallEnded", call), ("CallEnded", consultation)]
    assert rec.events[0].target == "2001"
    assert {e.cause for e in rec.of(c.CallEnded)} == {"transferred"}


async def test_consult_then_cancel(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await _connected_call(adapter, clock)
    consultation = await adapter.consult(call, "2001")
    await clock.advance(1)
    rec.clear()
    await adapter.cancel_transfer(call, consultation)
    assert [(type(e).__name__, e.call) for e in rec.events] == [
        ("CallEnded", consultation), ("CallRetrieved", call)]
    assert adapter.call_state(call) == "active"


async def test_consult_then_conference(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await _connected_call(adapter, clock)
    consultation = await adapter.consult(call, "2001")
    with pytest.raises(c.CtiError, match="is dialing, not connected"):
        await adapter.conference(call, consultation)
    await clock.advance(1)
    rec.clear()
    await adapter.conference(call, consultation)
    assert rec.names() == ["CallRetrieved", "CallConferenced", "PartyAdded", "CallEnded"]
    conferenced, party, ended = rec.events[1:]
    assert isinstance(conferenced, c.CallConferenced) and conferenced.other == consultation
    assert isinstance(party, c.PartyAdded) and party.party == "2001"
    assert isinstance(ended, c.CallEnded) and (ended.call, ended.cause) == (consultation, "conferenced")
    other = await _connected_call(adapter, clock)
    with pytest.raises(c.CtiError, match="is not the consultation call"):
        await adapter.complete_transfer(call, other)


async def test_when_the_caller_hangs_up_the_consultation_goes_on(start: Start, clock: VirtualClock):
    adapter, rec = await start()
    call = await _connected_call(adapter, clock, talk=5)
    consultation = await adapter.consult(call, "2001")
    await clock.advance(5)
    assert adapter.call_state(call) is None
    assert adapter.call_state(consultation) == "active"
    await adapter.hangup(consultation)
    assert rec.names(consultation)[-1] == "CallEnded"


async def test_agent_states(start: Start):
    adapter, rec = await start(agent="agent7")
    assert [(e.state, e.reason) for e in rec.of(c.AgentStateChanged)] == [("available", "login")]
    assert adapter.agent == "agent7"
    await adapter.set_agent_state("not_ready", "lunch")
    await adapter.logout()
    await adapter.login("agent8", ("Billing",))
    assert [(e.state, e.reason) for e in rec.of(c.AgentStateChanged)][1:] == [
        ("not_ready", "lunch"), ("offline", "logout"), ("available", "login")]
    assert adapter.queues == ("Billing",)
    with pytest.raises(c.CtiError, match="no agent state 'asleep'"):
        await adapter.set_agent_state("asleep")  # type: ignore[arg-type]


async def test_resync_reports_the_live_calls(start: Start, clock: VirtualClock):
    adapter, _ = await start(agent="a")
    ringing = await adapter.simulate_call("1")
    held = await _connected_call(adapter, clock)
    await adapter.hold(held)
    await adapter.start_recording(held)
    events = await adapter.resync()
    assert [(type(e).__name__, getattr(e, "call", None)) for e in events] == [
        ("AgentStateChanged", None), ("CallOffered", ringing), ("CallOffered", held), ("CallAnswered", held),
        ("CallHeld", held), ("RecordingStarted", held)]


async def test_close_stops_the_scenario_and_the_timers(start: Start, clock: VirtualClock, tmp_path: Path):
    adapter, rec = await start(scenario=scenario_file(tmp_path, "calls: [{at: 0, ani: '1', ring: 5}, "
                                                                "{at: 10, ani: '2'}]"))
    await clock.advance(1)
    count = len(rec.events)
    await adapter.close()
    await adapter.close()  # idempotent
    await clock.advance(60)
    assert len(rec.events) == count


def test_every_capability_is_implemented():
    assert SimulatorAdapter.capabilities == c.OPERATIONS
    for operation in c.OPERATIONS - {"complete_wrap_up"}:
        assert getattr(SimulatorAdapter, operation) is not getattr(c.Adapter, operation), operation
