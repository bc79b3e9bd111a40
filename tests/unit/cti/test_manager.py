"""The CTI manager over the fake adapter: lines, agent state, isolation, serialisation, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from usd_desktop.cti.agent import AgentStatus
from usd_desktop.cti.calls import Call
from usd_desktop.cti.contract import (
    Adapter,
    CallAnswered,
    CallDialing,
    CallOffered,
    CommandTimeout,
    CtiError,
    CtiEvent,
    NotConnected,
    NotSupported,
)
from usd_desktop.cti.manager import ConnectionStatus, CtiManager
from usd_desktop.testing import until
from usd_desktop.testing.fake_adapter import FakeAdapter, FakeClock

NUMBER = "+358401234567"


class Heard:
    """Everything a manager's signals said."""

    def __init__(self, manager: CtiManager) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.changed: list[Call] = []
        self.removed: list[Call] = []
        self.agent: list[AgentStatus] = []
        self.connection: list[ConnectionStatus] = []
        self.problems: list[str] = []
        manager.call_event.connect(lambda p: self.events.append((type(p[0]).__name__, p[1].id, p[1].state)))
        manager.call_changed.connect(self.changed.append)
        manager.call_removed.connect(self.removed.append)
        manager.agent_changed.connect(self.agent.append)
        manager.connection_changed.connect(self.connection.append)
        manager.problem.connect(self.problems.append)

    def kinds(self, call: str) -> list[str]:
        return [kind for kind, cid, _ in self.events if cid == call]


@pytest.fixture
async def make() -> AsyncIterator[Any]:
    made: list[CtiManager] = []

    async def factory(*, adapter: FakeAdapter | None = None, start: bool = True, login: bool = False,
                      **kwargs: Any) -> tuple[FakeAdapter, CtiManager, Heard]:
        clock = kwargs.pop("clock", None) or FakeClock()
        fake = adapter or FakeAdapter(clock=clock)
        kwargs.setdefault("command_timeout", 2.0)
        kwargs.setdefault("reconnect_delays", (0.0,))
        kwargs.setdefault("tick_seconds", 0)
        manager = CtiManager(fake, agent="tracie", clock=clock, **kwargs)
        made.append(manager)
        heard = Heard(manager)
        if start:
            await manager.start()
        if login:
            await manager.login(("support",))
        return fake, manager, heard

    yield factory
    for manager in made:
        await manager.close()


# ---------------------------------------------------------------------- the basic call
async def test_start_connects(make: Any) -> None:
    fake, manager, heard = await make()
    assert manager.connection == ConnectionStatus(True, "fake backend", None, 0)
    assert [r.operation for r in fake.operations] == ["start", "connect"]
    assert heard.connection[-1].connected


async def test_offer_answer_hold_retrieve_hangup_wrap_up_available(make: Any) -> None:
    clock = FakeClock()
    fake, manager, heard = await make(clock=clock, login=True, wrap_up_seconds=60)
    assert manager.agent_status.state == "available"
    assert fake.ops("login") == [("tracie", ("support",))]

    cid = fake.offer(ani="040 1234567", queue="support", data={"order": "7"})
    call = manager.calls[cid]
    assert call.state == "ringing" and call.number_e164 == NUMBER
    assert manager.active is call
    assert manager.agent_status.state == "available"  # ringing alone is not on a call

    clock.advance(4)
    await manager.answer()
    assert fake.ops("answer") == [(cid,)]
    assert call.state == "connected" and call.answered_at == clock.now
    assert manager.agent_status.state == "on_call"

    clock.advance(10)
    await manager.hold()
    clock.advance(25)
    await manager.retrieve()
    assert call.hold_seconds == 25.0 and call.state == "connected"

    clock.advance(30)
    await manager.hangup()
    assert call.state == "ended" and call.wrap_up and call.ended_at == clock.now
    assert cid in manager.calls  # the line stays during the wrap-up
    assert manager.agent_status.state == "wrap_up"
    assert manager.agent_status.wrap_up_deadline is not None

    clock.advance(20)
    await manager.complete_wrap_up("resolved")
    assert cid not in manager.calls
    assert heard.removed == [call]
    assert call.wrap_up_ended_at == clock.now and call.disposition == "resolved" and not call.wrap_up
    assert fake.ops("complete_wrap_up") == [(cid, "resolved")]
    assert manager.agent_status.state == "available"
    await until(lambda: fake.ops("set_agent_state"), "the state sent after wrap-up")
    assert fake.ops("set_agent_state") == [("available", "")]
    assert heard.kinds(cid) == ["CallOffered", "CallAnswered", "CallHeld", "CallRetrieved", "CallEnded"]
    assert [s.state for s in heard.agent] == ["available", "on_call", "wrap_up", "available"]
    assert heard.problems == []


