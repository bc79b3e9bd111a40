"""The scenario simulator (adapter ``simulator``): calls from a YAML scenario, every operation simulated.

For demos, training and tests: no telephony is needed, and the desktop sees the same events a real
backend would send. Settings (all optional)::

    cti:
      adapter: simulator
      settings:
        scenario: cti/demo-scenario.yaml   # null: no scenario (only calls from simulate_call)
        speed: 1.0          # time scale: 10 plays ten times faster
        loop: null          # true/false override the scenario's own ``loop``
        start_delay: 0      # seconds before the first round starts
        agent: ""           # when set, the agent is logged in (available) as soon as it connects
        dial_answer_after: 1.0   # seconds an outbound call rings before the far end answers
        busy_numbers: []    # dialled numbers that answer busy (to try the failure paths)

A relative ``scenario`` path is relative to the resources folder (``resources/``, see
:func:`usd_desktop.core.paths.resources_dir`); the default is the packaged demo scenario.
Every time below is in *scenario seconds*, divided by ``speed`` to get real seconds.

**Scenario file** (validated; an error names the file, the call's index and the field)::

    name: Demo
    loop: true            # play again, one round every ``period`` seconds
    period: 300           # default: the last call's ``at`` + 60
    calls:
      - at: 5             # seconds from the start of the round
        ani: "+358401234567"
        dnis: "800100"
        queue: Billing
        caller_name: Aino Virtanen
        activity: phonecall      # phonecall, chat, email, sms or web
        data: {account_number: "FI-1001", reason: invoice}   # attached / IVR data: [[cti.<key>]]
        ring: 30          # seconds it rings before the caller gives up (CallMissed); null: until answered
        talk: 90          # seconds after the answer until the caller hangs up; null: until the agent does
        hold: [[20, 15]]  # scripted holds: [after the answer, for how long]
        transfer_to: "2001"      # when the talk time is up, the call is transferred there instead

A bare list of calls is accepted too. **What the scripted parts mean**, honestly: the caller side
of a real call never puts anybody on hold, and it does not transfer itself. ``hold`` and
``transfer_to`` are *scripted agent actions*, played as if the agent had pressed Hold / Retrieve or
Transfer, so an unattended demo (or a KPI data run) produces hold time and transfers. They act only
on a connected call: a scripted hold is skipped when the call is not active at that moment, and the
scripted retrieve only undoes the simulator's own hold (not one the agent made since). The agent can
always act by hand as well.

**Calls are offered whatever the agent's state** (this is a demo source, not an ACD that routes only
to available agents); agent states change only on ``login`` / ``logout`` / ``set_agent_state``
(setting a state while logged out is allowed and logs the agent in).

Events, as a real backend sends them: an offered call -> ``CallOffered``; ``answer`` ->
``CallAnswered``; the caller giving up -> ``CallMissed(abandoned=True)`` (its last event);
``reject`` (or ``hangup`` of a ringing call) -> ``CallEnded(cause="rejected")``; the caller
hanging up after ``talk`` -> ``CallEnded(cause="normal")``; ``dial`` -> ``CallDialing`` then, after
``dial_answer_after``, ``CallAnswered`` (or ``CallEnded(cause="busy")``); ``hold`` / ``retrieve``
-> ``CallHeld`` / ``CallRetrieved`` (a repeated one does nothing); ``blind_transfer`` ->
``CallTransferred`` + ``CallEnded(cause="transferred")``; ``consult`` -> ``CallHeld`` (the first
call) + ``CallDialing`` / ``CallAnswered`` (the consultation, whose data has ``consultation_of``);
``complete_transfer`` -> ``CallTransferred`` + ``CallEnded(cause="transferred")`` for both;
``cancel_transfer`` -> ``CallEnded`` (the consultation) + ``CallRetrieved``; ``conference`` ->
``CallRetrieved`` (if held) + ``CallConferenced`` + ``PartyAdded`` + ``CallEnded(cause=
"conferenced")`` for the consultation, which is now part of the first call; ``send_dtmf`` echoes the
digits as ``DtmfReceived``; ``start_recording`` / ``stop_recording`` -> ``RecordingStarted`` /
``RecordingStopped``; ``mute`` has no event. When a call with a consultation ends, the
consultation goes on as a call of its own.

All timing goes through an injectable ``sleep`` and ``clock`` (``asyncio.sleep`` and the loop's
``time`` by default), so tests run on virtual time.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
import secrets as secrets_module
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from usd_desktop.core.paths import resources_dir
from usd_desktop.cti.contract import (
    AGENT_STATES,
    OPERATIONS,
    Activity,
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallConferenced,
    CallDialing,
    CallEnded,
    CallHeld,
    CallId,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    ConnectionUp,
    CtiError,
    CtiEvent,
    Direction,
    DtmfReceived,
    NotConnected,
    PartyAdded,
    RecordingStarted,
    RecordingStopped,
)

log = logging.getLogger(__name__)

#: The packaged demo scenario, relative to the resources folder.
DEFAULT_SCENARIO = Path("cti") / "demo-scenario.yaml"
#: Scenario seconds between the last call of a round and the next round, when ``period`` is not set.
DEFAULT_ROUND_GAP = 60.0
DTMF_DIGITS = re.compile(r"^[0-9*#A-Da-d]+$")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
CallState = Literal["ringing", "dialing", "active", "held"]
Scalar = str | int | float | bool


# ---------------------------------------------------------------------- the scenario
class ScenarioCall(BaseModel):
    """One inbound call of a scenario (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float = Field(ge=0)
    ani: str = Field(min_length=1)
    dnis: str = ""
    queue: str = ""
    caller_name: str = ""
    activity: Activity = "phonecall"
    data: dict[str, Scalar] = Field(default_factory=dict)
    ring: float | None = Field(default=None, gt=0)
    talk: float | None = Field(default=None, gt=0)
    hold: tuple[tuple[float, float], ...] = ()
    transfer_to: str | None = None

    @field_validator("ani", "dnis", "transfer_to", mode="before")
    @classmethod
    def _number_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 800100 as an int: a number is text here.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("hold")
    @classmethod
    def _holds(cls, value: tuple[tuple[float, float], ...], info: ValidationInfo) -> Any:
        talk = info.data.get("talk")
        end = 0.0
        for after, duration in value:
            if after < 0:
                raise ValueError("a hold's after (seconds from the answer) must be 0 or more")
            if after < end:
                raise ValueError("holds must be in order and must not overlap ([after, duration], "
                                 "after counted from the answer)")
            if duration <= 0:
                raise ValueError("a hold's duration must be more than 0 seconds")
            end = after + duration
            if talk is not None and end > talk:
                raise ValueError(f"a hold ends at {end:g} s, after the caller hangs up (talk: {talk:g})")
        return value

    @field_validator("transfer_to")
    @classmethod
    def _transfer(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            if not value.strip():
                raise ValueError("transfer_to is empty")
            if "talk" in info.data and info.data["talk"] is None:
                raise ValueError("transfer_to needs a talk time: the call is transferred when it is up")
        return value

    def text_data(self) -> dict[str, str]:
        return {key: _text(value) for key, value in self.data.items()}


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    loop: bool = False
    period: float | None = Field(default=None, gt=0)
    calls: tuple[ScenarioCall, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _period_after_last_call(self) -> Scenario:
        last = max(call.at for call in self.calls)
        if self.period is not None and self.period <= last:
            raise ValueError(f"period ({self.period:g} s) must be longer than the last call's at "
                             f"({last:g} s): rounds would overlap")
        return self

    def round_length(self) -> float:
        """Scenario seconds from the start of one round to the start of the next."""
        if self.period is not None:
            return self.period
        return max(call.at for call in self.calls) + DEFAULT_ROUND_GAP


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _where(loc: tuple[int | str, ...]) -> str:
    """``("calls", 2, "hold", 0)`` -> ``call 3 (calls[2]), field hold[0]``."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "calls" and isinstance(parts[1], int):
        prefix = f"call {parts[1] + 1} (calls[{parts[1]}]), "
        parts = parts[2:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return f"{prefix}field {name}" if name else prefix.rstrip(", ") or "top level"


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; :class:`CtiError` names the file, the call and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CtiError(f"simulator scenario {path}: cannot be read: {exc.strerror or exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise CtiError(f"simulator scenario {path}: not valid YAML{where}: {problem}") from None
    if isinstance(raw, list):
        raw = {"calls": raw}
    if not isinstance(raw, dict):
        raise CtiError(f"simulator scenario {path}: expected a mapping with 'calls' (or a list of calls)")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{_where(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                 for e in exc.errors()]
        raise CtiError(f"simulator scenario {path}: " + "; ".join(lines)) from None


# ---------------------------------------------------------------------- settings
class SimulatorSettings(AdapterSettings):
    scenario: Path | None = DEFAULT_SCENARIO
    speed: float = Field(default=1.0, gt=0)
    loop: bool | None = None
    start_delay: float = Field(default=0.0, ge=0)
    agent: str = ""
    dial_answer_after: float = Field(default=1.0, ge=0)
    busy_numbers: tuple[str, ...] = ()

    def scenario_path(self) -> Path | None:
        if self.scenario is None:
            return None
        path = self.scenario.expanduser()
        return path if path.is_absolute() else resources_dir() / path


# ---------------------------------------------------------------------- call state
@dataclass(eq=False)
class _Call:
    id: CallId
    direction: Direction
    number: str  # the caller's number (inbound) or the dialled one (outbound)
    state: CallState
    announced: CtiEvent  # its CallOffered / CallDialing (for resync)
    talk: float | None = None
    holds: tuple[tuple[float, float], ...] = ()
    transfer_to: str | None = None
    muted: bool = False
    recording: bool = False
    hold_generation: int = 0  # bumped by every hold, so a scripted retrieve undoes only its own hold
    consult_of: CallId | None = None  # this call is the consultation of that one
    consultation: CallId | None = None  # this call's consultation call
    timers: set[asyncio.Task[None]] = field(default_factory=set)


# ---------------------------------------------------------------------- the adapter
class SimulatorAdapter(Adapter):
    """Plays a scenario of inbound calls and simulates every operation on them."""

    name: ClassVar[str] = "simulator"
    settings_model: ClassVar[type[AdapterSettings]] = SimulatorSettings
    capabilities: ClassVar[frozenset[str]] = OPERATIONS

    settings: SimulatorSettings

    def __init__(
        self,
        settings: AdapterSettings,
        *,
        secrets: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(settings, SimulatorSettings):
            settings = SimulatorSettings.model_validate(settings.model_dump())
        super().__init__(settings, secrets=secrets)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock: Clock | None = clock
        path = settings.scenario_path()
        self.scenario: Scenario | None = load_scenario(path) if path is not None else None
        self.agent_state: AgentStateName = "offline"
        self.agent = ""
        self.queues: tuple[str, ...] = ()
        self._calls: dict[CallId, _Call] = {}
        self._tag = secrets_module.token_hex(2)  # ids stay unique when the adapter is made again
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._player: asyncio.Task[None] | None = None
        self._connected = False

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> None:
        if self._connected:
            return
        self._connected = True
        what = self.scenario.name if self.scenario and self.scenario.name else "no scenario"
        self.emit(ConnectionUp(detail=f"simulator ({what}, speed {self.settings.speed:g})"))
        if self.settings.agent and self.agent_state == "offline":
            await self.login(self.settings.agent)
        if self.scenario is not None and self._player is None:
            self._player = self._spawn(self._play(self.scenario))

    async def close(self) -> None:
        self._connected = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._calls.clear()
        self._player = None

    async def resync(self) -> list[CtiEvent]:
        events: list[CtiEvent] = [AgentStateChanged(state=self.agent_state, reason="resync")]
        for call in self._calls.values():
            events.append(call.announced)
            if call.state in ("active", "held"):
                events.append(CallAnswered(call=call.id))
            if call.state == "held":
                events.append(CallHeld(call=call.id))
            if call.recording:
                events.append(RecordingStarted(call=call.id))
        return events

    def call_state(self, call: CallId) -> CallState | None:
        """The state of a live call (``None`` once it has ended or when it never existed)."""
        found = self._calls.get(call)
        return found.state if found is not None else None

    # ------------------------------------------------------------------ time
    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    async def _wait(self, scenario_seconds: float) -> None:
        """Sleep ``scenario_seconds`` (divided by ``speed``)."""
        await self._sleep(scenario_seconds / self.settings.speed)

    async def _wait_until(self, deadline: float) -> None:
        delay = deadline - self._now()
        if delay > 0:
            await self._sleep(delay)

    def _spawn(self, coro: Coroutine[Any, Any, None], call: _Call | None = None) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if call is not None:
            call.timers.add(task)
            task.add_done_callback(call.timers.discard)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task failed", exc_info=task.exception())

    def _after(self, call: _Call, scenario_seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``scenario_seconds``, unless the call has ended by then."""

        async def later() -> None:
            await self._wait(scenario_seconds)
            if self._calls.get(call.id) is call:
                action()

        self._spawn(later(), call)

    async def _play(self, scenario: Scenario) -> None:
        speed = self.settings.speed
        loop = self.settings.loop if self.settings.loop is not None else scenario.loop
        calls = sorted(scenario.calls, key=lambda c: c.at)
        await self._wait(self.settings.start_delay)
        while True:
            start = self._now()
            for entry in calls:
                await self._wait_until(start + entry.at / speed)
                self._offer(
                    ani=entry.ani, dnis=entry.dnis, queue=entry.queue, caller_name=entry.caller_name,
                    activity=entry.activity, data=entry.text_data(), ring=entry.ring, talk=entry.talk,
                    holds=entry.hold, transfer_to=entry.transfer_to,
                )
            if not loop:
                return
            await self._wait_until(start + scenario.round_length() / speed)

    # ------------------------------------------------------------------ inbound calls
    async def simulate_call(
        self,
        ani: str,
        dnis: str = "",
        *,
        queue: str = "",
        caller_name: str = "",
        activity: Activity = "phonecall",
        ring: float | None = None,
        talk: float | None = None,
        **data: Any,
    ) -> CallId:
        """Offer a call now (the "simulate incoming call" control); ``data``: its attached data.
        It rings until answered (or ``ring`` seconds) and lasts until the agent hangs up (or
        ``talk`` seconds after the answer)."""
        if not self._connected:
            raise NotConnected("the simulator is not started: it cannot offer a call")
        if not ani:
            raise CtiError("the simulator needs a caller number (ani) to offer a call")
        return self._offer(
            ani=ani, dnis=dnis, queue=queue, caller_name=caller_name, activity=activity,
            data={key: _text(value) for key, value in data.items()}, ring=ring, talk=talk,
        )

    def _offer(
        self, *, ani: str, dnis: str, queue: str, caller_name: str, activity: Activity,
        data: dict[str, str], ring: float | None, talk: float | None,
        holds: tuple[tuple[float, float], ...] = (), transfer_to: str | None = None,
    ) -> CallId:
        call_id = self._new_id()
        offered = CallOffered(
            call=call_id, ani=ani, dnis=dnis, queue=queue, direction="inbound", activity=activity,
            caller_name=caller_name, data=data,
        )
        call = _Call(call_id, "inbound", ani, "ringing", offered, talk=talk, holds=holds,
                     transfer_to=transfer_to)
        self._calls[call_id] = call
        self.emit(offered)
        if ring is not None:
            self._after(call, ring, lambda: self._caller_gives_up(call))
        return call_id

    def _caller_gives_up(self, call: _Call) -> None:
        if call.state == "ringing":
            self._forget(call)
            self.emit(CallMissed(call=call.id, abandoned=True))

    def _connected_call(self, call: _Call) -> None:
        """The call was answered: start its scripted talk time and holds."""
        call.state = "active"
        self.emit(CallAnswered(call=call.id))
        if call.talk is not None:
            self._after(call, call.talk, lambda: self._talk_over(call))
        for after, duration in call.holds:
            self._after(call, after, functools.partial(self._scripted_hold, call, duration))

    def _talk_over(self, call: _Call) -> None:
        if call.transfer_to:
            self.emit(CallTransferred(call=call.id, target=call.transfer_to))
            self._end(call, "transferred")
        else:
            self._end(call, "normal")

    def _scripted_hold(self, call: _Call, duration: float) -> None:
        if call.state != "active":
            return
        self._hold(call)
        generation = call.hold_generation

        def retrieve() -> None:
            if call.state == "held" and call.hold_generation == generation:
                self._retrieve(call)

        self._after(call, duration, retrieve)

    # ------------------------------------------------------------------ helpers
    def _new_id(self) -> CallId:
        return f"sim-{self._tag}-{next(self._ids)}"

    def _call(self, call: CallId, operation: str, *states: CallState) -> _Call:
        found = self._calls.get(call)
        if found is None:
            raise CtiError(f"the simulator cannot {operation.replace('_', ' ')} call {call!r}: "
                           "no such call (or it has ended)")
        if states and found.state not in states:
            raise CtiError(f"the simulator cannot {operation.replace('_', ' ')} call {call}: it is "
                           f"{found.state} (it must be {' or '.join(states)})")
        return found

    def _forget(self, call: _Call) -> None:
        """Drop a call that is over: its timers stop, and its consultation link is undone."""
        self._calls.pop(call.id, None)
        self._cancel_timers(call)
        if call.consultation is not None:
            other = self._calls.get(call.consultation)
            if other is not None:
                other.consult_of = None  # it goes on as a call of its own
        if call.consult_of is not None:
            parent = self._calls.get(call.consult_of)
            if parent is not None and parent.consultation == call.id:
                parent.consultation = None

    def _end(self, call: _Call, cause: str) -> None:
        self._forget(call)
        self.emit(CallEnded(call=call.id, cause=cause))

    def _hold(self, call: _Call) -> None:
        call.state = "held"
        call.hold_generation += 1
        self.emit(CallHeld(call=call.id))

    def _retrieve(self, call: _Call) -> None:
        call.state = "active"
        self.emit(CallRetrieved(call=call.id))

    def _place(self, number: str, data: Mapping[str, str], consult_of: CallId | None = None) -> _Call:
        number = number.strip()
        if not number:
            raise CtiError("the simulator cannot dial an empty number")
        call_id = self._new_id()
        dialing = CallDialing(call=call_id, number=number, data=dict(data))
        call = _Call(call_id, "outbound", number, "dialing", dialing, consult_of=consult_of)
        self._calls[call_id] = call
        self.emit(dialing)

        def far_end_answers() -> None:
            if call.state != "dialing":
                return
            if number in self.settings.busy_numbers:
                self._end(call, "busy")
            else:
                self._connected_call(call)

        self._after(call, self.settings.dial_answer_after, far_end_answers)
        return call

    def _pair(self, call: CallId, consultation: CallId, operation: str) -> tuple[_Call, _Call]:
        first = self._call(call, operation, "active", "held")
        second = self._call(consultation, operation, "dialing", "active", "held")
        if first.consultation != second.id:
            raise CtiError(f"the simulator cannot {operation.replace('_', ' ')}: {consultation} is not "
                           f"the consultation call of {call}")
        return first, second

    # ------------------------------------------------------------------ agent
    async def login(self, agent: str, queues: tuple[str, ...] = ()) -> None:
        self.agent, self.queues = agent, tuple(queues)
        self._agent_state("available", "login")

    async def logout(self) -> None:
        self._agent_state("offline", "logout")

    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        if state not in AGENT_STATES:
            raise CtiError(f"the simulator knows no agent state {state!r} "
                           f"(one of {', '.join(AGENT_STATES)})")
        self._agent_state(state, reason)

    def _agent_state(self, state: AgentStateName, reason: str) -> None:
        self.agent_state = state
        self.emit(AgentStateChanged(state=state, reason=reason))

    # ------------------------------------------------------------------ calls
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        return self._place(number, data or {}).id

    async def answer(self, call: CallId) -> None:
        found = self._call(call, "answer", "ringing")
        self._cancel_timers(found)
        self._connected_call(found)

    async def reject(self, call: CallId) -> None:
        self._end(self._call(call, "reject", "ringing"), "rejected")

    async def hangup(self, call: CallId) -> None:
        found = self._call(call, "hangup")
        self._end(found, "rejected" if found.state == "ringing" else "normal")

    async def hold(self, call: CallId) -> None:
        found = self._call(call, "hold", "active", "held")
        if found.state == "active":
            self._hold(found)

    async def retrieve(self, call: CallId) -> None:
        found = self._call(call, "retrieve", "active", "held")
        if found.state == "held":
            self._retrieve(found)

    async def mute(self, call: CallId, muted: bool) -> None:
        self._call(call, "mute", "active", "held").muted = muted

    async def send_dtmf(self, call: CallId, digits: str) -> None:
        found = self._call(call, "send_dtmf", "active")
        if not DTMF_DIGITS.match(digits):
            raise CtiError(f"the simulator cannot send DTMF {digits!r}: only 0-9, *, # and A-D")
        self.emit(DtmfReceived(call=found.id, digits=digits))

    async def blind_transfer(self, call: CallId, target: str) -> None:
        found = self._call(call, "blind_transfer", "active", "held")
        if not target.strip():
            raise CtiError("the simulator cannot transfer to an empty number")
        self.emit(CallTransferred(call=found.id, target=target.strip()))
        self._end(found, "transferred")

    async def consult(self, call: CallId, target: str) -> CallId:
        found = self._call(call, "consult", "active", "held")
        if found.consultation is not None:
            raise CtiError(f"the simulator cannot consult: call {call} already has the consultation "
                           f"call {found.consultation}")
        if not target.strip():
            raise CtiError("the simulator cannot consult an empty number")
        if found.state == "active":
            self._hold(found)
        consultation = self._place(target, {"consultation_of": found.id}, consult_of=found.id)
        found.consultation = consultation.id
        return consultation.id

    async def complete_transfer(self, call: CallId, consultation: CallId) -> None:
        first, second = self._pair(call, consultation, "complete_transfer")
        self.emit(CallTransferred(call=first.id, target=second.number))
        self._end(first, "transferred")
        self._end(second, "transferred")

    async def cancel_transfer(self, call: CallId, consultation: CallId) -> None:
        first, second = self._pair(call, consultation, "cancel_transfer")
        self._end(second, "normal")
        if first.state == "held":
            self._retrieve(first)

    async def conference(self, call: CallId, consultation: CallId) -> None:
        first, second = self._pair(call, consultation, "conference")
        if second.state != "active":
            raise CtiError(f"the simulator cannot conference: the consultation call {consultation} "
                           f"is {second.state}, not connected")
        if first.state == "held":
            self._retrieve(first)
        self.emit(CallConferenced(call=first.id, other=second.id))
        self.emit(PartyAdded(call=first.id, party=second.number))
        self._end(second, "conferenced")

    async def start_recording(self, call: CallId) -> None:
        found = self._call(call, "start_recording", "active", "held")
        if not found.recording:
            found.recording = True
            self.emit(RecordingStarted(call=found.id))

    async def stop_recording(self, call: CallId) -> None:
        found = self._call(call, "stop_recording", "active", "held")
        if found.recording:
            found.recording = False
            self.emit(RecordingStopped(call=found.id))

    @staticmethod
    def _cancel_timers(call: _Call) -> None:
        current = asyncio.current_task()  # a timer that is ending its own call runs to its end
        for task in list(call.timers):
            if task is not current:
                task.cancel()
