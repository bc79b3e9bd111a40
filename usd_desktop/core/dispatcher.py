"""The dispatcher: events -> ordered action calls -> condition -> replacement -> the control's action.

For one action call:

1. the loop guard: a chain of action calls and events deeper than ``max_chain_depth`` fails with
   :class:`ChainTooDeep` naming the path (no hang, no stack overflow);
2. the condition is rendered and evaluated (:mod:`conditions`); false or a throw skips the call
   (yellow); a missing parameter aborts it (red), as USD does;
3. the Data field is rendered line by line (:mod:`datafield`); a missing parameter aborts the whole
   call, its sub-action calls included: *"Not all parameters in action call X are available"*;
4. the deferring actions ``ExecuteOnTimeout``, ``ExecuteOnDataAvailable`` and
   ``ExecuteOnExpressionTrue`` are handled here whatever the target control (as USD's Global Manager
   intercepts them); they postpone the sub-action calls without blocking anything and are cancelled
   with the session that owns them;
5. otherwise the target control's ``do_action`` is awaited; its result goes to ``$Return.<Name>``;
6. the sub-action calls run, in order.

Each step is written to the :class:`TraceJournal` with its outcome and duration.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from usd_desktop.core import conditions, datafield
from usd_desktop.core.context import ChangeSet, Session, Sessions
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import MissingParameter, ReplacementError, UsdError
from usd_desktop.core.monikers import ActionCallMoniker, EventMoniker, UiiMoniker, parse_moniker
from usd_desktop.core.trace import Outcome, TraceJournal, TraceRecord

log = logging.getLogger(__name__)

DEFERRING_ACTIONS = frozenset({"executeontimeout", "executeondataavailable", "executeonexpressiontrue"})
DEFAULT_MAX_CHAIN_DEPTH = 32
DEFAULT_POLL_MS = 250


class ActionCallDef(Protocol):
    """What the dispatcher reads of an action call (the configuration schema provides it)."""

    @property
    def name(self) -> str: ...
    @property
    def control(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def data(self) -> str: ...
    @property
    def condition(self) -> str: ...
    @property
    def order(self) -> int: ...
    @property
    def sub_action_calls(self) -> Sequence[str]: ...


class ActionTarget(Protocol):
    """A hosted-control instance, as the dispatcher sees it."""

    async def do_action(self, action: str, data: ActionData, call: CallContext) -> str | None: ...


class ControlDirectory(Protocol):
    """Finds (and creates on demand) the instance of a control for a session."""

    def resolve(self, control: str, session: Session) -> ActionTarget:
        """Return the instance; raise :class:`ActionError` when there is no such control."""
        ...

    def is_global(self, control: str) -> bool | None:
        """Whether the control lives in the global session; ``None`` when it is unknown."""
        ...


@dataclass(frozen=True, slots=True)
class Chain:
    """The causal chain an action call runs in: for the loop guard and the trace."""

    id: str
    depth: int = 0
    path: tuple[str, ...] = ()

    @classmethod
    def new(cls) -> Chain:
        return cls(uuid.uuid4().hex[:12])

    def child(self, label: str) -> Chain:
        return Chain(self.id, self.depth + 1, (*self.path, label))


@dataclass(slots=True)
class CallContext:
    """Handed to ``do_action``: where the call runs and how to reach the runtime."""

    dispatcher: Dispatcher
    session: Session
    chain: Chain
    event: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    seq: int = 0

    def data(self) -> dict[str, Any]:
        return self.dispatcher.sessions.data_for(self.session, self.event)


@dataclass(frozen=True, slots=True)
class CallOutcome:
    name: str
    outcome: Outcome
    result: str | None = None
    reason: str = ""
    record: TraceRecord | None = None


class Dispatcher:
    """Runs events, action calls and direct actions against the hosted controls."""

    def __init__(
        self,
        sessions: Sessions,
        controls: ControlDirectory,
        journal: TraceJournal | None = None,
        *,
        max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH,
    ) -> None:
        self.sessions = sessions
        self.controls = controls
        self.journal = journal or TraceJournal()
        self.max_chain_depth = max_chain_depth
        self.action_calls: dict[str, ActionCallDef] = {}
        self.events: dict[tuple[str, str], list[str]] = {}
        self.scriptlets: dict[str, str] = {}
        self._deferred: dict[str, set[asyncio.Task[None]]] = {}
        sessions.session_closed.connect(self.cancel_deferred)

    # ------------------------------------------------------------------ configuration
    def load(
        self,
        action_calls: Sequence[ActionCallDef],
        events: Mapping[tuple[str, str], Sequence[str]],
        scriptlets: Mapping[str, str] | None = None,
    ) -> None:
        self.action_calls = {ac.name: ac for ac in action_calls}
        self.events = {(c, e.lower()): list(names) for (c, e), names in events.items()}
        self.scriptlets = dict(scriptlets or {})

    # ------------------------------------------------------------------ events
    async def fire_event(
        self,
        control: str,
        event: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        session: Session | None = None,
        chain: Chain | None = None,
    ) -> list[CallOutcome]:
        """Run the action calls configured for ``control``'s ``event``, in their order."""
        session = session or self.sessions.active
        params = {k: "" if v is None else str(v) for k, v in (parameters or {}).items()}
        chain = (chain or Chain.new()).child(f"{control}.{event}")
        names = self.events.get((control, event.lower()), [])
        calls = sorted(
            (self.action_calls[n] for n in names if n in self.action_calls),
            key=lambda ac: ac.order,
        )
        record = self._record(
            "event",
            event,
            Outcome.FIRED,
            control=control,
            session=session,
            chain=chain,
            parameters=params,
            reason=f"{len(calls)} action call(s)",
        )
        if chain.depth > self.max_chain_depth:
            record.outcome = Outcome.FAILED
            record.reason = self._too_deep(chain)
            return []
        unknown = [n for n in names if n not in self.action_calls]
        if unknown:
            log.warning("event %s.%s names unknown action calls: %s", control, event, unknown)
        outcomes = []
        for call in calls:
            outcomes.append(
                await self._run_call(call, session, params, chain, parent=record.seq)
            )
        return outcomes

    # ------------------------------------------------------------------ action calls
    async def run_action_call(
        self,
        name: str,
        *,
        session: Session | None = None,
        event: Mapping[str, str] | None = None,
        chain: Chain | None = None,
    ) -> CallOutcome:
        """Run a configured action call by name (toolbar buttons, shortcuts, monikers, debugger)."""
        session = session or self.sessions.active
        call = self.action_calls.get(name)
        if call is None:
            record = self._record(
                "action_call", name, Outcome.FAILED, session=session, chain=chain or Chain.new(),
                reason=f"no action call named {name!r}",
            )
            return CallOutcome(name, Outcome.FAILED, reason=record.reason, record=record)
        return await self._run_call(call, session, dict(event or {}), chain or Chain.new())

    async def run_action(
        self,
        control: str,
        action: str,
        data: str = "",
        *,
        session: Session | None = None,
        event: Mapping[str, str] | None = None,
        chain: Chain | None = None,
        name: str = "",
        literal: bool = False,
    ) -> CallOutcome:
        """Run an action directly (the debugger's "Direct Action", ``https://uii/`` monikers).

        ``literal``: take ``data`` as it is, without replacement parameters.
        """
        call = _DirectCall(name, control, action, data, literal=literal)
        session = session or self.sessions.active
        return await self._run_call(call, session, dict(event or {}), chain or Chain.new())

    async def _run_call(
        self,
        call: ActionCallDef,
        session: Session,
        event: dict[str, str],
        chain: Chain,
        parent: int | None = None,
    ) -> CallOutcome:
        chain = chain.child(call.name or f"{call.control}.{call.action}")
        kind = "action_call" if call.name else "action"
        base: dict[str, Any] = {"control": call.control, "action": call.action, "session": session,
                "chain": chain, "parent": parent}
        start = time.perf_counter()
        if chain.depth > self.max_chain_depth:
            rec = self._record(kind, call.name, Outcome.FAILED, reason=self._too_deep(chain), **base)
            return CallOutcome(call.name, Outcome.FAILED, reason=rec.reason, record=rec)

        data_view = self.sessions.data_for(session, event)
        verdict = conditions.evaluate_condition(
            call.condition, data_view, scriptlets=self.scriptlets
        )
        if not verdict.run:
            outcome = Outcome.ABORTED if verdict.missing else Outcome.SKIPPED
            reason = (
                self._missing_reason(call, verdict.missing) if verdict.missing else verdict.reason
            )
            rec = self._record(kind, call.name, outcome, condition=verdict.rendered,
                               reason=reason, started=start, **base)
            return CallOutcome(call.name, outcome, reason=reason, record=rec)

        if call.action.lower() in DEFERRING_ACTIONS:
            return self._defer(call, session, event, chain, verdict.rendered, base, start)

        try:
            if getattr(call, "literal", False):
                data = ActionData.parse(call.data)
            else:
                data = datafield.render_data(call.data, data_view, scriptlets=self.scriptlets)
        except MissingParameter as exc:
            reason = self._missing_reason(call, exc)
            rec = self._record(kind, call.name, Outcome.ABORTED, condition=verdict.rendered,
                               reason=reason, started=start, **base)
            return CallOutcome(call.name, Outcome.ABORTED, reason=reason, record=rec)
        except UsdError as exc:
            rec = self._record(kind, call.name, Outcome.FAILED, condition=verdict.rendered,
                               reason=str(exc), started=start, **base)
            return CallOutcome(call.name, Outcome.FAILED, reason=str(exc), record=rec)

        seq = self.journal.next_seq()
        context = CallContext(self, session, chain, event, call.name, seq)
        try:
            target = self.controls.resolve(call.control, session)
            result = await target.do_action(call.action, data, context)
        except asyncio.CancelledError:
            raise
        except UsdError as exc:
            rec = self._record(kind, call.name, Outcome.FAILED, data=data.raw, seq=seq,
                               condition=verdict.rendered, reason=str(exc), started=start, **base)
            return CallOutcome(call.name, Outcome.FAILED, reason=str(exc), record=rec)
        except Exception as exc:
            log.exception("action %s.%s failed", call.control, call.action)
            reason = f"{type(exc).__name__}: {exc}"
            rec = self._record(kind, call.name, Outcome.FAILED, data=data.raw, seq=seq,
                               condition=verdict.rendered, reason=reason, started=start, **base)
            return CallOutcome(call.name, Outcome.FAILED, reason=reason, record=rec)

        if call.name and result is not None:
            session.store.set("$Return", call.name, result)
        rec = self._record(kind, call.name, Outcome.RAN, data=data.raw, seq=seq,
                           condition=verdict.rendered, result=result, started=start, **base)
        for sub in self._subs(call):
            await self._run_call(sub, session, event, chain, parent=rec.seq)
        return CallOutcome(call.name, Outcome.RAN, result=result, record=rec)

    def _subs(self, call: ActionCallDef) -> list[ActionCallDef]:
        subs = []
        for name in call.sub_action_calls:
            sub = self.action_calls.get(name)
            if sub is None:
                log.warning("action call %s names unknown sub-action call %s", call.name, name)
            else:
                subs.append(sub)
        return sorted(subs, key=lambda ac: ac.order)  # stable: ties keep list order

    # ------------------------------------------------------------------ deferring actions
    def _defer(
        self,
        call: ActionCallDef,
        session: Session,
        event: dict[str, str],
        chain: Chain,
        condition: str,
        base: dict[str, Any],
        start: float,
    ) -> CallOutcome:
        kind = "action_call" if call.name else "action"
        lines = datafield.split_data(call.data)
        settings, rest = _split_settings(lines, ("milliseconds", "interval"))
        data_view = self.sessions.data_for(session, event)
        try:
            timeout_ms = _int_setting(settings, "milliseconds", data_view, self.scriptlets)
            interval_ms = _int_setting(settings, "interval", data_view, self.scriptlets)
        except (ReplacementError, ValueError) as exc:
            rec = self._record(kind, call.name, Outcome.FAILED, reason=str(exc),
                               condition=condition, started=start, **base)
            return CallOutcome(call.name, Outcome.FAILED, reason=str(exc), record=rec)
        action = call.action.lower()
        if action == "executeontimeout" and timeout_ms is None:
            timeout_ms = 0
        owner = session
        if self.controls.is_global(call.control):
            owner = self.sessions.global_session
        what = {
            "executeontimeout": f"runs its sub-action calls in {timeout_ms} ms",
            "executeondataavailable": "waits for " + ", ".join(rest or ["(nothing)"]),
            "executeonexpressiontrue": "waits until " + " ".join(rest),
        }[action]
        limit = f" (gives up after {timeout_ms} ms)" if timeout_ms and action != "executeontimeout" else ""
        rec = self._record(kind, call.name, Outcome.DEFERRED, data=call.data, condition=condition,
                           reason=what + limit, started=start, **base)
        task = asyncio.ensure_future(
            self._deferred_run(call, action, session, event, chain, rec, rest, timeout_ms,
                               interval_ms or DEFAULT_POLL_MS)
        )
        bucket = self._deferred.setdefault(owner.id, set())
        bucket.add(task)
        task.add_done_callback(bucket.discard)

        def note_cancel(done: asyncio.Task[None]) -> None:
            if done.cancelled():
                self._record(kind, call.name, Outcome.ABANDONED, control=call.control,
                             action=call.action, session=session, chain=chain, parent=rec.seq,
                             reason="cancelled: its session closed")

        task.add_done_callback(note_cancel)
        return CallOutcome(call.name, Outcome.DEFERRED, reason=rec.reason, record=rec)

    async def _deferred_run(
        self,
        call: ActionCallDef,
        action: str,
        session: Session,
        event: dict[str, str],
        chain: Chain,
        deferred: TraceRecord,
        rest: list[str],
        timeout_ms: int | None,
        interval_ms: int,
    ) -> None:
        start = time.perf_counter()
        kind = "action_call" if call.name else "action"
        if action == "executeontimeout":
            await asyncio.sleep((timeout_ms or 0) / 1000)
            reason = f"timer of {timeout_ms} ms elapsed"
        else:
            ready = await self._wait_until(action, session, event, rest, timeout_ms, interval_ms)
            if not ready:
                self._record(kind, call.name, Outcome.ABANDONED, control=call.control,
                             action=call.action, session=session, chain=chain,
                             parent=deferred.seq, started=start,
                             reason=f"gave up after {timeout_ms} ms")
                return
            reason = f"condition met after {(time.perf_counter() - start) * 1000:.0f} ms"
        rec = self._record(kind, call.name, Outcome.RAN, control=call.control, action=call.action,
                           session=session, chain=chain, parent=deferred.seq, reason=reason,
                           started=start)
        for sub in self._subs(call):
            await self._run_call(sub, session, event, chain, parent=rec.seq)

    async def _wait_until(
        self,
        action: str,
        session: Session,
        event: dict[str, str],
        rest: list[str],
        timeout_ms: int | None,
        interval_ms: int,
    ) -> bool:
        changed = asyncio.Event()

        def on_change(change: ChangeSet) -> None:
            if change.session_id in (session.id, self.sessions.global_session.id):
                changed.set()

        dispose = self.sessions.changed.connect(on_change)
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        try:
            while True:
                changed.clear()
                if self._satisfied(action, session, event, rest):
                    return True
                wait: float | None = None
                if action == "executeonexpressiontrue":
                    wait = interval_ms / 1000
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    wait = left if wait is None else min(wait, left)
                try:
                    await asyncio.wait_for(changed.wait(), wait)
                except TimeoutError:
                    pass
        finally:
            dispose()

    def _satisfied(
        self, action: str, session: Session, event: dict[str, str], rest: list[str]
    ) -> bool:
        data_view = self.sessions.data_for(session, event)
        if action == "executeondataavailable":
            for line in rest:
                try:
                    datafield.render_data(line, data_view, scriptlets=self.scriptlets)
                except UsdError:
                    return False
            return True
        expression = "\n".join(rest)
        return conditions.evaluate_condition(expression, data_view, scriptlets=self.scriptlets).run

    def cancel_deferred(self, session: Session) -> int:
        """Cancel the deferred work owned by ``session`` (it closed); returns how many."""
        tasks = self._deferred.pop(session.id, set())
        for task in tasks:
            task.cancel()
        return len(tasks)

    def cancel_all(self) -> list[asyncio.Task[None]]:
        """Cancel every deferred action (the desktop is shutting down); returns the tasks."""
        tasks = [task for bucket in self._deferred.values() for task in bucket]
        self._deferred.clear()
        for task in tasks:
            task.cancel()
        return tasks

    def pending(self, session: Session | None = None) -> int:
        if session is None:
            return sum(len(t) for t in self._deferred.values())
        return len(self._deferred.get(session.id, ()))

    # ------------------------------------------------------------------ monikers
    async def open_moniker(
        self, url: str, *, source: str = "", session: Session | None = None, trusted: bool = True
    ) -> bool:
        """Handle an ``https://event/``, ``https://uii/`` or ``https://actioncall/`` URL.

        Returns ``False`` for an ordinary URL (the caller navigates to it). A moniker from a web
        page is not *trusted*: its ``https://uii/`` data is taken literally, so a page cannot read
        the desktop's data parameters by writing ``[[...]]`` into a link.
        """
        moniker = parse_moniker(url)
        if moniker is None:
            return False
        if isinstance(moniker, EventMoniker):
            await self.fire_event(source, moniker.event, moniker.parameters, session=session)
        elif isinstance(moniker, UiiMoniker):
            await self.run_action(moniker.control, moniker.action, moniker.data, session=session,
                                  literal=not trusted)
        elif isinstance(moniker, ActionCallMoniker):
            await self.run_action_call(moniker.name, session=session)
        return True

    # ------------------------------------------------------------------ trace helpers
    def _record(
        self,
        kind: str,
        name: str,
        outcome: Outcome,
        *,
        session: Session,
        chain: Chain,
        control: str = "",
        action: str = "",
        parent: int | None = None,
        started: float | None = None,
        seq: int | None = None,
        **fields: Any,
    ) -> TraceRecord:
        duration = 0.0 if started is None else (time.perf_counter() - started) * 1000
        began = datetime.now(UTC) - timedelta(milliseconds=duration)
        record = TraceRecord(
            seq=seq or self.journal.next_seq(),
            kind=kind,
            name=name,
            outcome=outcome,
            control=control,
            action=action,
            session_id=session.id,
            chain=chain.id,
            depth=chain.depth,
            parent=parent,
            duration_ms=round(duration, 3),
            started=began.isoformat(timespec="milliseconds"),
            **fields,
        )
        return self.journal.record(record)

    @staticmethod
    def _missing_reason(call: ActionCallDef, exc: MissingParameter) -> str:
        label = call.name or f"{call.control}.{call.action}"
        return (
            f"Not all parameters in action call {label} are available, aborting action call: "
            f"{exc.token} has no value"
        )

    def _too_deep(self, chain: Chain) -> str:
        tail = " → ".join(chain.path[-8:])
        return (
            f"action calls and events triggered each other more than {self.max_chain_depth} "
            f"levels deep (a loop in the configuration?): … → {tail}"
        )


@dataclass(frozen=True, slots=True)
class _DirectCall:
    name: str
    control: str
    action: str
    data: str
    condition: str = ""
    order: int = 0
    sub_action_calls: tuple[str, ...] = ()
    literal: bool = False


def _split_settings(lines: list[str], keys: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    settings: dict[str, str] = {}
    rest: list[str] = []
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() in keys and key.strip().lower() not in settings:
            settings[key.strip().lower()] = value.strip()
        else:
            rest.append(line)
    return settings, rest


def _int_setting(
    settings: Mapping[str, str], key: str, data: Mapping[str, Any], scriptlets: Mapping[str, str]
) -> int | None:
    from usd_desktop.core.replacement import render

    raw = settings.get(key)
    if raw is None or not raw.strip():
        return None
    text = render(raw, data, scriptlets=scriptlets).strip()
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{key}={text!r} is not a number of milliseconds") from None
    if value < 0:
        raise ValueError(f"{key}={value} must not be negative")
    return value