async def test_two_lines_select_hold_one_answer_the_other(make: Any) -> None:
    fake, manager, _ = await make(login=True)
    first = fake.offer(ani="0401111111")
    await manager.answer()
    second = fake.offer(ani="0402222222")
    assert list(manager.calls) == [first, second]
    assert manager.active is manager.calls[first]  # connected wins over ringing
    await manager.hold(first)
    manager.select(second)
    assert manager.active is manager.calls[second]
    await manager.answer()
    assert fake.ops("answer") == [(first,), (second,)]
    assert manager.calls[first].state == "held" and manager.calls[second].state == "connected"
    assert manager.agent_status.state == "on_call"

    await manager.hangup()  # the active line: the second
    assert fake.ops("hangup") == [(second,)]
    assert manager.active is manager.calls[first]  # the held line is what is left
    assert manager.agent_status.state == "on_call"
    await manager.retrieve()
    assert manager.calls[first].state == "connected"
    await manager.hangup()
    assert manager.agent_status.state == "wrap_up"
    await manager.complete_wrap_up(call=second)
    assert list(manager.calls) == [first]
    await manager.complete_wrap_up()
    assert manager.calls == {} and manager.agent_status.state == "available"


async def test_answer_defaults_to_a_ringing_call_not_the_connected_one(make: Any) -> None:
    fake, manager, _ = await make()
    first = fake.offer(ani="0401111111")
    await manager.answer()
    second = fake.offer(ani="0402222222")
    await manager.hold()
    await manager.answer()
    assert fake.ops("answer") == [(first,), (second,)]
    with pytest.raises(CtiError, match="no ringing call"):
        await manager.reject()


async def test_select_an_unknown_line_is_ignored(make: Any) -> None:
    fake, manager, heard = await make()
    cid = fake.offer(ani="0401111111")
    manager.select("nope")
    assert manager.active is manager.calls[cid]
    changed_before = len(heard.changed)
    manager.select(cid)
    assert len(heard.changed) > changed_before  # the switcher hears about it


# ---------------------------------------------------------------------- transfers
async def test_consult_then_complete_the_transfer(make: Any) -> None:
    fake, manager, heard = await make(login=True)
    original = fake.offer(ani="0401111111")
    await manager.answer()
    consultation = await manager.consult("tel:2001")
    assert fake.ops("consult") == [(original, "2001")]
    assert manager.calls[consultation].consultation_of == original
    assert manager.calls[original].state == "held"
    assert manager.active is manager.calls[consultation]
    await manager.complete_transfer()  # from the consultation: the pair is found
    assert fake.ops("complete_transfer") == [(original, consultation)]
    call = manager.calls[original]
    assert call.state == "ended" and call.cause == "transferred" and call.transfers == 1 and call.wrap_up
    assert consultation not in manager.calls  # a consultation has no wrap-up of its own
    assert [c.id for c in heard.removed] == [consultation]
    assert manager.agent_status.state == "wrap_up"


