"""The ``baresip`` CTI adapter: real SIP calls through a local baresip softphone, over ``ctrl_tcp``.

**Modes.** ``spawn`` (default) starts baresip with a generated configuration in a private directory
(:mod:`.baresip_config`), restarts it when it died and the manager reconnects, and stops it with
``quit`` on :meth:`~BaresipAdapter.close` (SIGTERM hangs baresip during a call; a kill follows a
timeout). ``attach`` connects to a running baresip's ``ctrl_tcp_listen`` address (loopback only
unless ``allow_remote``: ctrl_tcp has no authentication; it serves one client at a time, a new
connection replaces the old one).

**Protocol.** Netstring-framed JSON (:mod:`.netstring`): commands carry a token, the reader task
resolves the command's future with the reply and passes events to the adapter as they come (an
event can arrive before the reply to the command that caused it). A command not answered in
``command_timeout`` raises :class:`CommandTimeout`; a dropped connection emits ``ConnectionLost``.

**What baresip 1.0.0 (Debian 12) really offers**, measured: the menu's call commands act on the
*current* call and take no call id, so each one is sent right behind ``callfind <id>`` in the same
write (baresip runs both back to back); ``hangup`` takes no status code: hanging up a ringing call
answers ``486 Rejected``; ``transfer`` is a blind REFER (no attended transfer, no conference, no
recording); ``mute`` toggles (its reply says the new state). baresip reports no hold events at all
(newer versions report them to the held side only), so ``CallHeld`` / ``CallRetrieved`` come from
the adapter when baresip accepted the command. A second re-INVITE sent while the first is in flight
can be lost (reported for baresip; on loopback the answer comes too fast to show it), so holds and
resumes of a call wait for the previous one's SDP answer (``CALL_REMOTE_SDP``). baresip also holds
and resumes calls by itself, and the adapter mirrors it: ``accept`` puts the previous call on hold,
and whenever a call closes, the most recent held call is resumed (``CallRetrieved``).

**Consultation**: ``consult`` holds the call and dials the target; ``complete_transfer`` blind-
transfers the held call to the consultation's party, then hangs the consultation up (the party's
phone rings again with the customer; the agent's call ends, ``transferred``, when it is answered);
``cancel_transfer`` hangs up the consultation and retrieves the call.

**Events**: ``CALL_INCOMING`` -> ``CallOffered`` (ani: the caller URI's user part when it is a
number, else the whole URI; caller_name: the display name; dnis: the account's user; data:
``peeruri`` and ``sip_call_id``); a dialled call -> ``CallDialing``; ``CALL_ESTABLISHED`` ->
``CallAnswered``; ``CALL_DTMF_START`` -> ``DtmfReceived``; ``CALL_CLOSED`` -> ``CallEnded`` (cause
``normal``, ``busy``, ``rejected``, ``failed`` or ``transferred``, after ``CallTransferred``), or
``CallMissed`` for an inbound call that stopped ringing unanswered (the agent's reject is
``CallEnded(cause="rejected")``). Events of calls the adapter did not report are ignored.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import shutil
import subprocess
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from usd_desktop.cti.adapters.baresip_config import (
    BaresipSettings,
    dial_uri,
    is_number,
    log_tail,
    sip_user,
    start_baresip,
    stop_baresip,
)
from usd_desktop.cti.adapters.baresip_ctrl import (
    CtrlClient,
    ListedCall,
    Reply,
    close_cause,
    parse_callstat,
    parse_listcalls,
    plain,
    registered,
)
from usd_desktop.cti.contract import (
    Adapter,
    AdapterSettings,
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
    DtmfReceived,
    NotConnected,
)

log = logging.getLogger(__name__)
_DTMF = re.compile(r"^[0-9A-D*#]+$")
_ORPHANS = 32  # events of calls not (yet) known, kept for a dial to claim


# ---------------------------------------------------------------------- calls
@dataclass(eq=False)
class _Call:
    id: CallId
    bid: str  # baresip's id (the SIP Call-ID)
    direction: Direction
    peer: str  # the far end's URI
    number: str  # the caller's number (inbound) or what was dialled
    answered: bool = False
    held: bool = False
    muted: bool = False
    rejected: bool = False
    transfer_to: str | None = None  # our REFER went to this target
    referred_to: str | None = None  # the far end asked baresip to transfer there
    ends_as_transfer: bool = False  # a consultation hung up by complete_transfer
    consult_of: CallId | None = None
    consultation: CallId | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reinvite: asyncio.Future[None] | None = None  # a hold/resume re-INVITE waiting for its answer


# ---------------------------------------------------------------------- the adapter
class BaresipAdapter(Adapter):
    """SIP calls through baresip (see the module docstring for what baresip 1.0.0 can do)."""

    name: ClassVar[str] = "baresip"
    settings_model: ClassVar[type[AdapterSettings]] = BaresipSettings
    keyring_service: ClassVar[str | None] = "usd-desktop/cti/baresip"
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "dial", "answer", "reject", "hangup", "hold", "retrieve", "mute", "send_dtmf",
        "blind_transfer", "consult", "complete_transfer", "cancel_transfer",
    })

    settings: BaresipSettings

    def __init__(self, settings: AdapterSettings, *, secrets: Mapping[str, str] | None = None) -> None:
        if not isinstance(settings, BaresipSettings):
            settings = BaresipSettings.model_validate(settings.model_dump())
        super().__init__(settings, secrets=secrets)
        self.process: subprocess.Popen[bytes] | None = None
        self.config_dir: Path | None = None
        self.ctrl_address: tuple[str, int] | None = None
        self._client: CtrlClient | None = None
        self._calls: dict[str, _Call] = {}  # by baresip id
        self._by_id: dict[CallId, _Call] = {}
        self._order: list[str] = []  # baresip's call list: the last one is its "current" call
        self._orphans: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._dial_waiter: asyncio.Future[str] | None = None
        self._adopt: dict[str, CallId] = {}  # REFER targets baresip dials by itself
        self._dial_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._spawn_port = 0
        self._lost_report: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def connect(self) -> None:
        if self._client is not None and not self._client.closed:
            return
        if self._lost_report is not None:  # ConnectionLost first, and know whether baresip died
            await asyncio.gather(self._lost_report, return_exceptions=True)
            self._lost_report = None
        spawn = self.settings.mode == "spawn"
        if spawn:
            self._ensure_process()
            host, port = "127.0.0.1", self._spawn_port
        else:
            host, port = self.settings.ctrl_host, self.settings.ctrl_port
        client = await self._open(host, port)
        self.ctrl_address = (host, port)
        if spawn and self.settings.registrar:
            try:
                await self._wait_registered(client)
            except CtiError:
                client.closing = True
                await client.close()
                raise
        self._client = client
        what = f"spawned, pid {self.process.pid}" if spawn and self.process else "attached"
        self.emit(ConnectionUp(detail=f"baresip {self.settings.account} (ctrl_tcp {host}:{port}, {what})"))

    async def close(self) -> None:
        if self._lost_report is not None:
            self._lost_report.cancel()
            self._lost_report = None
        client, self._client = self._client, None
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            if client is not None and not client.closed:
                client.closing = True
                try:
                    await client.command("quit")
                except CtiError:
                    pass
            else:
                process.terminate()
            await stop_baresip(process)
        if client is not None:
            await client.close()
        if self.config_dir is not None:
            shutil.rmtree(self.config_dir, ignore_errors=True)
            self.config_dir = None
        for call in list(self._calls.values()):
            self._forget(call)
        self._orphans.clear()

    def _ensure_process(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None:
            log.warning("baresip exited (code %s): starting it again", self.process.returncode)
        if self.config_dir is None:
            self.config_dir = Path(tempfile.mkdtemp(prefix="usd-baresip-"))
        self.process, self._spawn_port = start_baresip(self.settings, self.config_dir,
                                                       self.secrets.get("password"))

    async def _open(self, host: str, port: int) -> CtrlClient:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.start_timeout
        while True:
            try:
                return await CtrlClient.open(host, port, on_event=self._on_event, on_lost=self._on_lost,
                                             timeout=self.settings.command_timeout)
            except (OSError, TimeoutError) as exc:
                process = self.process if self.settings.mode == "spawn" else None
                if process is not None and process.poll() is not None:
                    raise CtiError(f"baresip exited (code {process.returncode}) while starting: "
                                   f"{log_tail(self.config_dir)}") from None
                if process is None or loop.time() > deadline:
                    raise CtiError(f"the baresip adapter cannot reach ctrl_tcp at {host}:{port}: "
                                   f"{exc or type(exc).__name__}") from None
                await asyncio.sleep(0.05)  # baresip is still starting: it says nothing when ready

    async def _wait_registered(self, client: CtrlClient) -> None:
        """REGISTER_OK fires before a client can connect: poll ``reginfo`` until it says OK."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.start_timeout
        while True:
            text = (await client.command("reginfo")).data
            if registered(text):
                return
            if loop.time() > deadline:
                status = plain(text)[-200:]
                raise CtiError(f"baresip did not register {self.settings.account} with "
                               f"{self.settings.registrar} in {self.settings.start_timeout:g} s: {status}")
            await asyncio.sleep(0.1)

    def _on_lost(self, reason: str) -> None:
        self._client = None
        for call in self._calls.values():
            self._settled(call)
        process = self.process
        if process is not None and process.poll() is None:
            # the connection ends a moment before a dying process does: wait to say which it was
            self._lost_report = asyncio.ensure_future(self._report_lost(process, reason))
        else:
            self._emit_lost(process, reason)

    async def _report_lost(self, process: subprocess.Popen[bytes], reason: str) -> None:
        try:
            await asyncio.to_thread(process.wait, 1.0)
        except subprocess.TimeoutExpired:
            pass
        self._emit_lost(process, reason)

    def _emit_lost(self, process: subprocess.Popen[bytes] | None, reason: str) -> None:
        if process is not None and process.poll() is not None:
            reason = f"{reason} (baresip exited, code {process.returncode})"
        self.emit(ConnectionLost(reason=reason))

    async def resync(self) -> list[CtiEvent]:
        """baresip's calls (``listcalls``; ``line`` + ``callstat`` give each one's id) against ours."""
        client = self._connected("resync")
        present: dict[str, tuple[ListedCall, str, str]] = {}
        for listed in parse_listcalls((await client.command("listcalls")).data):
            _, stat = await client.commands(("line", listed.line), ("callstat", None))
            bid, direction, display = parse_callstat(stat.data)
            if bid:
                present[bid] = (listed, direction, display)
        events: list[CtiEvent] = []
        for gone in [c for bid, c in self._calls.items() if bid not in present]:
            self._forget(gone)
            events.append(CallMissed(call=gone.id) if gone.direction == "inbound" and not gone.answered
                          else CallEnded(call=gone.id, cause="failed"))
        for bid, (listed, direction, display) in present.items():
            peer = listed.peer
            call = self._calls.get(bid)
            if call is None:
                inbound = direction == "incoming"
                number = self._ani(peer) if inbound else peer
                call = self._new_call(bid, "inbound" if inbound else "outbound", peer, number)
                data = {"peeruri": peer, "sip_call_id": bid}
                events.append(CallOffered(call=call.id, ani=number, dnis=sip_user(self.settings.account),
                                          caller_name=display, data=data) if inbound
                              else CallDialing(call=call.id, number=peer, data=data))
            if listed.state == "ESTABLISHED" and not call.answered:
                call.answered = True
                events.append(CallAnswered(call=call.id))
            if listed.on_hold != call.held:
                call.held = listed.on_hold
                events.append(CallHeld(call=call.id) if call.held else CallRetrieved(call=call.id))
        self._order = [bid for bid in present if bid in self._calls]  # `line` made each one current
        self._orphans.clear()
        return events

    # ------------------------------------------------------------------ events
    def _on_event(self, event: dict[str, Any]) -> None:
        kind, bid = str(event.get("type", "")), event.get("id")
        if kind.startswith("REGISTER"):
            log.log(logging.WARNING if kind == "REGISTER_FAIL" else logging.DEBUG,
                    "baresip %s %s %s", event.get("accountaor"), kind, event.get("param", ""))
            return
        if not isinstance(bid, str) or not bid:
            return
        call = self._calls.get(bid)
        if call is None:
            if kind == "CALL_INCOMING":
                self._offered(event)
                return
            if kind == "CALL_CLOSED":  # any call's end makes baresip resume a held call
                event["_resumed"] = True
                self._resume_latest_held()
            self._orphan(bid, event)
            return
        self._apply(call, event)

    def _orphan(self, bid: str, event: dict[str, Any]) -> None:
        self._orphans.setdefault(bid, []).append(event)
        self._orphans.move_to_end(bid)
        while len(self._orphans) > _ORPHANS:
            self._orphans.popitem(last=False)
        if event.get("direction") != "outgoing":
            return
        peer = str(event.get("peeruri", ""))
        origin = self._adopt.pop(peer, None)
        if origin is not None:  # baresip dials a REFER target by itself: that call is the agent's too
            call = self._new_call(bid, "outbound", peer, peer)
            self.emit(CallDialing(call=call.id, number=peer,
                                  data={"peeruri": peer, "sip_call_id": bid, "transferred_from": origin}))
            self._replay(call)
        elif self._dial_waiter is not None and not self._dial_waiter.done():
            self._dial_waiter.set_result(bid)

    def _replay(self, call: _Call) -> None:
        for event in self._orphans.pop(call.bid, []):
            if call.bid in self._calls:
                self._apply(call, event)

    def _ani(self, peer: str) -> str:
        user = sip_user(peer)
        return user if is_number(user) else peer

    def _offered(self, event: dict[str, Any]) -> None:
        bid, peer = str(event["id"]), str(event.get("peeruri", ""))
        self._orphans.pop(bid, None)
        call = self._new_call(bid, "inbound", peer, self._ani(peer))
        self.emit(CallOffered(
            call=call.id, ani=call.number, dnis=sip_user(str(event.get("accountaor", ""))),
            caller_name=str(event.get("peerdisplayname", "")), data={"peeruri": peer, "sip_call_id": bid}))

    def _apply(self, call: _Call, event: dict[str, Any]) -> None:
        kind, param = str(event.get("type", "")), str(event.get("param", ""))
        if kind == "CALL_ESTABLISHED" and not call.answered:
            call.answered = True
            self.emit(CallAnswered(call=call.id))
        elif kind == "CALL_CLOSED":
            self._closed(call, param, resumed=bool(event.get("_resumed")))
        elif kind == "CALL_DTMF_START" and param:
            self.emit(DtmfReceived(call=call.id, digits=param))
        elif kind in ("CALL_HOLD", "CALL_RESUME"):  # newer baresip, held side only
            self._set_held(call, kind == "CALL_HOLD", reinvite=False)
        elif kind == "CALL_REMOTE_SDP" and param == "answer":
            self._settled(call)
        elif kind in ("TRANSFER", "CALL_TRANSFER"):  # the far end sent REFER: baresip dials param
            call.referred_to = param
            self._adopt[param] = call.id
        elif kind in ("TRANSFER_FAILED", "CALL_TRANSFER_FAILED"):
            log.warning("baresip: the transfer of call %s to %s failed: %s", call.id, call.transfer_to, param)
            call.transfer_to = None

    def _closed(self, call: _Call, param: str, *, resumed: bool = False) -> None:
        self._forget(call)
        if call.ends_as_transfer:
            self.emit(CallEnded(call=call.id, cause="transferred"))
        elif "transfer" in param.lower() or call.referred_to is not None:
            self.emit(CallTransferred(call=call.id, target=call.transfer_to or call.referred_to or ""))
            self.emit(CallEnded(call=call.id, cause="transferred"))
        elif call.direction == "inbound" and not call.answered:
            self.emit(CallEnded(call=call.id, cause="rejected") if call.rejected
                      else CallMissed(call=call.id, abandoned=True))
        else:
            self.emit(CallEnded(call=call.id, cause=close_cause(param)))
        if not resumed:  # (a replayed event was already counted when it came)
            self._resume_latest_held()

    def _resume_latest_held(self) -> None:
        """Mirror baresip 1.0.0: whenever a call closes, it resumes the most recent held call."""
        for bid in reversed(self._order):
            if self._calls[bid].held:
                self._set_held(self._calls[bid], False, reinvite=True)
                return

    # ------------------------------------------------------------------ call bookkeeping
    def _new_call(self, bid: str, direction: Direction, peer: str, number: str) -> _Call:
        call = _Call(f"baresip-{next(self._ids)}", bid, direction, peer, number)
        self._calls[bid] = call
        self._by_id[call.id] = call
        self._order.append(bid)
        return call

    def _forget(self, call: _Call) -> None:
        self._calls.pop(call.bid, None)
        self._by_id.pop(call.id, None)
        if call.bid in self._order:
            self._order.remove(call.bid)
        self._settled(call)
        for other_id in (call.consult_of, call.consultation):
            other = self._by_id.get(other_id or "")
            if other is not None:
                other.consult_of = other.consultation = None
        for target in [t for t, origin in self._adopt.items() if origin == call.id and t != call.referred_to]:
            del self._adopt[target]

    def _set_held(self, call: _Call, held: bool, *, reinvite: bool) -> None:
        if reinvite:
            self._expect_reinvite(call)
        if call.held != held:
            call.held = held
            self.emit(CallHeld(call=call.id) if held else CallRetrieved(call=call.id))

    def _expect_reinvite(self, call: _Call) -> None:
        self._settled(call)
        call.reinvite = asyncio.get_running_loop().create_future()

    @staticmethod
    def _settled(call: _Call) -> None:
        if call.reinvite is not None and not call.reinvite.done():
            call.reinvite.set_result(None)
        call.reinvite = None

    async def _settle(self, call: _Call) -> None:
        """Wait until the call's hold/resume re-INVITE has its answer (a second one would be lost)."""
        if call.reinvite is not None:
            try:
                await asyncio.wait_for(asyncio.shield(call.reinvite), self.settings.command_timeout)
            except TimeoutError:
                log.warning("baresip: no SDP answer to the re-INVITE of call %s", call.id)
                self._settled(call)

    def _connected(self, operation: str) -> CtrlClient:
        if self._client is None or self._client.closed:
            raise NotConnected(f"the baresip adapter cannot {operation.replace('_', ' ')}: not connected")
        return self._client

    def _find(self, call: CallId, operation: str, *, answered: bool | None = None) -> _Call:
        found = self._by_id.get(call)
        what = operation.replace("_", " ")
        if found is None:
            raise CtiError(f"the baresip adapter cannot {what} call {call!r}: no such call (or it has ended)")
        if answered is not None and found.answered != answered:
            state = "connected" if found.answered else "not connected yet"
            raise CtiError(f"the baresip adapter cannot {what} call {call}: it is {state}")
        return found

    async def _on_call(self, call: _Call, operation: str, command: str, params: str | None = None) -> Reply:
        """``callfind <id>`` and ``command`` in one write: the menu's commands act on the current call."""
        client = self._connected(operation)
        if call.bid in self._order:
            self._order.remove(call.bid)
            self._order.append(call.bid)
        found, reply = await client.commands(("callfind", call.bid), (command, params))
        if "not found" in found.data:
            raise CtiError(f"the baresip adapter cannot {operation.replace('_', ' ')} call {call.id}: "
                           "baresip no longer has it")
        if not reply.ok:
            raise CtiError(f"baresip refused {command} for call {call.id}: {reply.data.strip()}")
        return reply

    # ------------------------------------------------------------------ operations
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        uri = dial_uri(number, self.settings.account)
        client = self._connected("dial")
        async with self._dial_lock:
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._dial_waiter = waiter
            try:
                dialled, stat = await client.commands(("dial", uri), ("callstat", None))
                if not dialled.ok:
                    raise CtiError(f"baresip could not dial {uri}: {dialled.data.strip() or 'refused'}")
                bid, direction, _ = parse_callstat(stat.data)
                if bid is None or bid in self._calls or direction != "outgoing":
                    bid = await asyncio.wait_for(waiter, self.settings.command_timeout)
            except TimeoutError:
                raise CommandTimeout(f"baresip did not report the call to {uri}") from None
            finally:
                self._dial_waiter = None
            call = self._new_call(bid, "outbound", uri, number)
        self.emit(CallDialing(call=call.id, number=number,
                              data={**(data or {}), "peeruri": uri, "sip_call_id": bid}))
        self._replay(call)
        return call.id

    async def answer(self, call: CallId) -> None:
        found = self._find(call, "answer", answered=False)
        if found.direction != "inbound":
            raise CtiError(f"the baresip adapter cannot answer call {call}: it is an outbound call")
        others = [b for b in self._order if b != found.bid]
        previous = self._calls[others[-1]] if others else None  # accept holds it
        if previous is not None and previous.answered and not previous.held:
            self._expect_reinvite(previous)
        try:
            await self._on_call(found, "answer", "accept")
        except CtiError:
            if previous is not None:
                self._settled(previous)
            raise
        if previous is not None and previous.answered and previous.bid in self._calls:
            self._set_held(previous, True, reinvite=False)

    async def reject(self, call: CallId) -> None:
        found = self._find(call, "reject", answered=False)
        if found.direction != "inbound":
            raise CtiError(f"the baresip adapter cannot reject call {call}: it is an outbound call")
        found.rejected = True
        await self._on_call(found, "reject", "hangup")

    async def hangup(self, call: CallId) -> None:
        found = self._find(call, "hangup")
        found.rejected = found.direction == "inbound" and not found.answered
        await self._on_call(found, "hangup", "hangup")

    async def hold(self, call: CallId) -> None:
        await self._hold(self._find(call, "hold", answered=True), True)

    async def retrieve(self, call: CallId) -> None:
        await self._hold(self._find(call, "retrieve", answered=True), False)

    async def _hold(self, call: _Call, held: bool) -> None:
        async with call.lock:
            await self._settle(call)
            if call.held == held or call.bid not in self._calls:
                return
            self._expect_reinvite(call)
            try:
                await self._on_call(call, "hold" if held else "retrieve", "hold" if held else "resume")
            except CtiError:
                self._settled(call)
                raise
            self._set_held(call, held, reinvite=False)

    async def mute(self, call: CallId, muted: bool) -> None:
        found = self._find(call, "mute", answered=True)
        for _ in range(2):  # baresip 1.0.0's mute toggles; its reply says the new state
            if found.muted == muted:
                return
            reply = await self._on_call(found, "mute", "mute")
            found.muted = "un-muted" not in reply.data

    async def send_dtmf(self, call: CallId, digits: str) -> None:
        found = self._find(call, "send_dtmf", answered=True)
        if not _DTMF.match(digits):
            raise CtiError(f"the baresip adapter cannot send DTMF {digits!r}: only 0-9, *, # and A-D")
        await self._on_call(found, "send_dtmf", "sndcode", digits)

    async def blind_transfer(self, call: CallId, target: str) -> None:
        found = self._find(call, "blind_transfer", answered=True)
        await self._refer(found, dial_uri(target, self.settings.account))

    async def _refer(self, call: _Call, uri: str) -> None:
        async with call.lock:
            await self._settle(call)
            call.transfer_to = uri
            try:
                await self._on_call(call, "transfer", "transfer", uri)
            except CtiError:
                call.transfer_to = None
                raise

    async def consult(self, call: CallId, target: str) -> CallId:
        found = self._find(call, "consult", answered=True)
        if found.consultation is not None:
            raise CtiError(f"the baresip adapter cannot consult: call {call} already has the "
                           f"consultation call {found.consultation}")
        dial_uri(target, self.settings.account)  # a bad target fails before the hold
        await self._hold(found, True)
        consultation = await self.dial(target, {"consultation_of": found.id})
        found.consultation = consultation
        self._by_id[consultation].consult_of = found.id
        return consultation

    def _pair(self, call: CallId, consultation: CallId, operation: str) -> tuple[_Call, _Call]:
        first = self._find(call, operation, answered=True)
        second = self._find(consultation, operation)
        if first.consultation != second.id:
            raise CtiError(f"the baresip adapter cannot {operation.replace('_', ' ')}: {consultation} "
                           f"is not the consultation call of {call}")
        return first, second

    async def complete_transfer(self, call: CallId, consultation: CallId) -> None:
        """Blind transfer to the consultation's party, then hang the consultation up (1.0.0 has no
        attended transfer: the party's phone rings again, with the customer)."""
        first, second = self._pair(call, consultation, "complete_transfer")
        await self._refer(first, second.peer)
        second.ends_as_transfer = True
        if second.bid in self._calls:
            await self._on_call(second, "complete_transfer", "hangup")

    async def cancel_transfer(self, call: CallId, consultation: CallId) -> None:
        first, second = self._pair(call, consultation, "cancel_transfer")
        await self._on_call(second, "cancel_transfer", "hangup")
        if first.held and first.bid in self._calls:  # baresip resumes the latest held call itself
            await self._hold(first, False)
