"""The simulator passes the CTI adapter conformance suite (usd_desktop.testing.conformance)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from usd_desktop.cti.adapters.simulator import SimulatorAdapter
from usd_desktop.cti.contract import OPERATIONS, Adapter, CallId
from usd_desktop.testing.conformance import AdapterConformance, BadSetting, Harness, InboundCall


class SimulatorHarness(Harness):
    """The simulator is its own backend: calls ring with ``simulate_call``, callers hang up with
    ``simulate_hangup``, a dialled number answers by itself after ``dial_answer_after``."""

    adapter_class = SimulatorAdapter
    operations = OPERATIONS
    quiet_seconds = 0.1

    def settings(self) -> dict[str, object]:
        return {"scenario": None, "dial_answer_after": 0.05}

    def bad_settings(self) -> list[BadSetting]:
        return [BadSetting({"speed": 0}, "speed", "a speed of 0"),
                BadSetting({"scenario": "no/such/scenario.yaml"}, "scenario", "a missing scenario file")]

    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str, data: Mapping[str, str]) -> InboundCall:
        assert isinstance(adapter, SimulatorAdapter)
        await adapter.simulate_call(ani, dnis, queue="Billing", caller_name="Aino Virtanen", **data)
        return InboundCall(ani=ani, dnis=dnis, data=dict(data), queue="Billing", caller_name="Aino Virtanen")

    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        assert isinstance(adapter, SimulatorAdapter)
        adapter.simulate_hangup(call.call)

    def dial_target(self) -> str:
        return "+358501234567"

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:
        """The simulator's far end answers by itself (``dial_answer_after``)."""


class TestSimulatorConformance(AdapterConformance):
    @pytest.fixture
    def cti_harness(self) -> SimulatorHarness:
        return SimulatorHarness()
