"""The SIP side of bench/screen_pop.py: a caller baresip driven over its own ctrl_tcp, and a stamp on
the baresip adapter's reception of ``CALL_INCOMING``.

The caller is one baresip process: the tests' :class:`BaresipPeer` (configured by the adapter's own
generator, driven over its own ctrl_tcp; tests/integration/cti/sip_peers.py). For each call it
gets a user agent whose address of record carries the caller's number (``uanew
<sip:+14155550123@127.0.0.1>``, then ``uafind``), so the agent's baresip sees that number in the
From URI and the adapter reports it as the call's ANI, as a carrier's trunk would. The time
``dial`` is written to the caller's ctrl_tcp is the caller's dial moment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: its tests' SIP peers

from tests.integration.cti.sip_peers import BARESIP, BaresipPeer, free_sip_port
from usd_desktop.cti.adapters.baresip import BaresipAdapter

__all__ = ["BARESIP", "INCOMING", "SipCaller", "free_sip_port", "stamp_incoming"]

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


class SipCaller(BaresipPeer):
    """A baresip on 127.0.0.1 that places the calls, each from a number of its own."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "caller")

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