async def test_consult_then_cancel(make: Any) -> None:
    fake, manager, _ = await make()
    original = fake.offer(ani="0401111111")
    await manager.answer()
    consultation = await manager.consult("2001")
    await manager.cancel_transfer(original)
    assert fake.ops("cancel_transfer") == [(original, consultation)]
    assert consultation not in manager.calls
    assert manager.calls[original].state == "connected"
    assert manager.active is manager.calls[original]
    assert manager.agent_status.state == "on_call"


async def test_consult_then_conference(make: Any) -> None:
    fake, manager, heard = await make()
    original = fake.offer(ani="0401111111")
    await manager.answer()
    consultation = await manager.consult("2001")
    await manager.conference()
    assert fake.ops("conference") == [(original, consultation)]
    call = manager.calls[original]
    assert call.state == "connected" and consultation in call.parties
    assert consultation not in manager.calls
    gone = heard.removed[-1]
    assert gone.id == consultation and gone.cause == "conferenced"


async def test_transfer_commands_need_a_consultation(make: Any) -> None:
    fake, manager, heard = await make()
    fake.offer(ani="0401111111")
    await manager.answer()
    with pytest.raises(CtiError, match="has no consultation call"):
        await manager.complete_transfer()
    assert fake.ops("complete_transfer") == []
    assert "has no consultation call" in heard.problems[-1]


async def test_blind_transfer(make: Any) -> None:
    fake, manager, _ = await make()
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.blind_transfer("callto:+358 9 1234567")
    assert fake.ops("blind_transfer") == [(cid, "+35891234567")]
    call = manager.calls[cid]
    assert (call.state, call.cause, call.transfers, call.wrap_up) == ("ended", "transferred", 1, True)


# ---------------------------------------------------------------------- calls that never connect
@pytest.mark.parametrize(("abandoned", "cause"), [(True, "abandoned"), (False, "missed")])
async def test_a_missed_call_leaves_at_once(make: Any, abandoned: bool, cause: str) -> None:
    fake, manager, heard = await make(login=True)
    cid = fake.offer(ani="0401111111")
    fake.miss(cid, abandoned=abandoned)
    assert cid not in manager.calls
    assert heard.removed[-1].cause == cause
    assert heard.kinds(cid) == ["CallOffered", "CallMissed"]
    assert manager.agent_status.state == "available"
    assert fake.ops("set_agent_state") == []


async def test_reject(make: Any) -> None:
    fake, manager, heard = await make(login=True)
    cid = fake.offer(ani="0401111111")
    await manager.reject()
    assert fake.ops("reject") == [(cid,)]
    assert cid not in manager.calls and heard.removed[-1].cause == "rejected"
    assert manager.agent_status.state == "available"


async def test_an_outbound_call_not_answered_leaves_without_wrap_up(make: Any) -> None:
    fake, manager, _ = await make(login=True)
    cid = await manager.dial("0401234567")
    assert manager.agent_status.state == "on_call"
    fake.end(cid, "busy")
    assert cid not in manager.calls
    assert manager.agent_status.state == "available"


# ---------------------------------------------------------------------- agent state and wrap-up
async def test_not_ready_asked_for_during_a_call_is_applied_after_the_wrap_up(make: Any) -> None:
    fake, manager, _ = await make(login=True)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.set_agent_state("not_ready", "break")
    assert fake.ops("set_agent_state") == []  # remembered, not sent yet
    assert manager.agent_status.state == "on_call"
    assert manager.agent_status.next_state == "not_ready"
    await manager.hangup()
    assert manager.agent_status.state == "wrap_up"
    await manager.complete_wrap_up(call=cid)
    assert (manager.agent_status.state, manager.agent_status.reason) == ("not_ready", "break")
    await until(lambda: fake.ops("set_agent_state"), "the deferred state sent")
    assert fake.ops("set_agent_state") == [("not_ready", "break")]


