"""The CTI adapter contract (Qt-free, asyncio): what an adapter plugin implements and reports.

An adapter connects the desktop to one telephony backend (a simulator, a softphone, a PBX, a
cloud contact centre). It is discovered through the entry-point group ``usd_desktop.cti_adapters``
(:mod:`usd_desktop.cti.registry`), configured by a pydantic settings model it declares (credentials
come from the keyring, never from the configuration), and driven by the desktop's
:class:`~usd_desktop.cti.manager.CtiManager`, which isolates it: a command that raises, hangs or
fails is reported, times out and never takes the desktop down.

**Operations** (usd-reference peers §2.10) are ``async`` methods of :class:`Adapter`. An adapter
that cannot do one raises :class:`NotSupported` (and leaves it out of :attr:`Adapter.capabilities`,
so the desktop disables the button). Calls are named by the desktop's own :data:`CallId`, which the
adapter chose when it reported the call (``CallOffered`` / ``CallDialing``); the adapter maps it to
the backend's id. Events of calls the adapter never reported are ignored by the manager.

**Events** are the frozen dataclasses below, passed to the :data:`EventSink` given to
:meth:`Adapter.start`, in the order they happened. A command's effect may arrive as an event
before or after the command returns; the manager copes with both.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict

from usd_desktop.core.errors import UsdError

#: The desktop's id of a call (stable for its whole life, also across transfers).
CallId = str
Direction = Literal["inbound", "outbound"]
Activity = Literal["phonecall", "chat", "email", "sms", "web"]
#: The activities, as text.
ACTIVITIES: tuple[str, ...] = get_args(Activity)

#: Agent states the desktop knows (an adapter maps its backend's states onto these).
AGENT_STATES = ("offline", "available", "not_ready", "on_call", "wrap_up")
AgentStateName = Literal["offline", "available", "not_ready", "on_call", "wrap_up"]

#: Every operation an adapter may offer (its :attr:`Adapter.capabilities` is a subset).
OPERATIONS = frozenset({
    "login", "logout", "set_agent_state", "dial", "answer", "reject", "hangup", "hold", "retrieve",
    "mute", "send_dtmf", "blind_transfer", "consult", "complete_transfer", "cancel_transfer",
    "conference", "start_recording", "stop_recording", "complete_wrap_up",
})


# ---------------------------------------------------------------------- errors
class CtiError(UsdError):
    """A CTI operation failed; the message names the adapter and the operation."""


class NotSupported(CtiError):
    """The adapter (or its backend) cannot do this operation."""


class CommandTimeout(CtiError):
    """The backend did not answer a command in time."""


class NotConnected(CtiError):
    """The adapter has no connection to its backend right now."""


# ---------------------------------------------------------------------- events
def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class CtiEvent:
    """Base of every event: when it happened (backend time when known, else reception time)."""

    at: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionUp(CtiEvent):
    """The adapter reached its backend (again); ``detail``: what it is connected to."""

    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLost(CtiEvent):
    """The connection dropped; the manager reconnects with backoff and resynchronises."""

    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(CtiEvent):
    state: AgentStateName
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(CtiEvent):
    call: CallId


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(CallEvent):
    """A call rings for the agent (the first screen-pop moment). ``data``: attached and IVR data
    (``key -> value``); they become ``[[cti.<key>]]`` next to ``ani``, ``dnis`` and ``queue``."""

    ani: str = ""
    dnis: str = ""
    queue: str = ""
    direction: Direction = "inbound"
    activity: Activity = "phonecall"
    caller_name: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDialing(CallEvent):
    """An outbound call the agent placed (or the backend placed for them) is being set up."""

    number: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(CallEvent):
    """The call is connected (answered by the agent, or the far end of an outbound call)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRetrieved(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(CallEvent):
    """The call went to ``target`` (blind, or a completed consultation); it ends for the agent."""

    target: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallConferenced(CallEvent):
    """The call and the consultation call ``other`` were joined."""

    other: CallId = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyAdded(CallEvent):
    party: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRemoved(CallEvent):
    party: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallEvent):
    """The call is over; ``cause``: normal, busy, rejected, failed, transferred, or the backend's."""

    cause: str = "normal"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallMissed(CallEvent):
    """An offered call stopped ringing without being answered (``abandoned``: the caller hung up)."""

    abandoned: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfReceived(CallEvent):
    digits: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStopped(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDataUpdated(CallEvent):
    """New or changed attached data (``[[cti.<key>]]``)."""

    data: Mapping[str, str] = field(default_factory=dict)


#: Where an adapter sends its events (the manager's queue; never blocks, never raises).
EventSink = Callable[[CtiEvent], None]


# ---------------------------------------------------------------------- settings
class AdapterSettings(BaseModel):
    """Base of an adapter's settings model: unknown keys are errors, as in the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------- the adapter
class Adapter(abc.ABC):
    """Base of every CTI adapter. Subclasses set :attr:`name`, :attr:`settings_model` and
    :attr:`capabilities` and implement the operations they offer."""

    #: The adapter type's name (its entry point's name): ``simulator``, ``http_listener``, ``baresip``.
    name: ClassVar[str] = ""
    #: The pydantic model its settings are validated with.
    settings_model: ClassVar[type[AdapterSettings]] = AdapterSettings
    #: The keyring service its credentials are read from (``None``: it needs none).
    keyring_service: ClassVar[str | None] = None
    #: The operations it implements (a subset of :data:`OPERATIONS`).
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: AdapterSettings, *, secrets: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.secrets = dict(secrets or {})
        self._sink: EventSink | None = None

    # -- lifecycle
    async def start(self, sink: EventSink) -> None:
        """Connect to the backend and start reporting events to ``sink`` (``ConnectionUp`` first).
        Raises :class:`CtiError` when the backend cannot be reached; the manager retries."""
        self._sink = sink
        await self.connect()

    @abc.abstractmethod
    async def connect(self) -> None:
        """Reach the backend (called by :meth:`start`, and again by the manager after a loss)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Disconnect and release everything (idempotent)."""

    async def resync(self) -> list[CtiEvent]:
        """After a reconnection: the backend's current calls and agent state, as events that
        bring the desktop's view up to date (default: nothing known)."""
        return []

    def emit(self, event: CtiEvent) -> None:
        """Report ``event`` (adapters call this; before :meth:`start` it is dropped)."""
        if self._sink is not None:
            self._sink(event)

    def _unsupported(self, operation: str) -> NotSupported:
        what = operation.replace("_", " ")
        return NotSupported(f"the {self.name or type(self).__name__} adapter cannot {what}")

    # -- agent
    async def login(self, agent: str, queues: tuple[str, ...] = ()) -> None:
        raise self._unsupported("login")

    async def logout(self) -> None:
        raise self._unsupported("logout")

    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        raise self._unsupported("set_agent_state")

    # -- calls
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        """Place a call; returns its id (the adapter reports ``CallDialing`` with the same id)."""
        raise self._unsupported("dial")

    async def answer(self, call: CallId) -> None:
        raise self._unsupported("answer")

    async def reject(self, call: CallId) -> None:
        raise self._unsupported("reject")

    async def hangup(self, call: CallId) -> None:
        raise self._unsupported("hangup")

    async def hold(self, call: CallId) -> None:
        raise self._unsupported("hold")

    async def retrieve(self, call: CallId) -> None:
        raise self._unsupported("retrieve")

    async def mute(self, call: CallId, muted: bool) -> None:
        raise self._unsupported("mute")

    async def send_dtmf(self, call: CallId, digits: str) -> None:
        raise self._unsupported("send_dtmf")

    async def blind_transfer(self, call: CallId, target: str) -> None:
        raise self._unsupported("blind_transfer")

    async def consult(self, call: CallId, target: str) -> CallId:
        """Hold ``call`` and dial ``target``; returns the consultation call's id."""
        raise self._unsupported("consult")

    async def complete_transfer(self, call: CallId, consultation: CallId) -> None:
        raise self._unsupported("complete_transfer")

    async def cancel_transfer(self, call: CallId, consultation: CallId) -> None:
        raise self._unsupported("cancel_transfer")

    async def conference(self, call: CallId, consultation: CallId) -> None:
        raise self._unsupported("conference")

    async def start_recording(self, call: CallId) -> None:
        raise self._unsupported("start_recording")

    async def stop_recording(self, call: CallId) -> None:
        raise self._unsupported("stop_recording")

    async def complete_wrap_up(self, call: CallId, disposition: str = "") -> None:  # noqa: B027
        """Tell the backend wrap-up is over (most backends have nothing to do: the default)."""


def settings_error_text(adapter: str, exc: Exception) -> str:
    """A pydantic validation error as one line per problem, naming the adapter and the field."""
    errors: list[dict[str, Any]] = getattr(exc, "errors", lambda: [])()
    if not errors:
        return f"CTI adapter {adapter}: {exc}"
    lines = [f"CTI adapter {adapter}, setting {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
             for e in errors]
    return "; ".join(lines)
