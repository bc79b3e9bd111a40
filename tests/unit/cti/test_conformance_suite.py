"""The conformance suite's checks can fail: each deliberately broken adapter fails its check.

``StrictFake`` (on :class:`~usd_desktop.testing.fake_adapter.FakeAdapter`) is a correct adapter: it
passes the whole suite. Each variant below breaks one promise of the contract; the suite, run under
``pytester`` as a partner runs it (no pytest-asyncio, the plugin only), must fail the checks named
next to it, and, for a variant marked ``exclusive``, pass (or skip) every other one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, Field

from usd_desktop.cti.contract import (
    OPERATIONS,
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallDialing,
    CallEnded,
    CallHeld,
    CallId,
    CallOffered,
    CommandTimeout,
    ConnectionLost,
    ConnectionUp,
    CtiError,
    CtiEvent,
)
from usd_desktop.testing.conformance import BadSetting, Harness, InboundCall
from usd_desktop.testing.fake_adapter import FakeAdapter, FakeCall

pytest_plugins = ["pytester"]

CALL_OPS = frozenset({"answer", "reject", "hangup", "hold", "retrieve", "mute", "send_dtmf", "blind_transfer",
                      "consult", "complete_transfer", "cancel_transfer", "conference", "start_recording",
                      "stop_recording"})
PAIR_OPS = frozenset({"complete_transfer", "cancel_transfer", "conference"})
NOT_DECLARED = frozenset({"conference", "start_recording", "stop_recording"})


# ---------------------------------------------------------------------- a correct adapter
class StrictSettings(AdapterSettings):
    pbx: str = Field(default="pbx.example", min_length=1)
    timeout: float = Field(default=0.2, gt=0)


class StrictFake(FakeAdapter):
    """FakeAdapter made honest: it checks call ids, refuses what it does not declare, times out."""

    name = "strictfake"
    settings_model = StrictSettings
    capabilities = OPERATIONS - NOT_DECLARED

    def __init__(self, settings: AdapterSettings | None = None, *, secrets: Mapping[str, str] | None = None,
                 clock: Any = None) -> None:
        super().__init__(settings or StrictSettings(), secrets=secrets, consult_answers=False, clock=clock)
        self.timeout = float(getattr(self.settings, "timeout", 0.2))
        self._heartbeat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await super().connect()
        await self._stop_heartbeat()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        await asyncio.sleep(3600)

    async def _stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        await super().close()
        await self._stop_heartbeat()
        self._sink = None  # what the backend still sends is not reported

    def no_such_call(self, operation: str, call: CallId) -> CtiError:
        return CtiError(f"strictfake cannot {operation} call {call!r}: no such call")

    async def _op(self, operation: str, *args: Any) -> None:
        if operation in OPERATIONS and operation not in self.capabilities:
            raise self._unsupported(operation)
        if operation in CALL_OPS:
            for call in args[:2] if operation in PAIR_OPS else args[:1]:
                if call not in self.backend:
                    raise self.no_such_call(operation, call)
        try:
            await asyncio.wait_for(super()._op(operation, *args), self.timeout)
        except TimeoutError:
            raise CommandTimeout(f"strictfake: the PBX did not answer {operation}") from None

    # what the far end does
    def remote_hangup(self, call: CallId) -> None:
        if call not in self.backend:
            raise CtiError(f"no call {call}")
        if self.backend[call].state == "ringing":
            self.miss(call, abandoned=True)
        else:
            self.end(call, "normal")


class FakeHarness(Harness):
    adapter_class: Any = StrictFake
    check_entry_point = False
    operations = StrictFake.capabilities
    command_timeout = 1.0  # StrictFake times commands out after 0.2 s
    quiet_seconds = 0.05
    backend_ids_are_ours = False

    def settings(self) -> dict[str, Any]:
        return {"pbx": "pbx.example", "timeout": 0.2}

    def bad_settings(self) -> list[BadSetting]:
        return [BadSetting({"pbx": ""}, "pbx", "an empty PBX name")]

    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str, data: Mapping[str, str]) -> InboundCall:
        assert isinstance(adapter, FakeAdapter)
        call = adapter.offer(ani, dnis, "Billing", data=data)
        return InboundCall(ani=ani, dnis=dnis, data=dict(data), queue="Billing",
                           backend_id=call if self.backend_ids_are_ours else f"pbx:{call}")

    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        assert isinstance(adapter, StrictFake)
        adapter.remote_hangup(call.call)

    def dial_target(self) -> str:
        return "2001"

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:
        assert isinstance(adapter, FakeAdapter)
        adapter.answer_remote(call)

    async def stall(self, adapter: Adapter) -> bool:
        assert isinstance(adapter, FakeAdapter)
        for operation in OPERATIONS:
            adapter.hang(operation)
        return True

    async def drop_connection(self, adapter: Adapter) -> bool:
        assert isinstance(adapter, FakeAdapter)
        adapter.lose_connection()
        return True


# ---------------------------------------------------------------------- broken ones
class AllowsUnknownSettings(StrictFake):
    class Settings(StrictSettings):
        model_config = ConfigDict(extra="allow", frozen=True)

    settings_model = Settings


class SilentStart(StrictFake):
    async def connect(self) -> None:
        self.connected = True


class CloseOnlyOnce(StrictFake):
    async def close(self) -> None:
        if self.closed:
            raise CtiError("already closed")
        await super().close()


class LeaksATask(StrictFake):
    async def close(self) -> None:
        self.closed = True


class ReportsAfterClose(StrictFake):
    async def close(self) -> None:
        self.emit(ConnectionLost(reason="closed"))  # closing is asked for: it is no loss
        await super().close()


class DropsTheData(StrictFake):
    def offer(self, ani: str = "", dnis: str = "", queue: str = "", **kw: Any) -> CallId:
        kw.pop("data", None)
        return super().offer(ani, "", queue, **kw)


class ReusesIds(StrictFake):
    def new_id(self) -> CallId:
        return "fake-1"


class AnswersSilently(StrictFake):
    async def answer(self, call: CallId) -> None:
        await self._op("answer", call)
        self._state(call, "connected")


class HoldsSilently(StrictFake):
    async def hold(self, call: CallId) -> None:
        await self._op("hold", call)


class EndsWithoutCause(StrictFake):
    async def hangup(self, call: CallId) -> None:
        await self._op("hangup", call)
        self.backend.pop(call, None)
        self.emit(CallEnded(call=call, cause=""))


class EndsAGivenUpCall(StrictFake):
    def remote_hangup(self, call: CallId) -> None:
        self.end(call, "normal")


class MissesAConnectedCall(StrictFake):
    def remote_hangup(self, call: CallId) -> None:
        self.miss(call, abandoned=True)


class HangsOnUndeclared(StrictFake):
    async def conference(self, call: CallId, consultation: CallId) -> None:
        await asyncio.get_running_loop().create_future()


class IgnoresUndeclared(StrictFake):
    async def start_recording(self, call: CallId) -> None:
        return None


class RefusesDeclared(StrictFake):
    async def mute(self, call: CallId, muted: bool) -> None:
        raise self._unsupported("mute")


class AcceptsUnknownCalls(StrictFake):
    def no_such_call(self, operation: str, call: CallId) -> CtiError:
        raise AssertionError("not used")

    async def _op(self, operation: str, *args: Any) -> None:
        if operation in OPERATIONS and operation not in self.capabilities:
            raise self._unsupported(operation)


class VagueErrors(StrictFake):
    def no_such_call(self, operation: str, call: CallId) -> CtiError:
        return CtiError("the operation failed")


class NaiveTimes(StrictFake):
    def __init__(self, settings: AdapterSettings | None = None, *, secrets: Mapping[str, str] | None = None) -> None:
        super().__init__(settings, secrets=secrets, clock=datetime.now)


class NumbersInData(StrictFake):
    def offer(self, ani: str = "", dnis: str = "", queue: str = "", **kw: Any) -> CallId:
        call = self.new_id()
        self.backend[call] = FakeCall(call, "ringing", ani=ani)
        data: Any = {**kw.get("data", {}), "attempts": 3}
        self.emit(CallOffered(call=call, ani=ani, dnis=dnis, queue=queue, data=data))
        return call


class ReportsAGhost(StrictFake):
    async def connect(self) -> None:
        await super().connect()
        self.emit(CallHeld(call="ghost"))


class DialsSilently(StrictFake):
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        await self._op("dial", number, data)
        call = self.new_id()
        self.backend[call] = FakeCall(call, "dialing", "outbound", number=number, dialled=True)
        return call


class DialsAnotherId(StrictFake):
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        call = await super().dial(number, data)
        return f"{call}-x"


class NeverTimesOut(StrictFake):
    async def _op(self, operation: str, *args: Any) -> None:
        await FakeAdapter._op(self, operation, *args)


class NoConnectionUpAgain(StrictFake):
    async def connect(self) -> None:
        if self.connect_attempts:
            self.connected = True
            return
        await super().connect()


class LeaksASocket(StrictFake):
    async def connect(self) -> None:
        await super().connect()
        self.sock = socket.socket()  # never closed


class LeaksAFileDescriptor(StrictFake):
    async def connect(self) -> None:
        await super().connect()
        self.fd = os.open(os.devnull, os.O_RDONLY)  # never closed


#: Processes LeaksAProcess started (the test kills them at the end).
STARTED: list[subprocess.Popen[bytes]] = []


class LeaksAProcess(StrictFake):
    async def connect(self) -> None:
        await super().connect()
        STARTED.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))


class KeepsReporting(StrictFake):
    async def close(self) -> None:
        await FakeAdapter.close(self)
        await self._stop_heartbeat()  # but what the backend sends is still reported


class CrashesUnseen(StrictFake):
    async def connect(self) -> None:
        await super().connect()

        async def crash() -> None:
            raise RuntimeError("the reader died")

        asyncio.get_running_loop().create_task(crash())


class WrongAgentState(StrictFake):
    async def logout(self) -> None:
        await self._op("logout")
        self.emit(AgentStateChanged(state="available"))


class TransfersSilently(StrictFake):
    async def blind_transfer(self, call: CallId, target: str) -> None:
        await self._op("blind_transfer", call, target)


class CancelKeepsHold(StrictFake):
    async def cancel_transfer(self, call: CallId, consultation: CallId) -> None:
        await self._op("cancel_transfer", call, consultation)
        self.backend.pop(consultation, None)
        self.emit(CallEnded(call=consultation, cause="normal"))


class ResyncsGhosts(StrictFake):
    async def resync(self) -> list[CtiEvent]:
        return [CallAnswered(call="ghost")]


class DialsWithoutTheData(StrictFake):
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        return await super().dial(number, None)


class SetsAnotherState(StrictFake):
    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        await self._op("set_agent_state", state, reason)
        self.emit(AgentStateChanged(state="available", reason=reason))


class Hollow(Adapter):
    """Declares hold but implements nothing."""

    name = "hollow"
    capabilities = frozenset({"hold"})

    async def connect(self) -> None:
        self.emit(ConnectionUp())

    async def close(self) -> None:
        pass


class ConnectsLate(StrictFake):
    """Reports a dialled call's CallDialing only after a CallAnswered of it."""

    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        await self._op("dial", number, data)
        call = self.new_id()
        self.emit(CallAnswered(call=call))
        self.emit(CallDialing(call=call, number=number, data=dict(data or {})))
        return call


