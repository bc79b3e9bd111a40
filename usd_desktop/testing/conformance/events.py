"""The conformance suite's event sink: it records what an adapter reports and checks each event.

Every event is checked as it arrives, in every check of the suite:

* it is one of the contract's event classes (or a subclass), and each of the contract's fields has
  the contract's type: text is ``str``, ``data`` maps ``str`` to ``str``, ``direction``,
  ``activity`` and agent ``state`` are among the contract's values, ``at`` is a ``datetime`` with a
  time zone, a call event names a call;
* a call's events follow its life: the first is ``CallOffered`` or ``CallDialing`` (the desktop
  ignores events of calls it never heard of), nothing follows its ``CallEnded`` or ``CallMissed``
  (after ``CallTransferred`` only ``CallEnded``), an ended call's id is never used again, and an
  answered call is not "missed";
* nothing comes after the suite closed the adapter.

A problem does not raise in the adapter (a sink never raises): it is kept in
:attr:`EventLog.problems`, and the check fails with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from usd_desktop.cti import contract
from usd_desktop.cti.contract import (
    CallAnswered,
    CallDialing,
    CallEnded,
    CallEvent,
    CallId,
    CallMissed,
    CallOffered,
    CallTransferred,
    CtiEvent,
)

E = TypeVar("E", bound=CtiEvent)

#: The contract's concrete event classes.
CONTRACT_EVENTS: tuple[type[CtiEvent], ...] = tuple(
    cls for cls in vars(contract).values()
    if isinstance(cls, type) and issubclass(cls, CtiEvent) and cls not in (CtiEvent, CallEvent)
)
_HINTS: dict[type[CtiEvent], dict[str, Any]] = {}


def describe(event: object) -> str:
    """``CallOffered(call='x', ani='1', ...)`` without the time."""
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return repr(event)
    parts = [f"{f.name}={getattr(event, f.name, None)!r}"
             for f in dataclasses.fields(event) if f.name != "at"]
    return f"{type(event).__name__}({', '.join(parts)})"


def _type_problem(hint: Any, value: Any) -> str | None:
    """Why ``value`` does not fit the contract's annotation ``hint`` (``None``: it fits)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        return None if value in allowed else f"{value!r} is not one of {', '.join(map(repr, allowed))}"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            return f"{value!r} is a {type(value).__name__}, not a mapping"
        bad = [(k, v) for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)]
        return f"{bad[0][0]!r}: {bad[0][1]!r} is not text: keys and values must be str" if bad else None
    if hint is datetime:
        if not isinstance(value, datetime):
            return f"{value!r} is not a datetime"
        return None if value.tzinfo is not None else f"{value!r} has no time zone (use UTC)"
    if hint is bool:
        return None if isinstance(value, bool) else f"{value!r} is a {type(value).__name__}, not a bool"
    if hint is str:
        return None if isinstance(value, str) else f"{value!r} is a {type(value).__name__}, not a str"
    return None


def event_problems(event: object) -> list[str]:
    """What is wrong with ``event`` as a contract event (empty: nothing)."""
    if not isinstance(event, CtiEvent):
        return [f"{event!r} is not a CtiEvent (the desktop drops it)"]
    base = next((cls for cls in type(event).__mro__ if cls in CONTRACT_EVENTS), None)
    if base is None:
        return [f"{type(event).__name__} is not one of the contract's events (the desktop ignores it)"]
    hints = _HINTS.get(base)
    if hints is None:
        hints = _HINTS[base] = typing.get_type_hints(base)
    problems = []
    for item in dataclasses.fields(base):
        wrong = _type_problem(hints[item.name], getattr(event, item.name, None))
        if wrong:
            problems.append(f"{base.__name__}.{item.name}: {wrong}")
    if isinstance(event, CallEvent) and not (isinstance(event.call, str) and event.call):
        problems.append(f"{base.__name__}.call is empty: every call event names its call")
    return problems


