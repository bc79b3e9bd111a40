"""One line of the agent's phone: a call, its state machine and its ``[[cti.*]]`` parameters (Qt-free).

A :class:`Call` is created by the :class:`~usd_desktop.cti.manager.CtiManager` from the adapter's
``CallOffered`` (inbound: ``ringing``) or ``CallDialing`` (outbound: ``dialing``) and then moved by
:meth:`Call.apply`::

    ringing ──CallAnswered──▶ connected ◀──CallRetrieved── held
    dialing ──CallAnswered──▶ connected ──CallHeld───────▶ held
    ringing / dialing ──CallMissed──▶ ended (cause "abandoned" or "missed")
    any live state ──CallEnded / CallTransferred──▶ ended (cause as reported / "transferred")

An event that makes no sense in the call's state (a second ``CallHeld``, an ``CallAnswered`` of a
held call, anything after the end) leaves the call as it is: :meth:`Call.apply` returns ``False``
and the event is logged once per kind of event and call, at debug level (backends repeat
themselves; resynchronisation after a reconnection re-reports what the desktop already knows).

The line stays after the call ended while the agent is in wrap-up (:attr:`Call.wrap_up`); the
manager removes it when the wrap-up completes.

**Numbers.** :attr:`Call.number` is the other party as reported (inbound: the ANI; an outbound
call offered by a dialer: the DNIS when given) or as dialled; :attr:`Call.number_e164` its E.164
form (:func:`phone_of`), ``""`` when it is not a phone number. A SIP URI whose user part is a phone
number (``sip:+358401234567@pbx``, ``sip:0401234567@pbx;user=phone``) gives that number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from usd_desktop.cti.contract import (
    Activity,
    CallAnswered,
    CallConferenced,
    CallDataUpdated,
    CallDialing,
    CallEnded,
    CallEvent,
    CallHeld,
    CallId,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    CtiEvent,
    Direction,
    DtmfReceived,
    PartyAdded,
    PartyRemoved,
    RecordingStarted,
    RecordingStopped,
)
from usd_desktop.data.phones import normalise

log = logging.getLogger(__name__)

CallState = Literal["ringing", "dialing", "connected", "held", "ended"]
#: The states of a call the agent is on (the agent state is ``on_call`` while any call is in one).
LIVE: tuple[CallState, ...] = ("dialing", "connected", "held")
#: URL schemes a number to dial may come with.
URL_SCHEMES = ("tel:", "callto:", "sip:", "sips:")
_VISUAL_SEPARATORS = str.maketrans("", "", " -.()/\u00a0")


def dial_target(text: str) -> str:
    """What to pass to the adapter's ``dial`` for ``text`` typed, clicked or scripted.

    - ``tel:`` and ``callto:`` URLs give their number without the visual separators
      (``tel:+358 40-123 4567;phone-context=x`` → ``+358401234567``; ``callto://0401234567``);
    - ``sip:`` / ``sips:`` URIs are kept whole (``sip:alice@pbx.example``): a SIP adapter needs the
      host, and any other adapter refuses them itself;
    - anything else is the number as written, stripped.
    """
    value = text.strip()
    lower = value.lower()
    if lower.startswith(("sip:", "sips:")):
        return value
    for scheme in ("tel:", "callto:"):
        if lower.startswith(scheme):
            rest = value[len(scheme):].lstrip("/")
            rest = rest.split(";", 1)[0].split("?", 1)[0]
            return rest.translate(_VISUAL_SEPARATORS)
    return value


def phone_of(number: str, region: str) -> str:
    """``number`` (or the user part of a SIP URI) in E.164; ``""`` when it is not a phone number."""
    value = number.strip()
    lower = value.lower()
    if lower.startswith(("sip:", "sips:")):
        user = value.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
        if not user or not any(ch.isdigit() for ch in user) or any(ch.isalpha() for ch in user):
            return ""
        value = user
    elif lower.startswith(("tel:", "callto:")):
        value = dial_target(value)
    return normalise(value, region) or ""


@dataclass
class Call:
    """A call on one of the agent's lines, as the desktop knows it now."""

    id: CallId
    direction: Direction
    activity: Activity
    state: CallState
    ani: str = ""
    dnis: str = ""
    queue: str = ""
    caller_name: str = ""
    #: The other party as dialled or reported (see the module documentation).
    number: str = ""
    #: :attr:`number` in E.164; ``""`` when it is not a phone number.
    number_e164: str = ""
    #: Attached data (IVR answers, CRM ids...): ``[[cti.<key>]]``.
    data: dict[str, str] = field(default_factory=dict)
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wrap_up_ended_at: datetime | None = None
    #: Hold time so far, not counting a hold under way (see :meth:`hold_total`).
    hold_seconds: float = 0.0
    held_since: datetime | None = None
    transfers: int = 0
    muted: bool = False
    recording: bool = False
    #: Why the call ended (``normal``, ``busy``, ``rejected``, ``transferred``, ``missed``,
    #: ``abandoned``, ``lost``, ``conferenced`` or the backend's word); ``""`` while it lasts.
    cause: str = ""
    disposition: str = ""
    #: On a consultation call: the call it consults for (the one held meanwhile).
    consultation_of: CallId | None = None
    #: The id of the interaction record written for the call (set by the interaction recorder).
    interaction_id: str | None = None
    #: The call ended and its wrap-up has not completed yet.
    wrap_up: bool = False
    #: The connection to the backend dropped and the call has not been resynchronised yet.
    stale: bool = False
    #: The parties added to the call (conference, consultation) as the backend named them.
    parties: list[str] = field(default_factory=list)
    #: Digits the far end sent.
    dtmf: str = ""
    _ignored: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ making one
    @classmethod
    def from_event(cls, event: CallOffered | CallDialing, *, region: str) -> Call:
        """The call an adapter reported with ``CallOffered`` (ringing) or ``CallDialing`` (dialing)."""
        if isinstance(event, CallOffered):
            number = event.dnis if event.direction == "outbound" and event.dnis else event.ani
            return cls(
                id=event.call, direction=event.direction, activity=event.activity, state="ringing",
                ani=event.ani, dnis=event.dnis, queue=event.queue, caller_name=event.caller_name,
                number=number, number_e164=phone_of(number, region), data=_text_map(event.data),
                offered_at=event.at,
            )
        return cls(
            id=event.call, direction="outbound", activity="phonecall", state="dialing",
            dnis=event.number, number=event.number, number_e164=phone_of(event.number, region),
            data=_text_map(event.data), offered_at=event.at,
        )

    # ------------------------------------------------------------------ reading
    @property
    def ended(self) -> bool:
        return self.state == "ended"

    @property
    def live(self) -> bool:
        """The agent is on this call (dialing, connected or held)."""
        return self.state in LIVE

    def hold_total(self, now: datetime) -> float:
        """Hold seconds including a hold under way at ``now``."""
        if self.held_since is None:
            return self.hold_seconds
        return self.hold_seconds + max(0.0, (now - self.held_since).total_seconds())

    def parameters(self) -> dict[str, str]:
        """The ``[[cti.*]]`` replacement parameters of the call.

        Every attached-data key, then the built-ins, which win over a data key of the same name
        (a backend's ``state`` or ``ani`` in the attached data cannot hide the call's own):
        ``ani``, ``dnis``, ``queue``, ``callid``, ``direction``, ``type`` (the activity),
        ``state``, ``number``, ``number_e164``, ``callername``, once written ``interactionid``,
        and once ended ``cause``.
        """
        params = dict(self.data)
        params.update({
            "ani": self.ani,
            "dnis": self.dnis,
            "queue": self.queue,
            "callid": self.id,
            "direction": self.direction,
            "type": self.activity,
            "state": self.state,
            "number": self.number,
            "number_e164": self.number_e164,
            "callername": self.caller_name,
        })
        if self.interaction_id:
            params["interactionid"] = self.interaction_id
        if self.cause:
            params["cause"] = self.cause
        return params

    # ------------------------------------------------------------------ the state machine
    def apply(self, event: CtiEvent) -> bool:
        """Move the call by ``event``; ``False`` (and the call unchanged) when it makes no sense now."""
        if not isinstance(event, CallEvent) or event.call != self.id:
            return self._ignore(event)
        changed = self._transition(event)
        if not changed:
            return self._ignore(event)
        return True

    def _transition(self, event: CallEvent) -> bool:
        if isinstance(event, CallOffered | CallDialing):
            return not self.ended and self._refresh(event)
        if isinstance(event, CallAnswered):
            if self.state not in ("ringing", "dialing"):
                return False
            self.state = "connected"
            self.answered_at = event.at
            return True
        if isinstance(event, CallHeld):
            if self.state != "connected":
                return False
            self.state = "held"
            self.held_since = event.at
            return True
        if isinstance(event, CallRetrieved):
            if self.state != "held":
                return False
            self._close_hold(event.at)
            self.state = "connected"
            return True
        if isinstance(event, CallTransferred):
            if self.ended:
                return False
            self.transfers += 1
            if event.target and event.target not in self.parties:
                self.parties.append(event.target)
            self._end(event.at, "transferred")
            return True
        if isinstance(event, CallEnded):
            if self.ended:
                return False
            self._end(event.at, event.cause or "normal")
            return True
        if isinstance(event, CallMissed):
            if self.state not in ("ringing", "dialing"):
                return False
            self._end(event.at, "abandoned" if event.abandoned else "missed")
            return True
        if self.ended:
            return False
        return self._in_call(event)

    def _in_call(self, event: CallEvent) -> bool:
        """Events that change a live call without moving its state."""
        if isinstance(event, CallConferenced):
            if self.state not in ("connected", "held"):
                return False
            if self.state == "held":
                self._close_hold(event.at)
            self.state = "connected"
            if event.other and event.other not in self.parties:
                self.parties.append(event.other)
            return True
        if isinstance(event, PartyAdded):
            if not event.party or event.party in self.parties:
                return False
            self.parties.append(event.party)
            return True
        if isinstance(event, PartyRemoved):
            if event.party not in self.parties:
                return False
            self.parties.remove(event.party)
            return True
        if isinstance(event, DtmfReceived):
            if not event.digits:
                return False
            self.dtmf += event.digits
            return True
        if isinstance(event, RecordingStarted | RecordingStopped):
            recording = isinstance(event, RecordingStarted)
            if self.recording == recording:
                return False
            self.recording = recording
            return True
        if isinstance(event, CallDataUpdated):
            data = _text_map(event.data)
            if all(self.data.get(k) == v for k, v in data.items()):
                return False
            self.data.update(data)
            return True
        return False

    def _refresh(self, event: CallOffered | CallDialing) -> bool:
        """A repeated report of the call (resynchronisation, a late ``CallDialing``): new details."""
        before = (self.ani, self.dnis, self.queue, self.caller_name, self.number, dict(self.data))
        if isinstance(event, CallOffered):
            self.ani = event.ani or self.ani
            self.dnis = event.dnis or self.dnis
            self.queue = event.queue or self.queue
            self.caller_name = event.caller_name or self.caller_name
        elif event.number and not self.number:
            self.number = self.dnis = event.number
        self.data.update(_text_map(event.data))
        return before != (self.ani, self.dnis, self.queue, self.caller_name, self.number, self.data)

    def _close_hold(self, at: datetime) -> None:
        if self.held_since is not None:
            self.hold_seconds += max(0.0, (at - self.held_since).total_seconds())
        self.held_since = None

    def _end(self, at: datetime, cause: str) -> None:
        self._close_hold(at)
        self.state = "ended"
        self.ended_at = at
        self.cause = cause

    def _ignore(self, event: CtiEvent) -> bool:
        kind = type(event).__name__
        if kind not in self._ignored:
            self._ignored.add(kind)
            log.debug("call %s (%s): %s ignored", self.id, self.state, kind)
        return False


def _text_map(data: object) -> dict[str, str]:
    """Attached data as ``str -> str`` (a backend's numbers as text, ``None`` as ``""``)."""
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, value in data.items():
        out[str(key)] = "" if value is None else str(value)
    return out


__all__ = ["LIVE", "URL_SCHEMES", "Call", "CallState", "dial_target", "phone_of"]