@dataclass
class Variant:
    adapter: type[Adapter]
    fails: tuple[str, ...]
    exclusive: bool = True  # every other check passes or skips
    harness: dict[str, Any] = field(default_factory=dict)


VARIANTS: dict[str, Variant] = {
    "Good": Variant(StrictFake, ()),
    "AllowsUnknownSettings": Variant(AllowsUnknownSettings, (
        "test_adapter_class_is_well_formed", "test_bad_settings_are_refused_naming_the_field")),
    "NoEntryPoint": Variant(StrictFake, ("test_registered_by_its_entry_point",),
                            harness={"check_entry_point": True}),
    "SilentStart": Variant(SilentStart, ("test_start_reports_connection_up_first",), exclusive=False),
    "CloseOnlyOnce": Variant(CloseOnlyOnce, ("test_close_is_idempotent_and_quiet",), exclusive=False),
    "LeaksATask": Variant(LeaksATask, ("test_close_is_idempotent_and_quiet",), exclusive=False),
    "ReportsAfterClose": Variant(ReportsAfterClose, ("test_close_is_idempotent_and_quiet",), exclusive=False),
    "LeaksASocket": Variant(LeaksASocket, ("test_start_reports_connection_up_first",), exclusive=False),
    "LeaksAFileDescriptor": Variant(LeaksAFileDescriptor, ("test_start_reports_connection_up_first",),
                                    exclusive=False),
    "LeaksAProcess": Variant(LeaksAProcess, ("test_start_reports_connection_up_first",), exclusive=False),
    "KeepsReporting": Variant(KeepsReporting, ("test_close_is_idempotent_and_quiet",)),
    "CrashesUnseen": Variant(CrashesUnseen, ("test_start_reports_connection_up_first",), exclusive=False),
    "DropsTheData": Variant(DropsTheData, ("test_an_offered_call_carries_ani_dnis_and_data",)),
    "UsesBackendIds": Variant(StrictFake, ("test_an_offered_call_carries_ani_dnis_and_data",),
                              harness={"backend_ids_are_ours": True}),
    "ReusesIds": Variant(ReusesIds, ("test_each_call_has_its_own_id",), exclusive=False),
    "AnswersSilently": Variant(AnswersSilently, ("test_answer_then_hangup",), exclusive=False),
    "HoldsSilently": Variant(HoldsSilently, ("test_hold_and_retrieve",), exclusive=False),
    "EndsWithoutCause": Variant(EndsWithoutCause, ("test_answer_then_hangup",)),
    "EndsAGivenUpCall": Variant(EndsAGivenUpCall, ("test_the_caller_hangs_up_while_it_rings",)),
    "MissesAConnectedCall": Variant(MissesAConnectedCall, ("test_the_caller_hangs_up_mid_call",),
                                    exclusive=False),
    "HangsOnUndeclared": Variant(HangsOnUndeclared, ("test_undeclared_operations_raise_not_supported",)),
    "IgnoresUndeclared": Variant(IgnoresUndeclared, ("test_undeclared_operations_raise_not_supported",)),
    "RefusesDeclared": Variant(RefusesDeclared, ("test_mute_and_dtmf", "test_unknown_call_ids_raise_cti_error")),
    "ClaimsMore": Variant(StrictFake, ("test_capabilities_match_the_backend",),
                          harness={"operations": StrictFake.capabilities | {"conference"}}),
    "AcceptsUnknownCalls": Variant(AcceptsUnknownCalls, ("test_unknown_call_ids_raise_cti_error",),
                                   exclusive=False),
    "VagueErrors": Variant(VagueErrors, ("test_unknown_call_ids_raise_cti_error",)),
    "NaiveTimes": Variant(NaiveTimes, ("test_events_follow_the_contract",), exclusive=False),
    "NumbersInData": Variant(NumbersInData, ("test_an_offered_call_carries_ani_dnis_and_data",
                                             "test_events_follow_the_contract"), exclusive=False),
    "ReportsAGhost": Variant(ReportsAGhost, ("test_start_reports_connection_up_first",), exclusive=False),
    "DialsSilently": Variant(DialsSilently, ("test_dial",)),
    "DialsAnotherId": Variant(DialsAnotherId, ("test_dial",)),
    "DialsWithoutTheData": Variant(DialsWithoutTheData, ("test_dial",)),
    "ConnectsLate": Variant(ConnectsLate, ("test_dial",)),
    "NeverTimesOut": Variant(NeverTimesOut, ("test_a_stalled_backend_times_out",), exclusive=False),
    "NoConnectionUpAgain": Variant(NoConnectionUpAgain, ("test_reconnects_after_a_lost_connection",)),
    "WrongAgentState": Variant(WrongAgentState, ("test_agent_state_operations",)),
    "SetsAnotherState": Variant(SetsAnotherState, ("test_agent_state_operations",)),
    "TransfersSilently": Variant(TransfersSilently, ("test_blind_transfer",)),
    "CancelKeepsHold": Variant(CancelKeepsHold, ("test_consult_then_cancel",)),
    "ResyncsGhosts": Variant(ResyncsGhosts, ("test_resync_reports_valid_events",)),
    "Hollow": Variant(Hollow, ("test_adapter_class_is_well_formed",), exclusive=False),
}


