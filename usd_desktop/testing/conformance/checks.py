"""The conformance checks: each an ``async`` function of a :class:`~.runner.Session`.

They drive the adapter through the contract (:mod:`usd_desktop.cti.contract`) the way the desktop
does, and ask the harness for what only the backend can do. Every event is also checked by the
:class:`~.events.EventLog`, and every check by the runner's leak checks.
"""

from __future__ import annotations

import contextlib
import inspect
from importlib.metadata import entry_points
from typing import Any

import pytest

from usd_desktop.cti.contract import (
    OPERATIONS,
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    CallAnswered,
    CallConferenced,
    CallDialing,
    CallEnded,
    CallEvent,
    CallHeld,
    CallId,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    CommandTimeout,
    ConnectionLost,
    ConnectionUp,
    CtiError,
    NotSupported,
    RecordingStarted,
    RecordingStopped,
)
from usd_desktop.cti.registry import GROUP, AdapterRegistry, secret_requests
from usd_desktop.testing.conformance.events import EventLog, describe, event_problems
from usd_desktop.testing.conformance.harness import InboundCall
from usd_desktop.testing.conformance.runner import Session

#: Operations that act on a call (their first argument is a call id).
CALL_OPERATIONS = frozenset({
    "answer", "reject", "hangup", "hold", "retrieve", "mute", "send_dtmf", "blind_transfer", "consult",
    "complete_transfer", "cancel_transfer", "conference", "start_recording", "stop_recording",
})
UNKNOWN_CALL = "conformance-no-such-call-7f3a"
#: A value no setting of a known type accepts.
WRONG_VALUE: Any = [["not", {"a": "setting"}]]


def _arguments(operation: str, call: CallId, other: CallId, number: str) -> tuple[Any, ...]:
    """Plausible arguments for ``operation``."""
    return {
        "login": ("agent-1", ()), "logout": (), "set_agent_state": ("not_ready", "conformance"),
        "dial": (number, None), "mute": (call, True), "send_dtmf": (call, "1"),
        "blind_transfer": (call, number), "consult": (call, number), "complete_transfer": (call, other),
        "cancel_transfer": (call, other), "conference": (call, other), "complete_wrap_up": (call, ""),
    }.get(operation, (call,))


def _need(adapter: Adapter, *operations: str) -> None:
    missing = [op for op in operations if op not in adapter.capabilities]
    if missing:
        pytest.skip(f"the {adapter.name} adapter does not declare {', '.join(missing)}")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


async def _answered(s: Session, adapter: Adapter, log: EventLog) -> InboundCall:
    """An inbound call, answered by the agent."""
    _need(adapter, "answer")
    call = await s.offer(adapter, log)
    await s.run(adapter, "answer", call.call)
    await log.expect(CallAnswered, call=call.call, after=f"answer({call.call!r})")
    return call


async def _end(s: Session, adapter: Adapter, log: EventLog, call: CallId) -> None:
    """End a connected call (the agent hangs up), when the adapter can."""
    if "hangup" in adapter.capabilities:
        await s.run(adapter, "hangup", call)
        await log.expect_any((CallEnded, CallTransferred), call=call, after=f"hangup({call!r})")


# ---------------------------------------------------------------------- the adapter class
def adapter_class_problems(cls: type[Adapter]) -> list[str]:
    """What the desktop would refuse, or what lies, in an adapter class."""
    problems = []
    if not isinstance(cls.name, str) or not cls.name:
        problems.append("name is empty: set it to the entry point's name")
    if not (isinstance(cls.settings_model, type) and issubclass(cls.settings_model, AdapterSettings)):
        problems.append("settings_model is not an AdapterSettings subclass")
    elif cls.settings_model.model_config.get("extra") != "forbid":
        problems.append("settings_model lets unknown settings through: keep AdapterSettings' extra='forbid'")
    if not isinstance(cls.capabilities, frozenset):
        problems.append(f"capabilities is a {type(cls.capabilities).__name__}, not a frozenset")
    unknown = set(cls.capabilities) - OPERATIONS
    if unknown:
        problems.append(f"capabilities names operations the contract does not have: "
                        f"{', '.join(sorted(unknown))}")
    for operation in sorted(set(cls.capabilities) & OPERATIONS - {"complete_wrap_up"}):
        if getattr(cls, operation) is getattr(Adapter, operation):
            problems.append(f"capabilities declares {operation}, but the class does not implement it "
                            "(the base class raises NotSupported)")
    if cls.keyring_service is not None and not (isinstance(cls.keyring_service, str) and cls.keyring_service):
        problems.append("keyring_service must be None or a non-empty service name")
    if inspect.isabstract(cls):
        problems.append(f"it is abstract: {', '.join(sorted(getattr(cls, '__abstractmethods__', ())))}")
    registry = AdapterRegistry()
    if not registry.register(cls):
        problems.extend(f"the registry refuses it: {p.message}" for p in registry.problems)
    return problems


