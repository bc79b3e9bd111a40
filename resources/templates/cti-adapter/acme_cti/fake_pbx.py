"""A fake Acme PBX for the adapter's tests: the agent API of :mod:`acme_cti.adapter` on 127.0.0.1.

A test starts it (:meth:`FakePbx.start` gives its URL), points the adapter at it, and plays the
other parties: :meth:`FakePbx.ring` (a customer calls), :meth:`FakePbx.caller_hangs_up`,
:meth:`FakePbx.far_end_answers` (a dialled number answers), :meth:`FakePbx.stall` (commands get no
result) and :meth:`FakePbx.drop` (the connection drops). Like the real one, it serves one agent
connection at a time and reports a dialled call (``call.dialing``) before the dial's result.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class PbxCall:
    call: str
    state: str  # ringing, dialing, talking, held
    direction: str  # in, out
    number: str  # the caller's (in) or the dialled one (out)
    to: str = ""
    queue: str = ""
    name: str = ""
    vars: dict[str, str] = field(default_factory=dict)


class FakePbx:
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = users or {"agent1": "s3cret"}
        self.calls: dict[str, PbxCall] = {}
        self.agent_state = "logged_out"
        self.stalled = False
        self.commands: list[dict[str, Any]] = []  # every command received, in order
        self.url = ""
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._ws: web.WebSocketResponse | None = None

    # ------------------------------------------------------------------ running it
    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/agent", self._agent)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}/agent"
        return self.url

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ the other parties
    async def ring(self, ani: str, dnis: str, *, queue: str = "", name: str = "",
                   variables: dict[str, str] | None = None) -> str:
        """A customer calls the agent; returns the PBX's id of the call."""
        call = PbxCall(self._new_id(), "ringing", "in", ani, dnis, queue, name, dict(variables or {}))
        self.calls[call.call] = call
        await self._event("call.ringing", call.call, **{"from": ani, "to": dnis, "queue": queue, "name": name,
                                                         "vars": call.vars})
        return call.call

    async def caller_hangs_up(self, call: str) -> None:
        found = self.calls.pop(call)
        cause = "abandoned" if found.state == "ringing" else "remote_hangup"
        await self._event("call.ended", call, cause=cause)

    async def far_end_answers(self, call: str) -> None:
        self.calls[call].state = "talking"
        await self._event("call.answered", call)

    def stall(self) -> None:
        """From now on, commands get no result (the connection stays up)."""
        self.stalled = True

    async def drop(self) -> None:
        """Close the agent's connection (as a PBX restart does)."""
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    # ------------------------------------------------------------------ the agent API
    def _new_id(self) -> str:
        return f"pbx-{next(self._ids)}"

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_json(message)

    async def _event(self, event: str, call: str | None, **fields: Any) -> None:
        await self._send({"type": "event", "event": event, "call": call, **fields})

    async def _agent(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hello = json.loads((await ws.receive()).data or "{}")
        if hello.get("type") != "auth" or self.users.get(hello.get("user")) != hello.get("password"):
            await ws.send_json({"type": "auth.failed", "reason": "wrong user or password"})
            await ws.close()
            return ws
        await self.drop()  # one agent connection at a time
        self._ws = ws
        await ws.send_json({"type": "auth.ok", "agent": hello["user"]})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                command = json.loads(message.data)
                self.commands.append(command)
                if not self.stalled:
                    await self._command(command)
        if self._ws is ws:
            self._ws = None
        return ws

    async def _command(self, command: dict[str, Any]) -> None:
        op, call_id = command.get("op"), str(command.get("call") or "")

        async def result(ok: bool = True, **fields: Any) -> None:
            await self._send({"type": "result", "id": command.get("id"), "ok": ok, **fields})

        if op == "dial":
            dialled = PbxCall(self._new_id(), "dialing", "out", str(command.get("to")),
                              vars=command.get("vars") or {})
            self.calls[dialled.call] = dialled
            # the event before the result, as the real Acme PBX does
            await self._event("call.dialing", dialled.call, to=dialled.number)
            await result(call=dialled.call)
            return
        if op == "agent_state":
            self.agent_state = str(command.get("state"))
            await result()
            await self._event("agent.state", None, state=self.agent_state, reason=command.get("reason", ""))
            return
        if op == "list":
            await result(calls=[asdict(c) for c in self.calls.values()])
            return
        call = self.calls.get(call_id)
        if call is None:
            await result(False, error=f"no such call {call_id}")
        elif op == "answer" and call.state == "ringing":
            call.state = "talking"
            await result()
            await self._event("call.answered", call_id)
        elif op == "reject" and call.state == "ringing":
            del self.calls[call_id]
            await result()
            await self._event("call.ended", call_id, cause="rejected")
        elif op == "hangup":
            del self.calls[call_id]
            await result()
            await self._event("call.ended", call_id, cause="agent_hangup")
        elif op in ("hold", "unhold") and call.state == ("talking" if op == "hold" else "held"):
            call.state = "held" if op == "hold" else "talking"
            await result()
            await self._event("call.held" if op == "hold" else "call.resumed", call_id)
        elif op == "transfer" and call.state in ("talking", "held"):
            del self.calls[call_id]
            await result()
            await self._event("call.transferred", call_id, to=command.get("to"))
            await self._event("call.ended", call_id, cause="transferred")
        elif op == "dtmf" and call.state == "talking":
            await result()
        else:
            await result(False, error=f"cannot {op} call {call_id} while it is {call.state}")
