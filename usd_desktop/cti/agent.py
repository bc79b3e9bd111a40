"""The agent's state: offline, available, not ready (with a reason), on a call, after-call work.

:class:`AgentStateMachine` holds what the agent *is* between calls (the base state: ``offline``,
``available`` or ``not_ready`` with a reason) and derives what they are *now* from their calls:

- **on_call** while any call is dialing, connected or held (a ringing call alone does not count:
  the agent is not on it until it is answered);
- **wrap_up** after the last live call ended while a call is still in wrap-up, for
  ``wrap_up_seconds`` (an asyncio timer; ``0``: the manager puts no call in wrap-up); a new call
  answered meanwhile pauses the wrap-up, whose timer starts again when that call ends;
- when the wrap-up completes (explicitly, or the timer) the agent goes to the state they asked for
  meanwhile (``not_ready`` with its reason, or ``offline``), else ``available`` (an agent who was
  ``offline`` before the call, a softphone user without a login, stays ``offline``).

What the agent asks for while on a call or in wrap-up is remembered (:attr:`AgentStatus.next_state`)
and applied then. The backend's own reports (:meth:`AgentStateMachine.report`) set the base state
between calls; during a call a reported ``not_ready`` or ``offline`` (a supervisor, the phone's own
button) becomes the state after the wrap-up, and a reported ``on_call`` or ``wrap_up`` is left to
the calls to decide.

``clock`` (default: now, UTC) is injectable; the timer runs on the running event loop and is
cancelled when the wrap-up ends early. :meth:`AgentStateMachine.expire` is the timer's callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from usd_desktop.cti.contract import AgentStateName

log = logging.getLogger(__name__)

#: The states an agent (or the backend) can set; ``on_call`` and ``wrap_up`` follow the calls.
SETTABLE: tuple[AgentStateName, ...] = ("offline", "available", "not_ready")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AgentStatus:
    """The agent's state as shown: since when, until when the wrap-up runs, and what comes next."""

    state: AgentStateName
    reason: str = ""
    since: datetime = _EPOCH
    #: While in ``wrap_up`` with a timer: when it expires.
    wrap_up_deadline: datetime | None = None
    #: What the agent asked for during the call or wrap-up (applied after it), else ``None``.
    next_state: AgentStateName | None = None
    next_reason: str = ""


class AgentStateMachine:
    """The agent state rules (see the module documentation); ``on_change`` hears every new status.

    ``on_expire`` is called when the wrap-up timer fires (the manager completes the calls' wrap-up
    and then calls :meth:`update`); without it the machine ends the wrap-up itself.
    """

    def __init__(
        self,
        *,
        wrap_up_seconds: float = 60.0,
        clock: Callable[[], datetime] | None = None,
        on_change: Callable[[AgentStatus], None] | None = None,
        on_expire: Callable[[], None] | None = None,
    ) -> None:
        self.wrap_up_seconds = max(0.0, float(wrap_up_seconds))
        self.clock = clock or utc_now
        self.on_change = on_change
        self.on_expire = on_expire
        self._base: tuple[AgentStateName, str] = ("offline", "")
        self._requested: tuple[AgentStateName, str] | None = None
        self._busy = False
        self._wrapping = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: datetime | None = None
        self._status = AgentStatus("offline", "", self.clock())

    # ------------------------------------------------------------------ reading
    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def engaged(self) -> bool:
        """On a call or in wrap-up: state requests wait until it is over."""
        return self._busy or self._wrapping

    @property
    def requested(self) -> tuple[AgentStateName, str] | None:
        """The state (and reason) to go to after the call and wrap-up, when the agent asked."""
        return self._requested

    @property
    def timer_running(self) -> bool:
        return self._timer is not None

    # ------------------------------------------------------------------ inputs
    def request(self, state: AgentStateName, reason: str = "", at: datetime | None = None) -> bool:
        """The agent asks for ``state``: applied now (``True``) or after the call and wrap-up."""
        if state not in SETTABLE:
            raise ValueError(f"the agent state {state!r} follows the calls and cannot be set")
        reason = reason if state == "not_ready" else ""
        if self.engaged:
            self._requested = (state, reason)
            self._show(at)
            return False
        self._base = (state, reason)
        self._show(at)
        return True

    def report(self, state: AgentStateName, reason: str = "", at: datetime | None = None) -> None:
        """The backend reports the agent's state (``AgentStateChanged``)."""
        if state not in SETTABLE:
            log.debug("agent state %s reported by the backend: the calls decide", state)
            return
        reason = reason if state == "not_ready" else ""
        if self.engaged:
            if state != "available":
                self._requested = (state, reason)
                self._show(at)
            return
        self._base = (state, reason)
        self._show(at)

    def update(
        self, *, busy: bool, wrapping: bool, at: datetime | None = None
    ) -> tuple[AgentStateName, str] | None:
        """The calls changed: ``busy`` (a live call), ``wrapping`` (a call in wrap-up).

        Returns the state the agent settles in when a call and its wrap-up just ended (the manager
        tells the backend), else ``None``.
        """
        was_engaged = self.engaged
        self._busy, self._wrapping = busy, wrapping
        settled: tuple[AgentStateName, str] | None = None
        if busy or not wrapping:
            self._cancel_timer()
        if not busy and wrapping and self._timer is None and self._status.state != "wrap_up":
            self._start_timer()
        if was_engaged and not self.engaged:
            base_state = self._base[0]
            settled = self._requested or (("offline", "") if base_state == "offline" else ("available", ""))
            self._requested = None
            self._base = settled
        self._show(at)
        return settled

    def expire(self) -> None:
        """The wrap-up timer fired."""
        self._timer = None
        if not self._wrapping or self._busy:
            return
        if self.on_expire is not None:
            self.on_expire()
        else:
            self.update(busy=self._busy, wrapping=False)

    def close(self) -> None:
        self._cancel_timer()

    # ------------------------------------------------------------------ internals
    def _start_timer(self) -> None:
        if self.wrap_up_seconds <= 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): the wrap-up ends when completed
            return
        self._timer = loop.call_later(self.wrap_up_seconds, self.expire)
        self._deadline = self.clock() + timedelta(seconds=self.wrap_up_seconds)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _show(self, at: datetime | None) -> None:
        if self._busy:
            state: AgentStateName = "on_call"
            reason = ""
        elif self._wrapping:
            state, reason = "wrap_up", ""
        else:
            state, reason = self._base
        deadline = self._deadline if state == "wrap_up" and self._timer is not None else None
        next_state, next_reason = self._requested or (None, "")
        old = self._status
        since = old.since if (state, reason) == (old.state, old.reason) else (at or self.clock())
        new = replace(old, state=state, reason=reason, since=since, wrap_up_deadline=deadline,
                      next_state=next_state, next_reason=next_reason)
        if new == old:
            return
        self._status = new
        if self.on_change is not None:
            try:
                self.on_change(new)
            except Exception:
                log.exception("agent state listener failed")


__all__ = ["SETTABLE", "AgentStateMachine", "AgentStatus", "utc_now"]
