"""The call paths of bench/screen_pop.py: calls one at a time through the HTTP listener or baresip,
and calls at 10 per second through the listener while the event loop's stalls are measured."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from _pop_callers import Caller
from _pop_client import HttpClient
from _pop_desktop import OpenDesktop, PopSteps, Shown, StallMeter
from _pop_sip import INCOMING, SipCaller

from usd_desktop.testing import until

WARM_UP = 5
GAP = 0.1  # seconds from a call's end (session closed, interaction row written) to the next call
TIMEOUT = 15.0


@dataclass
class Pop:
    caller: Caller
    start: float  # the clock's start, perf_counter
    shown: Shown
    steps: PopSteps
    contact: str  # the session's $Context Id when the tab showed the name
    dialled: float | None = None  # baresip: the caller's dial

    @property
    def ms(self) -> float:
        return (self.shown.at - self.start) * 1e3

    def at(self, step: str) -> float | None:
        """perf_counter of a ``cti_pop`` step (its duration_ms after ``received``)."""
        if step not in self.steps.steps or "received" not in self.steps.steps:
            return None
        return self.steps.received_at + (self.steps.steps[step] - self.steps.steps["received"]) / 1e3


@dataclass
class PathResult:
    name: str  # short, for the ratio lines
    label: str  # from where to where
    pops: list[Pop] = field(default_factory=list)
    first_ms: float = 0.0  # the first call after the desktop started (a warm-up call)
    note: str = ""

    @property
    def wrong(self) -> int:
        """Pops whose session is not about the caller's contact."""
        return sum(1 for p in self.pops if p.contact != p.caller.contact_id)

    @property
    def not_current(self) -> int:
        return sum(1 for p in self.pops if not p.shown.current)


@dataclass
class LoadResult:
    idle: dict[str, float]
    loaded: dict[str, float]
    pops: PathResult
    sent: int
    answered: int
    shown: int
    window: tuple[float, float]  # perf_counter, the loaded measurement


def _context_id(d: OpenDesktop, session_id: str) -> str:
    session = d.desktop.dispatcher.sessions.get(session_id)
    return str(session.store.get("$Context", "Id") or "") if session is not None else ""


def _call_id(d: OpenDesktop, session_id: str) -> str:
    session = d.desktop.dispatcher.sessions.get(session_id)
    return str(session.store.get("cti", "callid") or "") if session is not None else ""


def _call_gone(d: OpenDesktop, call_id: str) -> bool:
    return d.cti.manager is not None and call_id not in d.cti.manager.calls


async def end_call(d: OpenDesktop, session_id: str, call_id: str) -> None:
    """The agent ends the call (the CTI control's Hangup action) and closes its session."""
    manager = d.cti.manager
    if call_id and manager is not None and call_id in manager.calls:
        await d.desktop.dispatcher.run_action("CTI", "Hangup", f"callid={call_id}")
    session = d.desktop.dispatcher.sessions.get(session_id)
    if session is not None:
        await d.desktop.close_session(session)


async def settle(d: OpenDesktop) -> None:
    """The interaction row written, then the pause before the next call."""
    if d.cti.recorder is not None:
        await d.cti.recorder.flush()
    await asyncio.sleep(GAP)


async def listener_path(d: OpenDesktop, client: HttpClient, callers: list[Caller]) -> PathResult:
    """Each caller's GET sent by the client process, one call at a time."""
    result = PathResult("listener", "listener: HTTP GET sent -> name painted")
    for n, caller in enumerate(callers):
        expected = d.watcher.expect(caller.name)
        answer = client.get(n, caller.http_path())
        shown = await asyncio.wait_for(expected, TIMEOUT)
        contact = _context_id(d, shown.session_id)
        reply = await asyncio.wait_for(answer, TIMEOUT)
        if reply["status"] != 200:
            raise RuntimeError(f"the listener answered {reply['status']}: {reply['body']}")
        call_id = json.loads(reply["body"])["call"]
        pop = Pop(caller, float(reply["t0"]), shown, d.stamps.calls.get(call_id, PopSteps()), contact)
        if n == 0:
            result.first_ms = pop.ms
        if n >= WARM_UP:
            result.pops.append(pop)
        await end_call(d, shown.session_id, call_id)
        await settle(d)
    return result


