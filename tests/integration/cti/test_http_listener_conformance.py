"""The HTTP listener passes the CTI adapter conformance suite, over real HTTP on 127.0.0.1.

The harness is the softphone's side: it pops calls with USD-style URLs (with the token kept in the
keyring), reports the caller hanging up and the far end answering with ``event=`` URLs, and dials
through a ``dial_command`` that is this Python doing nothing.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest

from usd_desktop.cti.adapters.http_listener import BASE_CAPABILITIES, KEYRING_SERVICE, HttpListenerAdapter
from usd_desktop.cti.contract import Adapter, CallId
from usd_desktop.testing.conformance import AdapterConformance, BadSetting, Harness, InboundCall

TOKEN = "s3cret-token"


class HttpListenerHarness(Harness):
    adapter_class = HttpListenerAdapter
    operations = BASE_CAPABILITIES | {"dial"}
    quiet_seconds = 0.2

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    def settings(self) -> dict[str, Any]:
        return {"port": 0, "token_keyring": True, "dial_command": f"{shlex.quote(sys.executable)} -c pass"}

    def keyring(self) -> dict[tuple[str, str], str]:
        return {(KEYRING_SERVICE, "token"): TOKEN}

    def bad_settings(self) -> list[BadSetting]:
        return [BadSetting({"host": "192.0.2.10"}, "host", "a host that is not loopback"),
                BadSetting({"port": 70000}, "port", "a port past 65535"),
                BadSetting({"dial_command": '"unclosed'}, "dial_command", "a dial command that cannot be split")]

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def _get(self, adapter: Adapter, **params: str) -> dict[str, Any]:
        assert isinstance(adapter, HttpListenerAdapter) and self.session is not None
        async with self.session.get(adapter.url, params={**params, "token": TOKEN}) as response:
            body: dict[str, Any] = await response.json()
            assert response.status == 200, body
            return body

    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str, data: Mapping[str, str]) -> InboundCall:
        await self._get(adapter, ani=ani, dnis=dnis, queue="Billing", caller_name="Aino Virtanen", **data)
        return InboundCall(ani=ani, dnis=dnis, data=dict(data), queue="Billing", caller_name="Aino Virtanen")

    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        await self._get(adapter, event="hangup", callid=call.call)

    def dial_target(self) -> str:
        return "+358501234567"

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:
        await self._get(adapter, event="answer", callid=call)


class TestHttpListenerConformance(AdapterConformance):
    @pytest.fixture
    def cti_harness(self) -> HttpListenerHarness:
        return HttpListenerHarness()
