"""The SIP side of bench/screen_pop.py: a caller baresip driven over its own ctrl_tcp, and a stamp on
the baresip adapter's reception of ``CALL_INCOMING``.

The caller is one baresip process (configured by the adapter's own generator). For each call it
gets a user agent whose address of record carries the caller's number (``uanew
<sip:+14155550123@127.0.0.1>``, then ``uafind``), so the agent's baresip sees that number in the
From URI and the adapter reports it as the call's ANI, as a carrier's trunk would. The time
``dial`` is written to the caller's ctrl_tcp is the caller's dial moment.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from usd_desktop.cti.adapters.baresip import BaresipAdapter
from usd_desktop.cti.adapters.baresip_config import BaresipSettings, free_tcp_port, write_config_dir
from usd_desktop.cti.adapters.baresip_ctrl import CtrlClient

BARESIP = shutil.which("baresip")
_taken: set[int] = set()

#: baresip call id -> perf_counter when the adapter's ctrl_tcp reader handed it CALL_INCOMING.
INCOMING: dict[str, float] = {}


def stamp_incoming() -> Any:
    """Wrap the adapter's event handler to stamp ``CALL_INCOMING`` as it arrives (the earliest moment
    the desktop process knows of a call). Returns the undo."""
    original = BaresipAdapter._on_event

    def stamped(self: BaresipAdapter, event: dict[str, Any]) -> None:
        if event.get("type") == "CALL_INCOMING":
            INCOMING[str(event.get("id"))] = time.perf_counter()
        original(self, event)

    BaresipAdapter._on_event = stamped  # type: ignore[method-assign]

    def undo() -> None:
        BaresipAdapter._on_event = original  # type: ignore[method-assign]

    return undo


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port() -> int:
    """A port free for SIP over UDP and TCP with port + 1 free too (baresip binds TLS there)."""
    while True:
        port = free_tcp_port()
        if port + 1 > 65535 or any(abs(port - other) < 2 for other in _taken):
            continue
        if _bindable(socket.SOCK_DGRAM, port) and _bindable(socket.SOCK_STREAM, port + 1):
            _taken.add(port)
            return port


class SipCaller:
    """A baresip on 127.0.0.1 that places the calls."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_sip_port()
        self.ctrl_port = free_tcp_port()
        self.settings = BaresipSettings(account=f"sip:caller@127.0.0.1:{self.port}",
                                        sip_listen=f"127.0.0.1:{self.port}")
        self.process: subprocess.Popen[bytes] | None = None
        self.client: CtrlClient | None = None
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    async def start(self) -> SipCaller:
        assert BARESIP is not None
        write_config_dir(self.directory, self.settings, self.ctrl_port, None)
        with open(self.directory / "baresip.log", "ab") as out:
            self.process = subprocess.Popen([BARESIP, "-f", str(self.directory)], stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client = await CtrlClient.open("127.0.0.1", self.ctrl_port, on_event=self._event,
                                                    on_lost=lambda reason: None, timeout=10)
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the caller baresip did not start: {self.log()}") from None
                await asyncio.sleep(0.05)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._arrived.set()

    async def command(self, command: str, params: str | None = None) -> str:
        assert self.client is not None
        reply = await self.client.command(command, params)
        if not reply.ok:
            raise RuntimeError(f"caller baresip: {command} {params or ''}: {reply.data.strip()}")
        return reply.data

    async def dial(self, user: str, target: str) -> float:
        """Call ``target`` from ``sip:<user>@127.0.0.1``; the perf_counter just before ``dial`` is sent."""
        aor = f"sip:{user}@127.0.0.1"
        await self.command("uanew", f"<{aor}>;regint=0;answermode=manual;audio_codecs=opus/48000/2")
        await self.command("uafind", aor)
        self.events.clear()
        dialled = time.perf_counter()
        await self.command("dial", target)
        return dialled

    async def hang_up(self, user: str, timeout: float = 10.0) -> None:
        """Hang the current call up, wait until it is closed, and delete the user agent."""
        await self.command("hangup")
        await self.expect("CALL_CLOSED", timeout)
        await self.command("uadel", f"sip:{user}@127.0.0.1")

    async def expect(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            while True:
                for index, event in enumerate(self.events):
                    if event.get("type") == kind:
                        return self.events.pop(index)
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(scan(), timeout)

    def log(self) -> str:
        try:
            return (self.directory / "baresip.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    async def stop(self) -> None:
        process = self.process
        try:
            if process is not None and process.poll() is None and self.client is not None:
                self.client.closing = True
                await self.client.command("quit")
        except Exception:  # it is killed below
            pass
        finally:
            if self.client is not None:
                await self.client.close()
            if process is not None:
                try:
                    await asyncio.to_thread(process.wait, 3.0)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await asyncio.to_thread(process.wait)