async def baresip_path(d: OpenDesktop, phone: SipCaller, target: str,
                       callers: list[Caller]) -> tuple[PathResult, PathResult]:
    """Each caller dials ``target`` from the caller baresip, one call at a time; the caller hangs up
    once the name is shown. Two clocks: from CALL_INCOMING, and from the caller's dial."""
    incoming = PathResult("baresip", "baresip: CALL_INCOMING received -> name painted")
    dialled = PathResult("baresip from the dial", "baresip: caller's dial sent -> name painted")
    for n, caller in enumerate(callers):
        INCOMING.clear()
        expected = d.watcher.expect(caller.name)
        t_dial = await phone.dial(caller.sip_user, target)
        shown = await asyncio.wait_for(expected, TIMEOUT)
        contact = _context_id(d, shown.session_id)
        if len(INCOMING) != 1:
            raise RuntimeError(f"expected one CALL_INCOMING, got {INCOMING}")
        t_incoming = next(iter(INCOMING.values()))
        call_id = _call_id(d, shown.session_id)
        steps = d.stamps.calls.get(call_id, PopSteps())
        pop = Pop(caller, t_incoming, shown, steps, contact, dialled=t_dial)
        if n == 0:
            incoming.first_ms = pop.ms
            dialled.first_ms = (shown.at - t_dial) * 1e3
        if n >= WARM_UP:
            incoming.pops.append(pop)
            dialled.pops.append(Pop(caller, t_dial, shown, steps, contact, dialled=t_dial))
        await phone.hang_up(caller.sip_user)
        await until(functools.partial(_call_gone, d, call_id), "the call ended at the adapter", TIMEOUT)
        session = d.desktop.dispatcher.sessions.get(shown.session_id)
        if session is not None:
            await d.desktop.close_session(session)
        await settle(d)
    return incoming, dialled


async def stall_runs(d: OpenDesktop, client: HttpClient, callers: list[Caller], seconds: float) -> LoadResult:
    """The loop's lateness for ``seconds`` idle, then for ``seconds`` while ``callers`` call at
    10 per second through the listener (each session closed and its call ended once shown)."""
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(seconds)
    idle = meter.stop()

    shown_calls: list[tuple[Shown, str, str]] = []
    closing: set[asyncio.Task[None]] = set()

    def on_shown(shown: Shown) -> None:
        call_id = _call_id(d, shown.session_id)
        shown_calls.append((shown, call_id, _context_id(d, shown.session_id)))
        task = asyncio.ensure_future(end_call(d, shown.session_id, call_id))
        closing.add(task)
        task.add_done_callback(closing.discard)

    d.watcher.on_shown = on_shown
    waits = [d.watcher.expect(c.name) for c in callers]
    first_id = 100_000
    meter.start()
    began = time.perf_counter()
    client.burst([(first_id + n, c.http_path()) for n, c in enumerate(callers)], rate=10.0)
    await asyncio.sleep(seconds)
    loaded = meter.stop()
    ended = time.perf_counter()
    done, _ = await asyncio.wait(waits, timeout=TIMEOUT)
    d.watcher.on_shown = None
    for future in waits:
        if not future.done():
            future.cancel()
    if closing:
        await asyncio.gather(*closing, return_exceptions=True)
    for session in list(d.desktop.dispatcher.sessions.customer_sessions):
        await d.desktop.close_session(session)
    answers: dict[str, tuple[int, dict[str, Any]]] = {}
    for answer in client.answers:
        if int(answer["id"]) >= first_id and answer.get("status") == 200:
            answers[json.loads(answer["body"])["call"]] = (int(answer["id"]) - first_id, answer)
    result = PathResult("listener at 10/s", "listener at 10 calls/s: GET sent -> name painted")
    for shown, call_id, contact in shown_calls:
        if call_id in answers:
            index, answer = answers[call_id]
            result.pops.append(Pop(callers[index], float(answer["t0"]), shown,
                                   d.stamps.calls.get(call_id, PopSteps()), contact))
    return LoadResult(idle, loaded, result, len(callers), len(answers), len(done), (began, ended))