class EventLog:
    """The sink given to an adapter's ``start``: records and checks every event."""

    def __init__(self, adapter: str, timeout: float) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.events: list[CtiEvent] = []
        self.problems: list[str] = []
        self.closed = False
        self._taken: set[int] = set()
        self._arrived = asyncio.Event()
        self._live: dict[CallId, str] = {}  # call -> "ringing", "dialing", "answered", "transferred"
        self._over: dict[CallId, str] = {}  # an ended call -> the event that ended it

    # ------------------------------------------------------------------ the sink
    def __call__(self, event: CtiEvent) -> None:
        self.events.append(event)
        self._arrived.set()
        what = describe(event)
        if self.closed:
            self.problems.append(f"{what} came after close(): a closed adapter reports nothing")
        self.problems.extend(f"{what}: {problem}" for problem in event_problems(event))
        if isinstance(event, CallEvent) and isinstance(event.call, str) and event.call:
            self._follow(event, what)

    def _follow(self, event: CallEvent, what: str) -> None:
        call, kind = event.call, type(event).__name__
        if isinstance(event, CallOffered | CallDialing):
            if call in self._over:
                self.problems.append(f"{what} reuses the id of a call that ended ({self._over[call]}): "
                                     "every call needs an id of its own (the desktop ignores this one)")
            elif call not in self._live:
                self._live[call] = "ringing" if isinstance(event, CallOffered) else "dialing"
            return
        if call in self._over:
            self.problems.append(f"{what} came after the call's {self._over[call]}: the desktop ignores it")
            return
        state = self._live.get(call)
        if state is None:
            self.problems.append(f"{what}: the adapter never reported call {call!r} with CallOffered or "
                                 "CallDialing, so the desktop ignores its events")
            return
        if state == "transferred" and not isinstance(event, CallEnded):
            self.problems.append(f"{what} came after the call's CallTransferred (only CallEnded may follow)")
        if isinstance(event, CallAnswered):
            self._live[call] = "answered"
        elif isinstance(event, CallTransferred):
            self._live[call] = "transferred"
        elif isinstance(event, CallMissed) and state in ("answered", "transferred"):
            self.problems.append(f"{what}: the call was answered, so it cannot be missed (the desktop "
                                 "ignores CallMissed of a connected call: report CallEnded)")
        if isinstance(event, CallEnded | CallMissed):
            del self._live[call]
            self._over[call] = kind

    # ------------------------------------------------------------------ reading it
    def mark(self) -> int:
        """Where the log is now (for :meth:`since`)."""
        return len(self.events)

    def since(self, mark: int) -> list[CtiEvent]:
        return self.events[mark:]

    def of(self, call: CallId) -> list[CtiEvent]:
        return [e for e in self.events if isinstance(e, CallEvent) and e.call == call]

    def summary(self, events: list[CtiEvent] | None = None) -> str:
        shown = self.events if events is None else events
        if not shown:
            return "nothing"
        lines = [describe(e) for e in shown[-12:]]
        more = f"(and {len(shown) - 12} before) " if len(shown) > 12 else ""
        return more + "; ".join(lines)

    def fail_on_problems(self) -> None:
        if self.problems:
            raise AssertionError(f"the {self.adapter} adapter reported events the contract does not "
                                 "allow:\n  " + "\n  ".join(self.problems))

    def _match(self, kinds: tuple[type[CtiEvent], ...], call: CallId | None,
               fields: dict[str, Any]) -> tuple[int, CtiEvent] | None:
        for index, event in enumerate(self.events):
            if index in self._taken or not isinstance(event, kinds):
                continue
            if call is not None and getattr(event, "call", None) != call:
                continue
            if all(getattr(event, name, None) == value for name, value in fields.items()):
                return index, event
        return None

    async def expect(self, kind: type[E], *, after: str, call: CallId | None = None,
                     timeout: float | None = None, **fields: Any) -> E:
        """The first event not taken yet that is a ``kind`` (of ``call``, with ``fields``); it is taken.
        Fails, saying ``after`` what, when none comes in time."""
        found = await self.expect_any((kind,), after=after, call=call, timeout=timeout, **fields)
        assert isinstance(found, kind)
        return found

    async def expect_any(self, kinds: tuple[type[CtiEvent], ...], *, after: str, call: CallId | None = None,
                         timeout: float | None = None, **fields: Any) -> CtiEvent:
        limit = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            self.fail_on_problems()
            found = self._match(kinds, call, fields)
            if found is not None:
                self._taken.add(found[0])
                return found[1]
            left = deadline - loop.time()
            if left <= 0:
                names = " or ".join(k.__name__ for k in kinds)
                which = f" of call {call!r}" if call is not None else ""
                having = "".join(f", {k}={v!r}" for k, v in fields.items())
                raise AssertionError(
                    f"{after}: the {self.adapter} adapter reported no {names}{which}{having} within "
                    f"{limit:g} s; it reported: {self.summary()}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                pass

    async def quiet(self, seconds: float) -> list[CtiEvent]:
        """What arrives in the next ``seconds`` (for checks that something does *not* happen)."""
        start = self.mark()
        await asyncio.sleep(seconds)
        return self.since(start)