def harness_for(variant: str) -> FakeHarness:
    """The harness of ``variant`` (used by the test file that pytester runs)."""
    spec = VARIANTS[variant]
    overrides = {"adapter_class": spec.adapter, **spec.harness}
    return type(f"{variant}Harness", (FakeHarness,), overrides)()


# ---------------------------------------------------------------------- running the suite on them
SUITE_FILE = '''
import importlib.util
import sys

import pytest

from usd_desktop.testing.conformance import AdapterConformance

spec = importlib.util.spec_from_file_location("conformance_fakes", {path!r})
fakes = importlib.util.module_from_spec(spec)
sys.modules["conformance_fakes"] = fakes
spec.loader.exec_module(fakes)
'''
SUITE_CLASS = '''

class Test{name}(AdapterConformance):
    @pytest.fixture
    def cti_harness(self):
        return fakes.harness_for({name!r})
'''


def outcomes(reports: list[Any]) -> dict[tuple[str, str], str]:
    """(class, test) -> passed, failed or skipped (a failure in any phase counts)."""
    found: dict[tuple[str, str], str] = {}
    for report in reports:
        parts = report.nodeid.split("::")
        if len(parts) != 3:
            continue
        key = (parts[1].removeprefix("Test"), parts[2])
        if report.failed:
            found[key] = "failed"
        elif report.skipped and found.get(key) != "failed":
            found[key] = "skipped"
        elif report.when == "call" and key not in found:
            found[key] = "passed"
    return found