async def test_set_agent_state_when_idle_goes_to_the_backend(make: Any) -> None:
    fake, manager, _ = await make(login=True)
    await manager.set_agent_state("not_ready", "lunch")
    assert fake.ops("set_agent_state") == [("not_ready", "lunch")]
    assert (manager.agent_status.state, manager.agent_status.reason) == ("not_ready", "lunch")
    with pytest.raises(CtiError, match="follows the calls"):
        await manager.set_agent_state("on_call")
    await manager.logout()
    assert manager.agent_status.state == "offline"


async def test_the_backend_decides_the_state_when_it_reports_during_the_command(make: Any) -> None:
    fake, manager, _ = await make()
    fake.auto_events = False

    original = fake.login

    async def login_reports_not_ready(agent: str, queues: tuple[str, ...] = ()) -> None:
        await original(agent, queues)
        fake.set_agent("not_ready", "after login")

    fake.login = login_reports_not_ready  # type: ignore[method-assign]
    await manager.login()
    assert (manager.agent_status.state, manager.agent_status.reason) == ("not_ready", "after login")


async def test_the_wrap_up_timer_expires(make: Any) -> None:
    fake, manager, heard = await make(login=True, wrap_up_seconds=0.01)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    assert manager.agent_status.state == "wrap_up"
    await until(lambda: cid not in manager.calls, "the wrap-up timer")
    assert manager.agent_status.state == "available"
    assert heard.removed[-1].wrap_up_ended_at is not None and heard.removed[-1].disposition == ""
    await until(lambda: fake.ops("set_agent_state"), "the state after the timer")
    assert fake.ops("complete_wrap_up") == [(cid, "")]
    assert fake.ops("set_agent_state") == [("available", "")]
    # the adapter was told the wrap-up was over before the new state
    names = [r.operation for r in fake.operations]
    assert names.index("complete_wrap_up") < names.index("set_agent_state")


async def test_no_wrap_up_when_its_time_is_zero(make: Any) -> None:
    fake, manager, heard = await make(login=True, wrap_up_seconds=0)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    assert cid not in manager.calls
    call = heard.removed[-1]
    assert call.wrap_up_ended_at == call.ended_at and not call.wrap_up
    assert manager.agent_status.state == "available"


async def test_dispositions_are_validated(make: Any) -> None:
    fake, manager, heard = await make(dispositions=("Resolved", "Call back"))
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    with pytest.raises(CtiError, match="'bogus' is not a disposition; choose one of: Resolved, Call back"):
        await manager.complete_wrap_up("bogus")
    assert "choose one of" in heard.problems[-1]
    with pytest.raises(CtiError, match="a disposition is needed"):
        await manager.complete_wrap_up()
    assert fake.ops("complete_wrap_up") == []
    assert cid in manager.calls
    await manager.complete_wrap_up("call BACK")
    assert heard.removed[-1].disposition == "Call back"


async def test_complete_wrap_up_needs_a_call_in_wrap_up(make: Any) -> None:
    fake, manager, _ = await make()
    with pytest.raises(CtiError, match="no call in wrap-up"):
        await manager.complete_wrap_up()
    cid = fake.offer(ani="0401111111")
    with pytest.raises(CtiError, match="is not in wrap-up"):
        await manager.complete_wrap_up(call=cid)
    with pytest.raises(CtiError, match="there is no call 'x'"):
        await manager.complete_wrap_up(call="x")


async def test_a_failing_complete_wrap_up_keeps_the_wrap_up(make: Any) -> None:
    fake, manager, _heard = await make()
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    fake.fail("complete_wrap_up", CtiError("ACW locked"))
    with pytest.raises(CtiError, match="fake complete wrap up: ACW locked"):
        await manager.complete_wrap_up()
    assert manager.calls[cid].wrap_up
    fake.clear()
    await manager.complete_wrap_up()
    assert cid not in manager.calls


