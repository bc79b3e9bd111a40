"""The acme adapter against the fake Acme PBX: usd_desktop's conformance suite, and its own tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from acme_cti.adapter import KEYRING_SERVICE, AcmeAdapter, AcmeSettings
from acme_cti.fake_pbx import FakePbx

from usd_desktop.cti.contract import Adapter, CallId, CtiError
from usd_desktop.testing.conformance import AdapterConformance, BadSetting, Harness, InboundCall


class AcmeHarness(Harness):
    """The conformance suite's backend: the fake PBX, which plays the customer and the far end."""

    adapter_class = AcmeAdapter
    operations = AcmeAdapter.capabilities  # the Acme PBX's agent API offers just these
    command_timeout = 5.0

    def __init__(self) -> None:
        self.pbx = FakePbx(users={"agent1": "s3cret"})

    def settings(self) -> dict[str, object]:
        return {"url": self.pbx.url, "username": "agent1", "command_timeout": 1.0}

    def keyring(self) -> dict[tuple[str, str], str]:
        return {(KEYRING_SERVICE, "agent1"): "s3cret"}  # the password, as `keyring set` stores it

    def bad_settings(self) -> list[BadSetting]:
        return [BadSetting({"url": "http://pbx.example/agent"}, "url", "a URL that is no WebSocket"),
                BadSetting({"username": ""}, "username", "an empty user name")]

    async def start(self) -> None:
        await self.pbx.start()

    async def stop(self) -> None:
        await self.pbx.stop()

    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str,
                         data: Mapping[str, str]) -> InboundCall:
        pbx_call = await self.pbx.ring(ani, dnis, queue="Billing", name="Aino Virtanen", variables=dict(data))
        return InboundCall(ani=ani, dnis=dnis, data=dict(data), queue="Billing", caller_name="Aino Virtanen",
                           backend_id=pbx_call, handle=pbx_call)

    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        await self.pbx.caller_hangs_up(call.handle)

    def dial_target(self) -> str:
        return "+358501234567"

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:
        dialled = next(c.call for c in self.pbx.calls.values() if c.direction == "out" and c.number == number)
        await self.pbx.far_end_answers(dialled)

    async def stall(self, adapter: Adapter) -> bool:
        self.pbx.stall()
        return True

    async def drop_connection(self, adapter: Adapter) -> bool:
        await self.pbx.drop()
        return True


class TestAcmeConformance(AdapterConformance):
    @pytest.fixture
    def cti_harness(self) -> AcmeHarness:
        return AcmeHarness()


# ---------------------------------------------------------------------- what is the adapter's own
def test_a_wrong_password_is_a_clear_error() -> None:
    async def scenario() -> None:
        pbx = FakePbx(users={"agent1": "s3cret"})
        await pbx.start()
        adapter = AcmeAdapter(AcmeSettings(url=pbx.url, username="agent1"), secrets={"password": "wrong"})
        try:
            with pytest.raises(CtiError, match="refused agent agent1: wrong user or password"):
                await adapter.start(lambda event: None)
        finally:
            await adapter.close()
            await pbx.stop()

    asyncio.run(scenario())


def test_no_password_in_the_keyring_says_where_to_put_it() -> None:
    with pytest.raises(CtiError, match="keyring set usd-desktop/cti/acme agent1"):
        AcmeAdapter(AcmeSettings(username="agent1"), secrets={})