ONLY_THEIR_CHECKS = '''
import sys


def pytest_collection_modifyitems(config, items):
    """A variant that is not exclusive runs only the checks it must fail (the others may fail too)."""
    variants = sys.modules["conformance_fakes"].VARIANTS
    keep, drop = [], []
    for item in items:
        variant = variants[item.cls.__name__.removeprefix("Test")]
        (keep if variant.exclusive or item.name in variant.fails else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


def pytest_sessionfinish(session):
    for process in sys.modules["conformance_fakes"].STARTED:  # LeaksAProcess's
        process.kill()
        process.wait()
'''


def test_every_check_fails_for_the_adapter_that_breaks_it(pytester: pytest.Pytester) -> None:
    source = SUITE_FILE.format(path=str(Path(__file__).resolve()))
    source += "".join(SUITE_CLASS.format(name=name) for name in VARIANTS)
    pytester.makepyfile(test_suite=source)
    pytester.makeconftest(ONLY_THEIR_CHECKS)
    # as a partner runs it: the plugin, no pytest-asyncio
    result = pytester.inline_run("-p", "no:asyncio", "-p", "no:usd_desktop", "-p", "usd_desktop.testing.plugin",
                                 "-p", "no:cacheprovider", "-q")
    found = outcomes(result.getreports("pytest_runtest_logreport"))
    tests = sorted({test for name, test in found if name == "Good"})
    assert len(tests) >= 25, tests
    wrong = []
    for name, variant in VARIANTS.items():
        for test in tests:
            outcome = found.get((name, test))
            if test in variant.fails:
                if outcome != "failed":
                    wrong.append(f"{name}: {test} {outcome}, but it must fail")
            elif variant.exclusive and outcome == "failed":
                wrong.append(f"{name}: {test} failed, but only {', '.join(variant.fails) or 'nothing'} may")
    assert not wrong, "\n".join(wrong)
    good = {test: found[("Good", test)] for test in tests}
    skipped = sorted(test for test, outcome in good.items() if outcome == "skipped")
    assert skipped == ["test_conference", "test_recording", "test_registered_by_its_entry_point"], good