async def test_without_the_capability_wrap_up_completes_locally(make: Any) -> None:
    fake = FakeAdapter(capabilities={"answer", "hangup"})
    fake, manager, _ = await make(adapter=fake)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    await manager.complete_wrap_up()
    assert cid not in manager.calls and fake.ops("complete_wrap_up") == []


# ---------------------------------------------------------------------- isolation
async def test_a_hanging_command_times_out(make: Any) -> None:
    fake, manager, heard = await make(command_timeout=0.05)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    fake.hang("hold")
    with pytest.raises(CommandTimeout, match=r"fake hold: the backend did not answer in 0\.05 s"):
        await manager.hold()
    assert heard.problems == ["fake hold: the backend did not answer in 0.05 s"]
    fake.clear()
    await manager.hold()  # the line is free again
    assert manager.calls[cid].state == "held"


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (RuntimeError("adapter bug"), CtiError, "fake hold: RuntimeError: adapter bug"),
        (CtiError("the switch said no"), CtiError, "fake hold: the switch said no"),
        (NotSupported("not on this line"), NotSupported, "fake hold: not on this line"),
        (NotConnected("link down"), NotConnected, "fake hold: link down"),
    ],
)
async def test_a_raising_command_is_reported(make: Any, error: Exception, kind: type[Exception],
                                             message: str) -> None:
    fake, manager, heard = await make()
    fake.offer(ani="0401111111")
    await manager.answer()
    fake.fail("hold", error)
    with pytest.raises(kind) as caught:
        await manager.hold()
    assert str(caught.value) == message
    assert heard.problems == [message]


async def test_an_adapter_whose_dial_returns_garbage(make: Any) -> None:
    fake, manager, _ = await make()

    async def bad_dial(number: str, data: Any = None) -> Any:
        return None

    fake.dial = bad_dial  # type: ignore[method-assign]
    with pytest.raises(CtiError, match="returned no call id"):
        await manager.dial("0401234567")


async def test_an_adapter_method_that_is_not_async(make: Any) -> None:
    fake, manager, _ = await make()
    cid = fake.offer(ani="0401111111")
    fake.answer = lambda call: None  # type: ignore[assignment,method-assign,return-value]
    with pytest.raises(CtiError, match="fake answer: TypeError"):
        await manager.answer(cid)


async def test_a_start_that_raises_is_retried(make: Any) -> None:
    fake = FakeAdapter()
    fake.connect_failures = 2
    fake, manager, heard = await make(adapter=fake, reconnect_delays=(0.0, 0.0))
    assert heard.problems == ["fake start: the backend cannot be reached"]
    await until(lambda: manager.connection.connected, "the connection")
    assert fake.connect_attempts == 3
    attempts = [s.attempts for s in heard.connection if not s.connected and s.retry_in is not None]
    assert attempts == [1, 2]


async def test_a_start_that_raises_anything_never_raises(make: Any) -> None:
    fake = FakeAdapter()
    fake.fail("start", ZeroDivisionError("boom"))
    fake, manager, heard = await make(adapter=fake, reconnect_delays=(0.0,))
    assert not manager.connection.connected
    assert heard.problems == ["fake start: ZeroDivisionError: boom"]
    await until(lambda: len(fake.ops("start")) >= 3, "retries")
    with pytest.raises(NotConnected, match="fake dial: no connection to the backend"):
        await manager.dial("0401234567")


async def test_a_start_that_hangs_times_out_and_is_retried(make: Any) -> None:
    fake = FakeAdapter()
    fake.hang("start")
    fake, manager, heard = await make(adapter=fake, command_timeout=0.02, reconnect_delays=(0.0,))
    assert heard.problems == ["fake start: the backend did not answer in 0.02 s"]
    fake.clear()
    await until(lambda: manager.connection.connected, "the connection after the hang")


