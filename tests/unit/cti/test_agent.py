"""The agent state machine: base states, on a call, wrap-up with its timer, states asked for meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from usd_desktop.cti.agent import AgentStateMachine, AgentStatus
from usd_desktop.testing import until
from usd_desktop.testing.fake_adapter import FakeClock


def machine(clock: FakeClock, **kwargs: object) -> tuple[AgentStateMachine, list[AgentStatus]]:
    seen: list[AgentStatus] = []
    m = AgentStateMachine(clock=clock, on_change=seen.append, **kwargs)  # type: ignore[arg-type]
    return m, seen


def test_the_agent_starts_offline_and_requests_apply_at_once_when_idle() -> None:
    clock = FakeClock()
    m, seen = machine(clock)
    assert m.status.state == "offline"
    clock.advance(5)
    assert m.request("available") is True
    assert (m.status.state, m.status.since) == ("available", clock.now)
    assert m.request("not_ready", "lunch") is True
    assert (m.status.state, m.status.reason) == ("not_ready", "lunch")
    assert m.request("available", "ignored") is True
    assert m.status.reason == ""
    assert [s.state for s in seen] == ["available", "not_ready", "available"]


@pytest.mark.parametrize("state", ["on_call", "wrap_up"])
def test_call_states_cannot_be_requested(state: str) -> None:
    m, _ = machine(FakeClock())
    with pytest.raises(ValueError, match="follows the calls"):
        m.request(state)  # type: ignore[arg-type]


async def test_on_call_then_wrap_up_with_a_deadline_then_available() -> None:
    clock = FakeClock()
    m, seen = machine(clock, wrap_up_seconds=30)
    m.request("available")
    assert m.update(busy=True, wrapping=False) is None
    assert m.status.state == "on_call" and m.engaged
    clock.advance(60)
    assert m.update(busy=False, wrapping=True) is None
    assert m.status.state == "wrap_up"
    assert m.status.wrap_up_deadline == clock.now + timedelta(seconds=30)
    assert m.status.since == clock.now
    assert m.timer_running
    assert m.update(busy=False, wrapping=False) == ("available", "")
    assert m.status.state == "available" and not m.timer_running and not m.engaged
    assert m.status.wrap_up_deadline is None
    assert [s.state for s in seen] == ["available", "on_call", "wrap_up", "available"]


async def test_not_ready_asked_for_during_the_call_is_applied_after_the_wrap_up() -> None:
    m, _ = machine(FakeClock(), wrap_up_seconds=30)
    m.request("available")
    m.update(busy=True, wrapping=False)
    assert m.request("not_ready", "coaching") is False
    assert m.status.state == "on_call"
    assert (m.status.next_state, m.status.next_reason) == ("not_ready", "coaching")
    m.update(busy=False, wrapping=True)
    assert m.status.state == "wrap_up" and m.status.next_state == "not_ready"
    assert m.update(busy=False, wrapping=False) == ("not_ready", "coaching")
    assert (m.status.state, m.status.reason, m.status.next_state) == ("not_ready", "coaching", None)
    assert m.requested is None


async def test_a_later_request_replaces_an_earlier_one() -> None:
    m, _ = machine(FakeClock())
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.request("not_ready", "break")
    m.request("available")
    assert m.update(busy=False, wrapping=False) == ("available", "")


def test_an_agent_not_ready_before_the_call_is_available_after_it() -> None:
    m, _ = machine(FakeClock())
    m.request("not_ready", "paperwork")
    m.update(busy=True, wrapping=False)
    assert m.update(busy=False, wrapping=False) == ("available", "")


def test_an_agent_offline_before_the_call_stays_offline() -> None:
    m, _ = machine(FakeClock())
    m.update(busy=True, wrapping=False)
    assert m.status.state == "on_call"
    assert m.update(busy=False, wrapping=False) == ("offline", "")
    assert m.status.state == "offline"


async def test_the_wrap_up_timer_expires() -> None:
    m, _ = machine(FakeClock(), wrap_up_seconds=0.01)
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.update(busy=False, wrapping=True)
    await until(lambda: m.status.state == "available", "the wrap-up timer")
    assert not m.engaged


async def test_the_timer_calls_on_expire_which_decides() -> None:
    expired: list[bool] = []
    m, _ = machine(FakeClock(), wrap_up_seconds=0.01, on_expire=lambda: expired.append(True))
    m.update(busy=True, wrapping=False)
    m.update(busy=False, wrapping=True)
    await until(lambda: expired, "on_expire")
    assert m.status.state == "wrap_up"  # the manager ends it (it completes the calls first)
    assert m.update(busy=False, wrapping=False) == ("offline", "")  # offline before the call


async def test_driving_the_timer_callback_directly() -> None:
    m, _ = machine(FakeClock(), wrap_up_seconds=3600)
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.update(busy=False, wrapping=True)
    assert m.timer_running
    m.expire()
    assert m.status.state == "available" and not m.timer_running


async def test_a_call_answered_during_wrap_up_pauses_it_and_the_timer_starts_again() -> None:
    clock = FakeClock()
    m, _ = machine(clock, wrap_up_seconds=30)
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.update(busy=False, wrapping=True)
    first_deadline = m.status.wrap_up_deadline
    m.update(busy=False, wrapping=True)  # a second call rings: still wrapping up
    assert m.status.wrap_up_deadline == first_deadline
    m.update(busy=True, wrapping=True)  # it is answered
    assert m.status.state == "on_call" and not m.timer_running
    clock.advance(100)
    m.update(busy=False, wrapping=True)
    assert m.status.state == "wrap_up" and m.timer_running
    assert m.status.wrap_up_deadline == clock.now + timedelta(seconds=30)
    m.close()
    assert not m.timer_running


async def test_the_timer_after_the_wrap_up_ended_does_nothing() -> None:
    m, _ = machine(FakeClock(), wrap_up_seconds=30)
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.expire()  # a late callback while on the call
    assert m.status.state == "on_call"


def test_without_an_event_loop_the_wrap_up_waits_to_be_completed() -> None:
    m, _ = machine(FakeClock(), wrap_up_seconds=30)
    m.request("available")
    m.update(busy=True, wrapping=False)
    m.update(busy=False, wrapping=True)
    assert m.status.state == "wrap_up" and not m.timer_running
    assert m.status.wrap_up_deadline is None


def test_backend_reports_set_the_state_between_calls_and_the_next_state_during_them() -> None:
    clock = FakeClock()
    m, _ = machine(clock)
    m.report("available", at=clock.advance(1))
    assert (m.status.state, m.status.since) == ("available", clock.now)
    m.report("on_call")  # the calls decide
    assert m.status.state == "available"
    m.update(busy=True, wrapping=False)
    m.report("available")  # ignored during the call
    assert m.status.next_state is None
    m.report("not_ready", "supervisor")
    assert m.status.state == "on_call" and m.status.next_state == "not_ready"
    assert m.update(busy=False, wrapping=False) == ("not_ready", "supervisor")
    m.report("offline")
    assert m.status.state == "offline"


def test_a_listener_that_raises_does_not_break_the_machine() -> None:
    def broken(status: AgentStatus) -> None:
        raise RuntimeError("listener bug")

    m = AgentStateMachine(clock=FakeClock(), on_change=broken)
    m.request("available")
    assert m.status.state == "available"


async def test_an_unchanged_status_is_not_announced_again() -> None:
    m, seen = machine(FakeClock())
    m.request("available")
    m.request("available")
    m.update(busy=False, wrapping=False)
    await asyncio.sleep(0)
    assert len(seen) == 1
