"""The baresip adapter passes the CTI adapter conformance suite, against real baresip processes.

The adapter spawns its own baresip (the agent's phone, peer to peer on 127.0.0.1); the harness runs
two more as the other parties (sip_peers.py): the customer ``5551234`` ("Ann Caller"), who calls the
agent and hangs up, and ``2001``, who answers what the agent dials, consults or transfers. The
backend stalls when the agent's baresip is stopped (SIGSTOP) and the connection drops when it is
killed. Without baresip the tests skip (and under CI=true they run, and fail).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_service
from tests.integration.cti.sip_peers import BARESIP, BaresipPeer, free_sip_port
from usd_desktop.cti.adapters.baresip import BaresipAdapter
from usd_desktop.cti.contract import Adapter, CallId
from usd_desktop.testing.conformance import AdapterConformance, BadSetting, Harness, InboundCall

_needs = needs_service(BARESIP is not None, "baresip is not installed (apt-get install baresip-core)")
pytestmark = [_needs] if _needs.name == "skip" else []  # (an empty usefixtures mark warns)

KEYRING_SERVICE = "usd-desktop/cti/baresip"


class BaresipHarness(Harness):
    adapter_class = BaresipAdapter
    operations = BaresipAdapter.capabilities
    command_timeout = 15.0
    quiet_seconds = 0.5

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.agent_uri = ""
        self.customer: BaresipPeer | None = None
        self.far: BaresipPeer | None = None

    def settings(self) -> dict[str, Any]:
        return {"account": self.agent_uri, "username": "agent", "display_name": "Agent One",
                "command_timeout": 3}

    def keyring(self) -> dict[tuple[str, str], str]:
        return {(KEYRING_SERVICE, "agent"): "pw-from-keyring"}

    def bad_settings(self) -> list[BadSetting]:
        return [BadSetting({"account": "agent at example"}, "account", "an account that is no SIP URI"),
                BadSetting({"mode": "attach", "ctrl_host": "192.0.2.10"}, "ctrl_host", "a remote ctrl_tcp host"),
                BadSetting({"command_timeout": 0}, "command_timeout", "a command timeout of 0")]

    async def start(self) -> None:
        self.agent_uri = f"sip:agent@127.0.0.1:{free_sip_port()}"
        self.customer = BaresipPeer(self.directory / "customer", "5551234", display_name="Ann Caller")
        self.far = BaresipPeer(self.directory / "far", "2001")
        await self.customer.start()
        await self.far.start()

    async def stop(self) -> None:
        for peer in (self.customer, self.far):
            if peer is not None:
                await peer.stop()

    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str, data: Mapping[str, str]) -> InboundCall:
        """The customer calls the agent (SIP carries the caller's number and name, not attached data)."""
        assert self.customer is not None
        await self.customer.command("dial", self.agent_uri)
        ringing = await self.customer.expect("CALL_RINGING")
        return InboundCall(ani="5551234", dnis="agent", caller_name="Ann Caller",
                           data={"peeruri": self.customer.uri, "sip_call_id": ringing["id"]},
                           backend_id=ringing["id"])

    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        assert self.customer is not None
        await self.customer.command("hangup")

    def dial_target(self) -> str:
        assert self.far is not None
        return self.far.uri

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:
        assert self.far is not None
        incoming = await self.far.expect("CALL_INCOMING")
        await self.far.on_call(incoming["id"], "accept")

    async def transfer_accepted(self, adapter: Adapter, call: InboundCall, target: str) -> None:
        """The customer, referred to 2001, calls it: 2001 answers."""
        assert self.far is not None and self.customer is not None
        incoming = await self.far.expect("CALL_INCOMING", peeruri=self.customer.uri)
        await self.far.on_call(incoming["id"], "accept")

    async def stall(self, adapter: Adapter) -> bool:
        assert isinstance(adapter, BaresipAdapter) and adapter.process is not None
        os.kill(adapter.process.pid, signal.SIGSTOP)  # close() kills it after its quit times out
        return True

    async def drop_connection(self, adapter: Adapter) -> bool:
        assert isinstance(adapter, BaresipAdapter) and adapter.process is not None
        adapter.process.kill()
        return True


class TestBaresipConformance(AdapterConformance):
    @pytest.fixture
    def cti_harness(self, tmp_path: Path) -> BaresipHarness:
        return BaresipHarness(tmp_path)