# ---------------------------------------------------------------------- reconnection
async def test_reconnect_with_backoff_and_resync(make: Any) -> None:
    fake, manager, heard = await make(login=True, reconnect_delays=(0.0, 0.01))
    kept = fake.offer(ani="0401111111")
    await manager.answer(kept)
    lost = fake.offer(ani="0402222222")
    await manager.answer(lost)
    ringing = fake.offer(ani="0403333333")
    assert fake.connect_attempts == 1

    fake.connect_failures = 3
    fake.lose_connection("cable cut")
    assert not manager.connection.connected
    assert all(c.stale for c in manager.calls.values())
    assert "the connection to the backend was lost (cable cut)" in heard.problems[-1]
    with pytest.raises(NotConnected):
        await manager.hold(kept)
    assert fake.ops("hold") == []

    # meanwhile, at the backend: the first call was put on hold, the second is gone
    fake.backend[kept].state = "held"
    fake.forget(lost)

    await until(lambda: manager.connection.connected, "the reconnection")
    assert fake.connect_attempts == 1 + 4
    waits = [(s.retry_in, s.attempts) for s in heard.connection if not s.connected and s.retry_in is not None]
    assert waits == [(0.0, 0), (0.01, 1), (0.01, 2), (0.01, 3)]
    assert manager.connection == ConnectionStatus(True, "fake backend", None, 0)

    await until(lambda: manager.calls[lost].state == "ended", "the lost call ended")
    assert manager.calls[lost].cause == "lost" and manager.calls[lost].wrap_up
    assert manager.calls[kept].state == "held"
    assert manager.calls[ringing].state == "ringing"
    assert not any(c.stale for c in manager.calls.values())
    assert fake.ops("resync") == [()]
    assert manager.agent_status.state == "on_call"


async def test_without_resync_the_calls_are_kept(make: Any) -> None:
    class NoResync(FakeAdapter):
        resync = Adapter.resync  # type: ignore[assignment]

    fake = NoResync()
    fake, manager, _ = await make(adapter=fake)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    fake.forget(cid)
    fake.lose_connection()
    await until(lambda: manager.connection.connected and not manager.calls[cid].stale, "reconnected")
    assert manager.calls[cid].state == "connected"


async def test_an_adapter_that_reconnects_on_its_own_is_resynchronised(make: Any) -> None:
    fake, manager, _ = await make(reconnect_delays=(30.0,))
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    fake.lose_connection()
    assert manager.connection.retry_in == 30.0
    fake.forget(cid)
    fake.restore_connection()
    assert manager.connection.connected
    await until(lambda: manager.calls[cid].cause == "lost", "the resynchronisation")
    assert manager.calls[cid].wrap_up and not manager.calls[cid].stale
    assert fake.connect_attempts == 1  # no attempt of the manager's own


async def test_a_failing_resync_keeps_the_calls(make: Any) -> None:
    fake, manager, heard = await make()
    cid = fake.offer(ani="0401111111")
    fake.fail("resync", RuntimeError("resync bug"))
    fake.lose_connection()
    await until(lambda: manager.connection.connected and not manager.calls[cid].stale, "reconnected")
    assert "fake resync: RuntimeError: resync bug" in heard.problems


async def test_close_stops_reconnecting(make: Any) -> None:
    fake = FakeAdapter()
    fake.connect_failures = 10**6
    fake, manager, _heard = await make(adapter=fake, reconnect_delays=(0.0,))
    await until(lambda: fake.connect_attempts > 2, "retries")
    await manager.close()
    attempts = fake.connect_attempts
    await asyncio.sleep(0.01)
    assert fake.connect_attempts == attempts
    assert fake.closed and manager.connection.detail == "closed"
    await manager.close()  # idempotent