def test_a_failure_says_what_is_wrong(pytester: pytest.Pytester) -> None:
    source = SUITE_FILE.format(path=str(Path(__file__).resolve()))
    source += SUITE_CLASS.format(name="EndsAGivenUpCall") + SUITE_CLASS.format(name="LeaksASocket")
    pytester.makepyfile(test_suite=source)
    result = pytester.runpytest("-p", "no:asyncio", "-p", "no:cacheprovider",
                                "-k", "hangs_up_while_it_rings or connection_up_first")
    result.stdout.fnmatch_lines([
        "*CallEnded(call='fake-1', cause='normal'): a call that stops ringing unanswered is CallMissed*",
        "*strictfake left resources behind after close() and the harness's stop():*",
        "*ResourceWarning: unclosed <socket.socket*",
    ])


def test_a_suite_without_a_harness_says_how_to_give_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite="""
        from usd_desktop.testing.conformance import AdapterConformance

        class TestMine(AdapterConformance):
            pass
    """)
    result = pytester.runpytest("-p", "no:asyncio", "-p", "no:usd_desktop", "-p", "usd_desktop.testing.plugin",
                                "-p", "no:cacheprovider", "-k", "well_formed")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*has no cti_harness fixture: give it one*"])


def test_the_plugin_is_registered_for_pytest() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"usd_desktop": "usd_desktop.testing.plugin"}


def test_the_event_checks_name_each_problem() -> None:
    from usd_desktop.testing.conformance import event_problems

    assert event_problems(CallOffered(call="c", ani="1")) == []
    bad: Any = CallOffered(call="", ani=1, direction="sideways", data={"n": 2}, at=datetime(2025, 1, 1))  # type: ignore[arg-type]
    assert event_problems(bad) == [
        "CallOffered.at: datetime.datetime(2025, 1, 1, 0, 0) has no time zone (use UTC)",
        "CallOffered.ani: 1 is a int, not a str",
        "CallOffered.direction: 'sideways' is not one of 'inbound', 'outbound'",
        "CallOffered.data: 'n': 2 is not text: keys and values must be str",
        "CallOffered.call is empty: every call event names its call",
    ]
    assert event_problems("ring") == ["'ring' is not a CtiEvent (the desktop drops it)"]
