"""The ``acme`` CTI adapter: usd_desktop's agent desktop on the Acme PBX agent API.

**The backend.** The Acme PBX serves its agent API as JSON text frames over a WebSocket
(``ws://pbx:8088/agent``). The client authenticates first::

    -> {"type": "auth", "user": "agent1", "password": "..."}
    <- {"type": "auth.ok", "agent": "agent1"}        (or {"type": "auth.failed", "reason": "..."})

then sends commands, each with an ``id`` its result carries back (results and events interleave)::

    -> {"type": "command", "id": 7, "op": "answer", "call": "pbx-12"}
    <- {"type": "result", "id": 7, "ok": true}       (or "ok": false, "error": "...")

Operations: ``answer``, ``reject``, ``hangup``, ``hold``, ``unhold``, ``dtmf`` (``digits``),
``transfer`` (``to``), ``dial`` (``to``, ``vars``; the result names the new ``call``),
``agent_state`` (``state``: ``ready``, ``not_ready``, ``logged_out``, ``busy``, ``wrap_up``) and
``list`` (the result's ``calls``). Events: ``call.ringing`` (``from``, ``to``, ``queue``,
``name``, ``vars``), ``call.dialing``, ``call.answered``, ``call.held``, ``call.resumed``,
``call.transferred`` (``to``), ``call.ended`` (``cause``: ``remote_hangup``, ``agent_hangup``,
``rejected``, ``busy``, ``abandoned``, ``no_answer``, ``transferred``, ``failed``) and
``agent.state`` (``state``, ``reason``).

**The adapter.** Calls get ids of the adapter's own (``acme-<tag>-<n>``), mapped to the PBX's.
Each command waits for its result at most ``command_timeout`` (:class:`CommandTimeout`). A PBX
event may come before the result of the command that caused it (``dial``): events of a PBX call
not known yet are kept until the call is. A dropped connection is reported (``ConnectionLost``);
the desktop calls :meth:`AcmeAdapter.connect` again and then :meth:`AcmeAdapter.resync`.

**Settings** (``cti: {adapter: acme, settings: {...}}``): ``url``, ``username``,
``command_timeout``, ``connect_timeout``. The password is never in the configuration: the desktop
reads it from the OS keyring, service ``usd-desktop/cti/acme``, name ``<username>``
(``keyring set usd-desktop/cti/acme agent1``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets as secrets_module
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
from pydantic import Field, field_validator

from usd_desktop.cti.contract import (
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallDialing,
    CallEnded,
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
    CtiEvent,
    Direction,
    NotConnected,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = "usd-desktop/cti/acme"
#: The desktop's agent states and the PBX's.
TO_PBX: dict[str, str] = {"available": "ready", "not_ready": "not_ready", "offline": "logged_out",
                          "on_call": "busy", "wrap_up": "wrap_up"}
FROM_PBX: dict[str, AgentStateName] = {"ready": "available", "not_ready": "not_ready",
                                       "logged_out": "offline", "busy": "on_call", "wrap_up": "wrap_up"}
#: The PBX's causes of call.ended and the desktop's (others are passed as they are).
CAUSES = {"remote_hangup": "normal", "agent_hangup": "normal"}
EARLY_EVENTS = 64  # events of PBX calls not known yet, kept for a dial's result to claim


class AcmeSettings(AdapterSettings):
    """Settings of the ``acme`` adapter (the password comes from the keyring)."""

    url: str = "ws://127.0.0.1:8088/agent"
    username: str = Field(min_length=1)
    command_timeout: float = Field(default=5.0, gt=0, le=60)
    connect_timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"{value!r} is not a ws:// or wss:// URL")
        return value


@dataclass(eq=False)
class _Call:
    id: CallId  # ours
    pbx: str  # the PBX's
    direction: Direction
    answered: bool = False


class AcmeAdapter(Adapter):
    """Calls and agent states on the Acme PBX (see the module docstring)."""

    name: ClassVar[str] = "acme"
    settings_model: ClassVar[type[AdapterSettings]] = AcmeSettings
    keyring_service: ClassVar[str | None] = KEYRING_SERVICE
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "login", "logout", "set_agent_state", "dial", "answer", "reject", "hangup", "hold", "retrieve",
        "send_dtmf", "blind_transfer",
    })

    settings: AcmeSettings

    def __init__(self, settings: AdapterSettings, *, secrets: Mapping[str, str] | None = None) -> None:
        if not isinstance(settings, AcmeSettings):
            settings = AcmeSettings.model_validate(settings.model_dump())
        super().__init__(settings, secrets=secrets)
        if not self.secrets.get("password"):
            raise CtiError(f"CTI adapter acme: no password for {settings.username} in the keyring (service "
                           f"{KEYRING_SERVICE!r}); store it with: "
                           f"keyring set {KEYRING_SERVICE} {settings.username}")
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._command_ids = itertools.count(1)
        self._calls: dict[CallId, _Call] = {}
        self._by_pbx: dict[str, _Call] = {}
        self._early: dict[str, list[dict[str, Any]]] = {}
        self._tag = secrets_module.token_hex(2)  # our ids stay unique when the adapter is made again
        self._call_ids = itertools.count(1)
        self._closing = False

    # ------------------------------------------------------------------ connection
    async def connect(self) -> None:
        if self._ws is not None and not self._ws.closed:
            return
        self._closing = False
        url, user = self.settings.url, self.settings.username
        if self._session is None:
            self._session = aiohttp.ClientSession()
        ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            ws = await asyncio.wait_for(self._session.ws_connect(url), self.settings.connect_timeout)
            await ws.send_json({"type": "auth", "user": user, "password": self.secrets["password"]})
            hello = await asyncio.wait_for(ws.receive_json(), self.settings.connect_timeout)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, TypeError) as exc:
            if ws is not None:
                await ws.close()
            why = str(exc) or type(exc).__name__
            raise CtiError(f"the acme adapter cannot reach the PBX at {url}: {why}") from None
        if hello.get("type") != "auth.ok":
            await ws.close()
            raise CtiError(f"the Acme PBX refused agent {user}: {hello.get('reason') or hello}")
        self._ws = ws
        self._reader = asyncio.get_running_loop().create_task(self._read(ws), name="acme reader")
        self.emit(ConnectionUp(detail=f"Acme PBX {url} as {user}"))

    async def close(self) -> None:
        self._closing = True  # what follows is asked for: no ConnectionLost
        reader, self._reader = self._reader, None
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        self._fail_replies("the acme adapter was closed")
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._calls.clear()
        self._by_pbx.clear()
        self._early.clear()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Results to the commands waiting for them, events to the desktop, until the connection ends."""
        reason = "the Acme PBX closed the connection"
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                try:
                    self._received(json.loads(message.data))
                except (ValueError, TypeError, AttributeError):
                    log.warning("acme: a message that is not a JSON object was ignored: %.200r", message.data)
            elif message.type == aiohttp.WSMsgType.ERROR:
                reason = f"the connection to the Acme PBX failed: {ws.exception()}"
                break
        if self._ws is ws:
            self._ws = None
        self._fail_replies(reason)
        if not self._closing:
            self.emit(ConnectionLost(reason=reason))

    def _fail_replies(self, reason: str) -> None:
        replies, self._replies = self._replies, {}
        for future in replies.values():
            if not future.done():
                future.set_exception(NotConnected(reason))

    async def _command(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send a command and wait for its result (:class:`CommandTimeout` after ``command_timeout``)."""
        ws = self._ws
        if ws is None or ws.closed:
            raise NotConnected(f"the acme adapter cannot {op}: it is not connected to the PBX")
        command_id = next(self._command_ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[command_id] = future
        try:
            await ws.send_json({"type": "command", "id": command_id, "op": op, **fields})
            reply = await asyncio.wait_for(future, self.settings.command_timeout)
        except TimeoutError:
            seconds = self.settings.command_timeout
            raise CommandTimeout(f"the Acme PBX did not answer {op} in {seconds:g} s") from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise NotConnected(f"the acme adapter cannot {op}: {exc}") from None
        finally:
            self._replies.pop(command_id, None)
        if not reply.get("ok"):
            raise CtiError(f"the Acme PBX refused {op}: {reply.get('error') or 'no reason given'}")
        return reply

    # ------------------------------------------------------------------ what the PBX says
    def _received(self, message: dict[str, Any]) -> None:
        if message.get("type") == "result":
            future = self._replies.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message)
        elif message.get("type") == "event":
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        name, pbx = str(message.get("event", "")), str(message.get("call") or "")
        if name == "agent.state":
            state = FROM_PBX.get(str(message.get("state")))
            if state is not None:
                self.emit(AgentStateChanged(state=state, reason=str(message.get("reason") or "")))
            return
        if not pbx:
            return
        call = self._by_pbx.get(pbx)
        if name == "call.ringing" and call is None:
            call = self._add(pbx, "inbound")
            self.emit(CallOffered(
                call=call.id, ani=str(message.get("from") or ""), dnis=str(message.get("to") or ""),
                queue=str(message.get("queue") or ""), caller_name=str(message.get("name") or ""),
                data={str(k): str(v) for k, v in (message.get("vars") or {}).items()}))
        elif call is not None:
            self._apply(call, name, message)
        else:  # a call we do not know yet (its dial's result is on its way), or somebody else's
            self._early.setdefault(pbx, []).append(message)
            while len(self._early) > EARLY_EVENTS:
                del self._early[next(iter(self._early))]

    def _apply(self, call: _Call, name: str, message: dict[str, Any]) -> None:
        if name == "call.answered" and not call.answered:
            call.answered = True
            self.emit(CallAnswered(call=call.id))
        elif name == "call.held":
            self.emit(CallHeld(call=call.id))
        elif name == "call.resumed":
            self.emit(CallRetrieved(call=call.id))
        elif name == "call.transferred":
            self.emit(CallTransferred(call=call.id, target=str(message.get("to") or "")))
        elif name == "call.ended":
            self._forget(call)
            cause = str(message.get("cause") or "normal")
            if call.direction == "inbound" and not call.answered and cause in ("abandoned", "no_answer"):
                self.emit(CallMissed(call=call.id, abandoned=cause == "abandoned"))
            else:
                self.emit(CallEnded(call=call.id, cause=CAUSES.get(cause, cause)))

    def _add(self, pbx: str, direction: Direction) -> _Call:
        call = _Call(f"acme-{self._tag}-{next(self._call_ids)}", pbx, direction)
        self._calls[call.id] = call
        self._by_pbx[pbx] = call
        return call

    def _forget(self, call: _Call) -> None:
        self._calls.pop(call.id, None)
        self._by_pbx.pop(call.pbx, None)

    def _find(self, call: CallId, operation: str) -> _Call:
        found = self._calls.get(call)
        if found is None:
            what = operation.replace("_", " ")
            raise CtiError(f"the acme adapter cannot {what} call {call!r}: no such call (or it has ended)")
        return found

    async def resync(self) -> list[CtiEvent]:
        """The PBX's calls (``list``) against ours: new ones reported, gone ones ended."""
        reply = await self._command("list")
        events: list[CtiEvent] = []
        present = set()
        for item in reply.get("calls") or []:
            pbx = str(item.get("call"))
            present.add(pbx)
            call = self._by_pbx.get(pbx)
            if call is None:
                inbound = item.get("direction") == "in"
                call = self._add(pbx, "inbound" if inbound else "outbound")
                number = str(item.get("number") or "")
                events.append(CallOffered(call=call.id, ani=number, dnis=str(item.get("to") or "")) if inbound
                              else CallDialing(call=call.id, number=number))
            if item.get("state") in ("talking", "held") and not call.answered:
                call.answered = True
                events.append(CallAnswered(call=call.id))
            if item.get("state") == "held":
                events.append(CallHeld(call=call.id))
        for gone in [c for c in self._calls.values() if c.pbx not in present]:
            self._forget(gone)
            events.append(CallEnded(call=gone.id, cause="lost"))
        return events

    # ------------------------------------------------------------------ operations
    async def login(self, agent: str, queues: tuple[str, ...] = ()) -> None:
        await self._command("agent_state", state="ready")

    async def logout(self) -> None:
        await self._command("agent_state", state="logged_out")

    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        if state not in TO_PBX:
            raise CtiError(f"the acme adapter knows no agent state {state!r}")
        await self._command("agent_state", state=TO_PBX[state], reason=reason)

    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        number = number.strip()
        if not number:
            raise CtiError("the acme adapter cannot dial an empty number")
        reply = await self._command("dial", to=number, vars=dict(data or {}))
        pbx = str(reply.get("call") or "")
        if not pbx:
            raise CtiError(f"the Acme PBX dialled {number} but named no call")
        call = self._add(pbx, "outbound")
        self.emit(CallDialing(call=call.id, number=number, data=dict(data or {})))
        for early in self._early.pop(pbx, []):  # what the PBX said about it before the result
            if call.id in self._calls:
                self._apply(call, str(early.get("event")), early)
        return call.id

    async def answer(self, call: CallId) -> None:
        await self._command("answer", call=self._find(call, "answer").pbx)

    async def reject(self, call: CallId) -> None:
        await self._command("reject", call=self._find(call, "reject").pbx)

    async def hangup(self, call: CallId) -> None:
        await self._command("hangup", call=self._find(call, "hangup").pbx)

    async def hold(self, call: CallId) -> None:
        await self._command("hold", call=self._find(call, "hold").pbx)

    async def retrieve(self, call: CallId) -> None:
        await self._command("unhold", call=self._find(call, "retrieve").pbx)

    async def send_dtmf(self, call: CallId, digits: str) -> None:
        await self._command("dtmf", call=self._find(call, "send_dtmf").pbx, digits=digits)

    async def blind_transfer(self, call: CallId, target: str) -> None:
        await self._command("transfer", call=self._find(call, "blind_transfer").pbx, to=target)