# ---------------------------------------------------------------------- serialisation and capabilities
async def test_commands_on_one_call_run_one_after_the_other(make: Any) -> None:
    fake, manager, _ = await make()
    first = fake.offer(ani="0401111111")
    await manager.answer()
    second = fake.offer(ani="0402222222")
    gate = fake.gate("hold")
    holding = asyncio.create_task(manager.hold(first))
    await until(lambda: fake.entered["hold"] == 1, "the first hold under way")
    again = asyncio.create_task(manager.hold(first))
    await manager.answer(second)  # another line is not blocked
    for _ in range(5):
        await asyncio.sleep(0)
    assert fake.entered["hold"] == 1  # the second hold waits for the first
    gate.set()
    await holding
    await again
    assert fake.entered["hold"] == 2
    assert manager.calls[first].state == "held"


async def test_capabilities_are_checked_before_calling_the_adapter(make: Any) -> None:
    fake = FakeAdapter(capabilities={"answer", "hangup"})
    fake, manager, heard = await make(adapter=fake)
    fake.offer(ani="0401111111")
    await manager.answer()
    with pytest.raises(NotSupported, match="fake hold: the adapter cannot hold"):
        await manager.hold()
    with pytest.raises(NotSupported, match="fake blind transfer: the adapter cannot blind transfer"):
        await manager.blind_transfer("2001")
    with pytest.raises(NotSupported):
        await manager.set_agent_state("available")
    with pytest.raises(NotSupported):
        await manager.conference()
    assert [r.operation for r in fake.operations] == ["start", "connect", "answer"]
    assert len(heard.problems) == 4


# ---------------------------------------------------------------------- events and replies
async def test_events_before_the_reply(make: Any) -> None:
    fake, manager, heard = await make()
    cid = await manager.dial("tel:+358 40 123 4567", {"campaign": "spring"})
    assert fake.ops("dial") == [(NUMBER, {"campaign": "spring"})]
    call = manager.calls[cid]
    assert call.state == "dialing" and call.data == {"campaign": "spring"}
    assert heard.kinds(cid) == ["CallDialing"]
    assert manager.active is call


async def test_events_after_the_reply(make: Any) -> None:
    fake = FakeAdapter(events_after_reply=True)
    fake, manager, heard = await make(adapter=fake)
    cid = await manager.dial("0401234567")
    call = manager.calls[cid]  # added by the manager until the adapter reports it
    assert call.state == "dialing" and call.number == "0401234567"
    fake.release()  # the adapter's own CallDialing: nothing new
    assert heard.kinds(cid) == ["CallDialing"]
    await manager.hangup()
    assert call.state == "dialing"
    fake.release()
    assert cid not in manager.calls


async def test_consultation_reported_after_the_reply(make: Any) -> None:
    fake, manager, _ = await make()
    original = fake.offer(ani="0401111111")
    await manager.answer()
    fake.events_after_reply = True
    consultation = await manager.consult("2001")
    assert manager.calls[consultation].consultation_of == original
    fake.release()
    assert manager.calls[original].state == "held"
    assert manager.calls[consultation].state == "connected"


async def test_a_call_gone_before_dial_returns_is_not_added_again(make: Any) -> None:
    fake, manager, _ = await make()
    original = fake.dial

    async def dial_then_busy(number: str, data: Any = None) -> str:
        cid = await original(number, data)
        fake.end(cid, "busy")
        return cid

    fake.dial = dial_then_busy  # type: ignore[method-assign]
    cid = await manager.dial("0401234567")
    assert cid not in manager.calls


async def test_unknown_calls_and_malformed_events_are_ignored(make: Any) -> None:
    fake, manager, heard = await make()
    fake.answer_remote("nobody")
    fake.end("nobody")
    fake.send("garbage")
    fake.send(CallAnswered(call=""))
    fake.send(CallOffered(call=None))  # type: ignore[arg-type]
    fake.send(CallOffered(call="x", at="yesterday"))  # type: ignore[arg-type]
    assert manager.calls == {} and heard.events == []
    cid = fake.offer(ani="0401111111")
    fake.miss(cid)
    fake.answer_remote(cid)  # a late event of a call that is gone
    fake.offer(ani="0401111111", call=cid)  # and a late repeat of its offer
    assert manager.calls == {}
    assert manager.connection.connected


