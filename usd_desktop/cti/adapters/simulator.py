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
        offer_to: anyone    # or ``available``: the scenario's calls queue as in an ACD (below)
        queue_patience: 120 # with ``offer_to: available``: seconds a caller waits in the queue

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

**Who gets the scenario's calls.** With ``offer_to: anyone`` (the default) a call is offered when
its time comes, whatever the agent's state. With ``offer_to: available`` the simulator plays an
ACD: a scenario call arrives in a queue and is offered only to an *available* agent who has no call
and is not in wrap-up (a call that ended after it was answered is in wrap-up until
``complete_wrap_up``, or until the desktop next sets the agent state, as it does after the
wrap-up); the first caller in the queue first. A caller who has waited ``queue_patience`` scenario
seconds leaves the queue unseen (the desktop never heard of the call; a queue-level abandon), and
once offered, the call's ``ring`` counts as usual. Calls from :meth:`simulate_call` are offered at
once in either mode (a trainer's call does not wait). Agent states change only on ``login`` /
``logout`` / ``set_agent_state`` (setting a state while logged out is allowed and logs the agent
in).

Events, as a real backend sends them: an offered call -> ``CallOffered``; ``answer`` ->
``CallAnswered``; the caller giving up (after ``ring``, or at once with ``simulate_hangup``) ->
``CallMissed(abandoned=True)`` (its last event); ``reject`` (or ``hangup`` of a ringing call) ->
``CallEnded(cause="rejected")``; the caller hanging up after ``talk`` (or with
``simulate_hangup``) -> ``CallEnded(cause="normal")``; ``dial`` -> ``CallDialing`` then, after
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
``time`` by default), so tests run on virtual time. The calls' bookkeeping (ids, states, timers,
answer / hold / hangup, agent states, resync) is shared with the HTTP listener:
:mod:`usd_desktop.cti.adapters.local_calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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
from usd_desktop.cti.adapters.local_calls import CallState, LocalCall, LocalCallsAdapter
from usd_desktop.cti.contract import (
    OPERATIONS,
    Activity,
    AdapterSettings,
    AgentStateName,
    CallConferenced,
    CallDialing,
    CallId,
    CallOffered,
    CallTransferred,
    ConnectionUp,
    CtiError,
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
    offer_to: Literal["anyone", "available"] = "anyone"
    queue_patience: float = Field(default=120.0, gt=0)

    def scenario_path(self) -> Path | None:
        if self.scenario is None:
            return None
        path = self.scenario.expanduser()
        return path if path.is_absolute() else resources_dir() / path


# ---------------------------------------------------------------------- call state
@dataclass(eq=False)
class _Call(LocalCall):
    talk: float | None = None
    holds: tuple[tuple[float, float], ...] = ()
    transfer_to: str | None = None
    consult_of: CallId | None = None  # this call is the consultation of that one
    consultation: CallId | None = None  # this call's consultation call


# ---------------------------------------------------------------------- the adapter
class SimulatorAdapter(LocalCallsAdapter):
    """Plays a scenario of inbound calls and simulates every operation on them."""

    name: ClassVar[str] = "simulator"
    settings_model: ClassVar[type[AdapterSettings]] = SimulatorSettings
    capabilities: ClassVar[frozenset[str]] = OPERATIONS
    label: ClassVar[str] = "the simulator"
    id_prefix: ClassVar[str] = "sim"

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
        self._player: asyncio.Task[None] | None = None
        self._connected = False
        #: ``offer_to: available``: the scenario calls waiting for the agent, with their arrival time.
        self._waiting: deque[tuple[float, ScenarioCall]] = deque()
        self._wrapping: set[CallId] = set()  # answered calls that ended, until their wrap-up completes

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
        await self._close_calls()
        self._player = None
        self._waiting.clear()
        self._wrapping.clear()

    # ------------------------------------------------------------------ time
    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    async def _delay(self, seconds: float) -> None:
        """Sleep ``seconds`` of scenario time (divided by ``speed``)."""
        await self._sleep(seconds / self.settings.speed)

    async def _wait_until(self, deadline: float) -> None:
        delay = deadline - self._now()
        if delay > 0:
            await self._sleep(delay)

    async def _play(self, scenario: Scenario) -> None:
        speed = self.settings.speed
        loop = self.settings.loop if self.settings.loop is not None else scenario.loop
        calls = sorted(scenario.calls, key=lambda c: c.at)
        await self._delay(self.settings.start_delay)
        while True:
            start = self._now()
            for entry in calls:
                await self._wait_until(start + entry.at / speed)
                if self.settings.offer_to == "available":
                    self._waiting.append((self._now(), entry))
                    self._deliver()
                else:
                    self._offer_entry(entry)
            if not loop:
                return
            await self._wait_until(start + scenario.round_length() / speed)

    def _offer_entry(self, entry: ScenarioCall) -> CallId:
        return self._offer(
            ani=entry.ani, dnis=entry.dnis, queue=entry.queue, caller_name=entry.caller_name,
            activity=entry.activity, data=entry.text_data(), ring=entry.ring, talk=entry.talk,
            holds=entry.hold, transfer_to=entry.transfer_to,
        )

    # ------------------------------------------------------------------ the queue (offer_to: available)
    def _agent_free(self) -> bool:
        return self.agent_state == "available" and not self._calls and not self._wrapping

    def _deliver(self) -> None:
        """Offer the first caller still waiting, if the agent can take a call now."""
        if self.settings.offer_to != "available" or not self._connected:
            return
        patience = self.settings.queue_patience / self.settings.speed
        now = self._now()
        while self._waiting and now - self._waiting[0][0] > patience:
            _, gone = self._waiting.popleft()
            log.info("simulator: the caller %s left the queue after %g s", gone.ani, patience)
        if self._waiting and self._agent_free():
            _, entry = self._waiting.popleft()
            self._offer_entry(entry)

    def _agent_state(self, state: AgentStateName, reason: str) -> None:
        self._wrapping.clear()  # the desktop sets the state after a wrap-up: the agent is past it
        super()._agent_state(state, reason)
        self._deliver()

    async def complete_wrap_up(self, call: CallId, disposition: str = "") -> None:
        self._wrapping.discard(call)
        self._deliver()

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
        ``talk`` seconds after the answer, or :meth:`simulate_hangup`)."""
        if not self._connected:
            raise NotConnected("the simulator is not started: it cannot offer a call")
        if not ani:
            raise CtiError("the simulator needs a caller number (ani) to offer a call")
        return self._offer(
            ani=ani, dnis=dnis, queue=queue, caller_name=caller_name, activity=activity,
            data={key: _text(value) for key, value in data.items()}, ring=ring, talk=talk,
        )

    def simulate_hangup(self, call: CallId, cause: str = "") -> None:
        """The caller (or the far end of a dialled call) hangs up now: a ringing call is missed
        (``CallMissed(abandoned=True)``), any other ends (``CallEnded``, ``cause`` or ``normal``)."""
        self.far_end_hangs_up(call, cause)

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
        self._register(call)
        if ring is not None:
            self._after(call, ring, lambda: self._caller_gives_up(call))
        return call_id

    def _caller_gives_up(self, call: _Call) -> None:
        if call.state == "ringing":
            self._miss(call, abandoned=True)

    def _on_connected(self, call: LocalCall) -> None:
        """The call was answered: start its scripted talk time and holds."""
        assert isinstance(call, _Call)
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

        def retrieve() -> None:  # only the simulator's own hold, not one the agent made since
            if call.state == "held" and call.hold_generation == generation:
                self._retrieve(call)

        self._after(call, duration, retrieve)

    # ------------------------------------------------------------------ helpers
    def _sim_call(self, call: CallId, operation: str, *states: CallState) -> _Call:
        found = self._call(call, operation, *states)
        assert isinstance(found, _Call)
        return found

    def _forget(self, call: LocalCall) -> None:
        """Drop a call that is over: its timers stop, and its consultation link is undone; with
        ``offer_to: available`` an answered call goes to wrap-up, and the queue is served next."""
        if call.state in ("active", "held") and self.settings.offer_to == "available":
            self._wrapping.add(call.id)  # until the desktop completes its wrap-up
        super()._forget(call)
        with contextlib.suppress(RuntimeError):  # no loop: nothing is playing
            asyncio.get_running_loop().call_soon(self._deliver)  # after the call's last event
        assert isinstance(call, _Call)
        if call.consultation is not None:
            other = self._calls.get(call.consultation)
            if isinstance(other, _Call):
                other.consult_of = None  # it goes on as a call of its own
        if call.consult_of is not None:
            parent = self._calls.get(call.consult_of)
            if isinstance(parent, _Call) and parent.consultation == call.id:
                parent.consultation = None

    def _place(self, number: str, data: Mapping[str, str], consult_of: CallId | None = None) -> _Call:
        number = number.strip()
        if not number:
            raise CtiError("the simulator cannot dial an empty number")
        call_id = self._new_id()
        dialing = CallDialing(call=call_id, number=number, data=dict(data))
        call = _Call(call_id, "outbound", number, "dialing", dialing, consult_of=consult_of)
        self._register(call)

        def far_end_answers() -> None:
            if call.state != "dialing":
                return
            if number in self.settings.busy_numbers:
                self._end(call, "busy")
            else:
                self._connect(call)

        self._after(call, self.settings.dial_answer_after, far_end_answers)
        return call

    def _pair(self, call: CallId, consultation: CallId, operation: str) -> tuple[_Call, _Call]:
        first = self._sim_call(call, operation, "active", "held")
        second = self._sim_call(consultation, operation, "dialing", "active", "held")
        if first.consultation != second.id:
            raise CtiError(f"the simulator cannot {operation.replace('_', ' ')}: {consultation} is not "
                           f"the consultation call of {call}")
        return first, second

    # ------------------------------------------------------------------ calls
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        return self._place(number, data or {}).id

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
        found = self._sim_call(call, "consult", "active", "held")
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