def entry_point_problems(cls: type[Adapter]) -> list[str]:
    """Whether the installed entry point finds ``cls`` as the desktop does."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == cls.name]
    if not found:
        return [f"no entry point named {cls.name!r} in the group {GROUP!r}: declare it in pyproject.toml "
                f'([project.entry-points."{GROUP}"] {cls.name} = "<module>:{cls.__qualname__}") and install '
                "the package (pip install -e .)"]
    try:
        loaded = found[0].load()
    except Exception as exc:
        return [f"the entry point {found[0].value} cannot be loaded: {type(exc).__name__}: {exc}"]
    if not (loaded is cls or (getattr(loaded, "__module__", None), getattr(loaded, "__qualname__", None))
            == (cls.__module__, cls.__qualname__)):
        return [f"the entry point {cls.name} = {found[0].value} names {loaded!r}, not {cls.__qualname__}"]
    registry = AdapterRegistry.discover()
    problems = [str(p) for p in registry.problems if p.source.split(" = ")[0] == cls.name]
    if registry.get(cls.name) is None and not problems:
        problems.append(f"AdapterRegistry.discover() does not find {cls.name}")
    return problems


# ---------------------------------------------------------------------- settings
async def settings_make_the_adapter(s: Session) -> None:
    adapter = s.create()
    _check(isinstance(adapter, s.cls),
           f"the registry made a {type(adapter).__name__}, not a {s.cls.__name__}")
    unknown = set(adapter.capabilities) - OPERATIONS
    _check(not unknown, f"the adapter's capabilities (with these settings) name operations the contract does "
                        f"not have: {', '.join(sorted(unknown))}")
    for request in secret_requests(s.cls, adapter.settings):
        if request.required:
            _check(request.secret in adapter.secrets,
                   f"the settings ask for the secret {request.secret} (keyring {request.service!r}, "
                   f"{request.username!r}), but the adapter did not get it")


async def bad_settings_are_refused(s: Session) -> None:
    good = dict(s.harness.settings())
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**good, "no_such_setting": 1}, "no_such_setting", "an unknown setting")]
    for name in s.cls.settings_model.model_fields:
        cases.append(({**good, name: WRONG_VALUE}, name, "a value of the wrong type"))
    for bad in s.harness.bad_settings():
        cases.append(({**good, **bad.settings}, bad.field, bad.why or f"a bad {bad.field}"))
    registry = s.registry()
    failures = []
    for settings, field, why in cases:
        try:
            adapter = registry.create(s.cls.name, settings)
        except CtiError as exc:
            text = str(exc)
            if field not in text or s.cls.name not in text:
                failures.append(f"{why} ({field}): the error must name the adapter and the field, "
                                f"but says: {text}")
            continue
        s.made.append(adapter)
        if settings.get(field) is WRONG_VALUE:
            continue  # a field that takes anything (typed Any): nothing to refuse
        failures.append(f"{why} was accepted: {field}={settings.get(field)!r}")
    _check(not failures, f"the {s.name} adapter's settings:\n  " + "\n  ".join(failures))


# ---------------------------------------------------------------------- lifecycle
async def start_reports_connection_up(s: Session) -> None:
    await s.start()


async def close_is_idempotent_and_quiet(s: Session) -> None:
    never_started = s.create()
    await s.close(never_started)
    await s.close(never_started)
    adapter, log = await s.start()
    call = await s.offer(adapter, log)
    await s.close(adapter)
    await s.close(adapter)
    with contextlib.suppress(Exception):  # the backend acts after the close: nothing may be reported
        await s.bounded(s.harness.remote_hangup(adapter, call), "the harness's remote_hangup()")
    late = await log.quiet(s.harness.quiet_seconds)
    _check(not late, f"after close() the {s.name} adapter still reported {log.summary(late)}")
    log.fail_on_problems()


# ---------------------------------------------------------------------- inbound calls
async def offered_call_carries_its_data(s: Session) -> None:
    adapter, log = await s.start()
    data = {"account_number": "FI-1001", "reason": "invoice"}
    call = await s.offer(adapter, log, ani="+358401234567", dnis="800100", data=data)
    offered = next(e for e in log.of(call.call) if isinstance(e, CallOffered))
    wrong = []
    for name in ("ani", "dnis", "caller_name", "queue"):
        expected = getattr(call, name)
        if (expected or name in ("ani", "dnis")) and getattr(offered, name) != expected:
            wrong.append(f"{name} is {getattr(offered, name)!r}, but the call's is {expected!r}")
    missing = {k: v for k, v in call.data.items() if offered.data.get(k) != v}
    if missing:
        wrong.append(f"data lacks {missing!r} (it is {dict(offered.data)!r})")
    if offered.direction != "inbound":
        wrong.append(f"direction is {offered.direction!r}, not 'inbound'")
    if call.backend_id is not None and offered.call == call.backend_id:
        wrong.append(f"the call id is the backend's own id {call.backend_id!r}: report an id of the "
                     "adapter's own (stable for the call's whole life) and map it to the backend's")
    _check(not wrong, f"{describe(offered)}:\n  " + "\n  ".join(wrong))


async def each_call_has_its_own_id(s: Session) -> None:
    adapter, log = await s.start()
    first = await s.offer(adapter, log)
    await s.bounded(s.harness.remote_hangup(adapter, first), "the harness's remote_hangup()")
    await log.expect_any((CallMissed, CallEnded), call=first.call, after="the caller hung up")
    second = await s.offer(adapter, log)
    _check(second.call != first.call, f"two calls got the same id {first.call!r}")
    if first.backend_id is not None and first.backend_id == second.backend_id:
        raise AssertionError("the harness gave both calls the same backend_id")


async def answer_then_hangup(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "hangup")
    call = await _answered(s, adapter, log)
    await s.run(adapter, "hangup", call.call)
    ended = await log.expect(CallEnded, call=call.call, after=f"hangup({call.call!r})")
    _check(bool(ended.cause), f"{describe(ended)}: a CallEnded says why (cause: normal, busy, rejected, ...)")


async def hold_and_retrieve(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "hold", "retrieve")
    call = await _answered(s, adapter, log)
    await s.run(adapter, "hold", call.call)
    await log.expect(CallHeld, call=call.call, after=f"hold({call.call!r})")
    await s.run(adapter, "retrieve", call.call)
    await log.expect(CallRetrieved, call=call.call, after=f"retrieve({call.call!r})")
    await _end(s, adapter, log, call.call)


async def reject_a_ringing_call(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "reject")
    call = await s.offer(adapter, log)
    await s.run(adapter, "reject", call.call)
    ended = await log.expect(CallEnded, call=call.call, after=f"reject({call.call!r})")
    _check(bool(ended.cause), f"{describe(ended)}: a CallEnded says why (rejected)")


async def caller_hangs_up_while_ringing(s: Session) -> None:
    adapter, log = await s.start()
    call = await s.offer(adapter, log)
    await s.bounded(s.harness.remote_hangup(adapter, call), "the harness's remote_hangup()")
    event = await log.expect_any((CallMissed, CallEnded), call=call.call,
                                 after="the caller hung up while it rang")
    _check(isinstance(event, CallMissed), f"{describe(event)}: a call that stops ringing unanswered is "
                                          "CallMissed (abandoned=True when the caller hung up)")
    _check(isinstance(event, CallMissed) and event.abandoned,
           f"{describe(event)}: the caller hung up, so it was abandoned (abandoned=True)")


async def caller_hangs_up_while_talking(s: Session) -> None:
    adapter, log = await s.start()
    call = await _answered(s, adapter, log)
    await s.bounded(s.harness.remote_hangup(adapter, call), "the harness's remote_hangup()")
    event = await log.expect_any((CallEnded, CallMissed), call=call.call, after="the caller hung up mid-call")
    _check(isinstance(event, CallEnded), f"{describe(event)}: a connected call that the caller hangs up is "
                                         "CallEnded (the desktop ignores CallMissed once answered)")
    _check(isinstance(event, CallEnded) and bool(event.cause), f"{describe(event)}: a CallEnded says why")
    if "hangup" in adapter.capabilities:  # the agent presses Hang up as the caller does: a clear error
        try:
            await s.run(adapter, "hangup", call.call)
        except NotSupported:
            raise AssertionError("hangup of an ended call raised NotSupported, "
                                 "but hangup is declared") from None
        except CtiError:
            return
        raise AssertionError(f"hangup({call.call!r}) of a call that had ended returned without an error: "
                             "an operation on a call the adapter no longer has raises CtiError")


# ---------------------------------------------------------------------- operations and errors
async def unsupported_operations_raise_not_supported(s: Session) -> None:
    adapter, log = await s.start()
    unsupported = sorted(OPERATIONS - set(adapter.capabilities))
    if not unsupported:
        pytest.skip(f"the {s.name} adapter declares every operation")
    call = await s.offer(adapter, log)
    number = s.harness.dial_target() or "2001"
    failures = []
    for operation in unsupported:
        shown = f"{operation}()"
        try:
            await s.run(adapter, operation, *_arguments(operation, call.call, call.call, number))
        except NotSupported as exc:
            if not str(exc):
                failures.append(f"{shown} raised NotSupported without a message")
        except AssertionError as exc:  # it hung
            failures.append(str(exc))
        except Exception as exc:
            failures.append(f"{shown} raised {type(exc).__name__} ({exc}), not NotSupported")
        else:
            if operation != "complete_wrap_up":  # the contract's default does nothing
                failures.append(f"{shown} returned, but {operation} is not in capabilities: declare it, "
                                "or raise NotSupported")
    _check(not failures, f"operations the {s.name} adapter does not declare must raise NotSupported "
                         "at once:\n  "
                         + "\n  ".join(failures))


async def unknown_call_ids_raise_cti_error(s: Session) -> None:
    adapter, log = await s.start()
    declared = sorted(CALL_OPERATIONS & set(adapter.capabilities))
    if not declared:
        pytest.skip(f"the {s.name} adapter declares no call operation")
    failures = []
    for operation in declared:
        shown = f"{operation}({UNKNOWN_CALL!r})"
        try:
            await s.run(adapter, operation, *_arguments(operation, UNKNOWN_CALL, UNKNOWN_CALL, "2001"))
        except NotSupported as exc:
            failures.append(f"{shown} raised NotSupported ({exc}), but {operation} is declared")
        except CtiError as exc:
            if UNKNOWN_CALL not in str(exc):
                failures.append(f"{shown}: the error must name the call: {exc}")
        except AssertionError as exc:
            failures.append(str(exc))
        except Exception as exc:
            failures.append(f"{shown} raised {type(exc).__name__} ({exc}), not a CtiError")
        else:
            failures.append(f"{shown} returned without an error")
    stray = log.of(UNKNOWN_CALL)
    if stray:
        failures.append(f"events were reported for the unknown call: {log.summary(stray)}")
    _check(not failures, f"commands on a call the {s.name} adapter does not have must raise CtiError naming "
                         "it:\n  " + "\n  ".join(failures))


async def capabilities_match_the_backend(s: Session) -> None:
    expected = s.harness.operations
    if expected is None:
        pytest.skip("the harness does not say which operations the backend supports (Harness.operations)")
    declared = frozenset(s.create().capabilities)
    extra, missing = sorted(declared - expected), sorted(expected - declared)
    _check(not extra and not missing,
           f"the {s.name} adapter's capabilities do not match what the backend supports: "
           f"declared but not supported: {extra or 'none'}; supported but not declared: {missing or 'none'}")


async def agent_state_operations(s: Session) -> None:
    adapter, log = await s.start()
    declared = {"login", "logout", "set_agent_state"} & set(adapter.capabilities)
    if not declared:
        pytest.skip(f"the {s.name} adapter declares no agent-state operation")
    if "login" in declared:
        await s.run(adapter, "login", s.harness.agent, ())
        event = await log.expect(AgentStateChanged, after="login()")
        _check(event.state != "offline", f"login(): {describe(event)}: a logged-in agent is not offline")
    if "set_agent_state" in declared:
        await s.run(adapter, "set_agent_state", "not_ready", "conformance")
        await log.expect(AgentStateChanged, state="not_ready", after="set_agent_state('not_ready')")
    if "logout" in declared:
        await s.run(adapter, "logout")
        await log.expect(AgentStateChanged, state="offline", after="logout()")


async def mute_and_dtmf(s: Session) -> None:
    adapter, log = await s.start()
    if not {"mute", "send_dtmf"} & set(adapter.capabilities):
        pytest.skip(f"the {s.name} adapter declares neither mute nor send_dtmf")
    call = await _answered(s, adapter, log)
    if "mute" in adapter.capabilities:
        await s.run(adapter, "mute", call.call, True)
        await s.run(adapter, "mute", call.call, False)
    if "send_dtmf" in adapter.capabilities:
        await s.run(adapter, "send_dtmf", call.call, "1")
    await _end(s, adapter, log, call.call)


async def recording(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "start_recording", "stop_recording")
    call = await _answered(s, adapter, log)
    await s.run(adapter, "start_recording", call.call)
    await log.expect(RecordingStarted, call=call.call, after="start_recording()")
    await s.run(adapter, "stop_recording", call.call)
    await log.expect(RecordingStopped, call=call.call, after="stop_recording()")
    await _end(s, adapter, log, call.call)


# ---------------------------------------------------------------------- outbound, transfers
def _target(s: Session, kind: str = "dial") -> str:
    target = s.harness.dial_target() if kind == "dial" else s.harness.transfer_target()
    if not target:
        pytest.skip(f"the harness gives no {kind} target (Harness.{kind}_target)")
    return target


async def dial(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "dial")
    target = _target(s)
    call = await s.run(adapter, "dial", target, {"crm_case": "42"})
    _check(isinstance(call, str) and bool(call), f"dial() returned {call!r}, not the new call's id")
    dialing = await log.expect(CallDialing, call=call, after=f"dial({target!r}) returned {call!r}")
    _check(bool(dialing.number), f"{describe(dialing)}: number is empty")
    _check(dialing.data.get("crm_case") == "42",
           f"{describe(dialing)}: the data given to dial() is not in it")
    await s.bounded(s.harness.answer_dialled(adapter, call, target), "the harness's answer_dialled()")
    await log.expect(CallAnswered, call=call, after="the far end answered")
    await _end(s, adapter, log, call)


async def blind_transfer(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "blind_transfer")
    target = _target(s, "transfer")
    call = await _answered(s, adapter, log)
    await s.run(adapter, "blind_transfer", call.call, target)
    await s.bounded(s.harness.transfer_accepted(adapter, call, target), "the harness's transfer_accepted()")
    await log.expect(CallTransferred, call=call.call, after=f"blind_transfer({call.call!r}, {target!r})")


async def _consultation(s: Session, adapter: Adapter, log: EventLog, call: InboundCall) -> CallId:
    target = _target(s)
    consultation: CallId = await s.run(adapter, "consult", call.call, target)
    _check(isinstance(consultation, str) and bool(consultation) and consultation != call.call,
           f"consult() returned {consultation!r}, not the consultation call's own id")
    await log.expect(CallHeld, call=call.call, after="consult() (it holds the call)")
    await log.expect(CallDialing, call=consultation, after=f"consult() returned {consultation!r}")
    await s.bounded(s.harness.answer_dialled(adapter, consultation, target), "the harness's answer_dialled()")
    await log.expect(CallAnswered, call=consultation, after="the consulted party answered")
    return consultation


async def consult_then_cancel(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "consult", "cancel_transfer")
    call = await _answered(s, adapter, log)
    consultation = await _consultation(s, adapter, log, call)
    await s.run(adapter, "cancel_transfer", call.call, consultation)
    await log.expect(CallEnded, call=consultation, after="cancel_transfer() (the consultation ends)")
    await log.expect(CallRetrieved, call=call.call, after="cancel_transfer() (the call is back)")
    await _end(s, adapter, log, call.call)


async def consult_then_complete(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "consult", "complete_transfer")
    call = await _answered(s, adapter, log)
    consultation = await _consultation(s, adapter, log, call)
    await s.run(adapter, "complete_transfer", call.call, consultation)
    await s.bounded(s.harness.transfer_accepted(adapter, call, _target(s)),
                    "the harness's transfer_accepted()")
    await log.expect(CallTransferred, call=call.call, after="complete_transfer()")
    await log.expect_any((CallEnded, CallTransferred), call=consultation,
                         after="complete_transfer() (the consultation ends for the agent)")


async def conference(s: Session) -> None:
    adapter, log = await s.start()
    _need(adapter, "answer", "consult", "conference")
    call = await _answered(s, adapter, log)
    consultation = await _consultation(s, adapter, log, call)
    await s.run(adapter, "conference", call.call, consultation)
    await log.expect(CallConferenced, call=call.call, other=consultation, after="conference()")
    await _end(s, adapter, log, call.call)


# ---------------------------------------------------------------------- backend trouble, resync
async def resync_reports_valid_events(s: Session) -> None:
    adapter, log = await s.start()
    call = await s.offer(adapter, log)
    if "answer" in adapter.capabilities:
        await s.run(adapter, "answer", call.call)
        await log.expect(CallAnswered, call=call.call, after="answer()")
    events = await s.run(adapter, "resync")
    _check(isinstance(events, list), f"resync() returned {events!r}, not a list of events")
    failures = [f"{describe(e)}: {p}" for e in events for p in event_problems(e)]
    announced = {call.call} | {e.call for e in events if isinstance(e, CallOffered | CallDialing)}
    failures += [f"{describe(e)} names a call that resync() does not report as offered or dialled"
                 for e in events if isinstance(e, CallEvent) and e.call not in announced]
    _check(not failures, "resync():\n  " + "\n  ".join(failures))


async def stalled_backend_times_out(s: Session) -> None:
    adapter, log = await s.start()
    operation = next((op for op in ("answer", "reject", "hangup") if op in adapter.capabilities), None)
    if operation is None:
        pytest.skip(f"the {s.name} adapter declares no answer, reject or hangup to time out")
    call = await s.offer(adapter, log)
    if not await s.bounded(s.harness.stall(adapter), "the harness's stall()"):
        pytest.skip("the harness cannot make the backend stall (Harness.stall)")
    try:
        await s.run(adapter, operation, call.call)
    except CommandTimeout:
        return
    except AssertionError:
        raise AssertionError(f"{operation}() on a stalled backend hung past {s.timeout:g} s: time the "
                             "command out (shorter than the harness's command_timeout) and raise "
                             "CommandTimeout") from None
    except Exception as exc:
        raise AssertionError(f"{operation}() on a stalled backend raised {type(exc).__name__} ({exc}), "
                             "not CommandTimeout") from None
    raise AssertionError(f"{operation}() returned although the backend did not answer")


async def reconnects_after_a_lost_connection(s: Session) -> None:
    adapter, log = await s.start()
    if not await s.bounded(s.harness.drop_connection(adapter), "the harness's drop_connection()"):
        pytest.skip("the harness cannot drop the connection (Harness.drop_connection)")
    await log.expect(ConnectionLost, after="the backend dropped the connection")
    await s.run(adapter, "connect")
    await log.expect(ConnectionUp, after="connect() after the loss")
    await s.offer(adapter, log)


async def events_follow_the_contract(s: Session) -> None:
    adapter, log = await s.start()
    call = await s.offer(adapter, log)
    if "answer" in adapter.capabilities:
        await s.run(adapter, "answer", call.call)
        await log.expect(CallAnswered, call=call.call, after="answer()")
        if {"hold", "retrieve"} <= set(adapter.capabilities):
            await s.run(adapter, "hold", call.call)
            await log.expect(CallHeld, call=call.call, after="hold()")
            await s.run(adapter, "retrieve", call.call)
            await log.expect(CallRetrieved, call=call.call, after="retrieve()")
    await s.bounded(s.harness.remote_hangup(adapter, call), "the harness's remote_hangup()")
    await log.expect_any((CallEnded, CallMissed), call=call.call, after="the caller hung up")
    log.fail_on_problems()