async def test_a_listener_that_raises_breaks_nothing(make: Any) -> None:
    fake, manager, _ = await make()

    def broken(payload: tuple[CtiEvent, Call]) -> None:
        raise RuntimeError("listener bug")

    manager.call_event.connect(broken)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    assert manager.calls[cid].state == "connected"


async def test_events_from_another_thread_are_applied_on_the_loop(make: Any) -> None:
    fake, manager, _ = await make()
    loop_thread = asyncio.get_running_loop()
    seen: list[bool] = []
    manager.call_event.connect(lambda _p: seen.append(asyncio.get_running_loop() is loop_thread))
    cid = await asyncio.to_thread(fake.offer, "0401111111")
    await until(lambda: cid in manager.calls, "the call from the thread")
    assert seen == [True]


async def test_an_event_emitted_while_another_is_handled_waits_its_turn(make: Any) -> None:
    fake, manager, _heard = await make()
    order: list[str] = []

    def on_event(payload: tuple[CtiEvent, Call]) -> None:
        event, call = payload
        order.append(type(event).__name__)
        if isinstance(event, CallOffered):
            fake.answer_remote(call.id)  # emitted from inside a listener
            order.append("after emit")

    manager.call_event.connect(on_event)
    fake.offer(ani="0401111111")
    assert order == ["CallOffered", "after emit", "CallAnswered"]


# ---------------------------------------------------------------------- the smaller commands
async def test_mute_dtmf_recording(make: Any) -> None:
    fake, manager, _heard = await make()
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.mute(True)
    assert manager.calls[cid].muted and fake.ops("mute") == [(cid, True)]
    await manager.send_dtmf("12 34#")
    assert fake.ops("send_dtmf") == [(cid, "1234#")]
    with pytest.raises(CtiError, match="is not DTMF"):
        await manager.send_dtmf("12x")
    await manager.start_recording()
    assert manager.calls[cid].recording
    await manager.stop_recording()
    assert not manager.calls[cid].recording


async def test_commands_need_a_call_that_has_not_ended(make: Any) -> None:
    fake, manager, heard = await make()
    with pytest.raises(CtiError, match=r"fake hold: there is no call$"):
        await manager.hold()
    with pytest.raises(CtiError, match="there is no call 'nope'"):
        await manager.hangup("nope")
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hangup()
    with pytest.raises(CtiError, match="has ended"):
        await manager.hold(cid)
    with pytest.raises(CtiError, match="no number to dial"):
        await manager.dial("  ")
    assert len(heard.problems) == 4


async def test_sip_uris_are_dialled_whole(make: Any) -> None:
    fake, manager, _ = await make()
    cid = await manager.dial("sip:alice@pbx.example.com")
    assert fake.ops("dial") == [("sip:alice@pbx.example.com", None)]
    assert manager.calls[cid].number_e164 == ""


async def test_held_calls_tick(make: Any) -> None:
    fake, manager, heard = await make(tick_seconds=0.01)
    cid = fake.offer(ani="0401111111")
    await manager.answer()
    await manager.hold()
    start = len(heard.changed)
    await until(lambda: len(heard.changed) >= start + 2, "hold ticks")
    await manager.retrieve()
    await until(lambda: manager._ticker is None, "the ticker stopped")
    assert manager.calls[cid].state == "connected"


async def test_call_parameters_and_dialing_by_the_backend(make: Any) -> None:
    fake, manager, _ = await make()
    cid = fake.dialing("0401234567", data={"campaign": "x"})
    params = manager.calls[cid].parameters()
    assert params["direction"] == "outbound" and params["number_e164"] == NUMBER
    assert params["campaign"] == "x" and params["state"] == "dialing"
    fake.send(CallDialing(call=cid, number="0401234567"))
    assert manager.calls[cid].state == "dialing"
