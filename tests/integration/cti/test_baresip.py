"""The baresip CTI adapter against real SIP peers: baresip processes, directly and through kamailio.

Every process a test starts is stopped in a finally (``quit``, then a kill); ports are free ports;
waits are on events (queues and baresip's own events), never on sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import keyring
import pytest
from pydantic import ValidationError

from tests.conftest import needs_service
from tests.integration.cti.sip_peers import (
    BARESIP,
    KAMAILIO,
    BaresipPeer,
    Kamailio,
    collect_events,
    expect_event,
    free_sip_port,
)
from usd_desktop.cti.adapters.baresip import BaresipAdapter
from usd_desktop.cti.adapters.baresip_config import BaresipSettings, dial_uri, render_account, render_config
from usd_desktop.cti.adapters.baresip_ctrl import close_cause, parse_callstat, parse_listcalls
from usd_desktop.cti.contract import (
    CallAnswered,
    CallDialing,
    CallEnded,
    CallHeld,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    ConnectionLost,
    ConnectionUp,
    CtiError,
    CtiEvent,
    DtmfReceived,
)
from usd_desktop.cti.registry import AdapterRegistry


def _needs(available: bool, reason: str) -> Callable[[Any], Any]:
    """``needs_service``, minus its empty ``usefixtures()`` mark (pytest 9 warns about it, and
    warnings are errors here) when the service is there or under CI."""
    mark = needs_service(available, reason)
    return mark if mark.name == "skip" else (lambda test: test)


needs_baresip = _needs(BARESIP is not None, "baresip is not installed (apt-get install baresip-core)")
needs_kamailio = _needs(KAMAILIO is not None, "kamailio is not installed (apt-get install kamailio)")

StartPeer = Callable[..., Awaitable[BaresipPeer]]
StartAdapter = Callable[..., Awaitable[tuple[BaresipAdapter, "asyncio.Queue[CtiEvent]"]]]


def summary(events: list[CtiEvent]) -> list[tuple[str, str, str]]:
    """(event type, call, cause or target) of each event, to compare without the times."""
    return [(type(e).__name__, getattr(e, "call", ""), getattr(e, "cause", "") or getattr(e, "target", ""))
            for e in events]


@pytest.fixture
async def peers(tmp_path: Path) -> AsyncIterator[StartPeer]:
    started: list[BaresipPeer] = []

    async def start(user: str, **options: Any) -> BaresipPeer:
        peer = BaresipPeer(tmp_path / f"peer-{user}-{len(started)}", user, **options)
        started.append(peer)
        return await peer.start()

    try:
        yield start
    finally:
        for peer in started:
            await peer.stop()


@pytest.fixture
async def adapters() -> AsyncIterator[StartAdapter]:
    made: list[BaresipAdapter] = []

    async def start(**settings: Any) -> tuple[BaresipAdapter, asyncio.Queue[CtiEvent]]:
        adapter = AdapterRegistry.discover().create("baresip", settings)  # its entry point, the keyring
        assert isinstance(adapter, BaresipAdapter)
        made.append(adapter)
        queue: asyncio.Queue[CtiEvent] = asyncio.Queue()
        await adapter.start(queue.put_nowait)
        return adapter, queue

    try:
        yield start
    finally:
        for adapter in made:
            process = adapter.process
            try:
                await adapter.close()
            finally:
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()


@pytest.fixture
async def kamailio(tmp_path: Path) -> AsyncIterator[Kamailio]:
    proxy = Kamailio(tmp_path / "kamailio")
    try:
        yield await proxy.start()
    finally:
        await proxy.stop()


# ---------------------------------------------------------------------- directly, peer to peer
@needs_baresip
async def test_calls_with_a_baresip_caller(peers: StartPeer, adapters: StartAdapter) -> None:
    agent_uri = f"sip:agent@127.0.0.1:{free_sip_port()}"
    keyring.set_password("usd-desktop/cti/baresip", "agent", "pw-from-keyring")
    adapter, events = await adapters(account=agent_uri, username="agent")
    await expect_event(events, ConnectionUp)
    assert adapter.config_dir is not None
    assert adapter.config_dir.stat().st_mode & 0o777 == 0o700
    for path in adapter.config_dir.iterdir():  # the password is in the 0600 accounts file only
        assert path.stat().st_mode & 0o777 == 0o600
        assert ("auth_pass=pw-from-keyring" in path.read_text()) == (path.name == "accounts")
    caller = await peers("5551234", display_name="Ann Caller")

    # inbound: offered with the caller's number and name, answered, held, retrieved, DTMF both ways
    await caller.command("dial", agent_uri)
    offered = await expect_event(events, CallOffered, ani="5551234", caller_name="Ann Caller", dnis="agent",
                                 direction="inbound")
    ringing = await caller.expect("CALL_RINGING")
    assert offered.data == {"peeruri": caller.uri, "sip_call_id": ringing["id"]}
    call = offered.call
    await adapter.answer(call)
    await expect_event(events, CallAnswered, call=call)
    await caller.expect("CALL_ESTABLISHED")
    await adapter.hold(call)
    await expect_event(events, CallHeld, call=call)
    await caller.expect("CALL_REMOTE_SDP", param="offer")  # the hold re-INVITE reached the caller
    await adapter.hold(call)  # a repeated hold does nothing
    await adapter.retrieve(call)
    await expect_event(events, CallRetrieved, call=call)
    await caller.expect("CALL_REMOTE_SDP", param="offer")
    # back to back: each re-INVITE waits for the previous one's answer (baresip would drop it)
    await adapter.hold(call)
    await adapter.retrieve(call)
    await adapter.hold(call)
    await adapter.retrieve(call)
    for kind in (CallHeld, CallRetrieved, CallHeld, CallRetrieved):
        await expect_event(events, kind, call=call)
    for _ in range(4):
        await caller.expect("CALL_REMOTE_SDP", param="offer")
    assert await adapter.resync() == []  # baresip agrees: one call, established, not on hold
    await adapter.mute(call, True)
    await adapter.mute(call, False)
    await caller.command("sndcode", "5")
    await expect_event(events, DtmfReceived, call=call, digits="5")
    await adapter.send_dtmf(call, "7#")
    assert (await caller.expect("CALL_DTMF_START"))["param"] == "7"
    assert (await caller.expect("CALL_DTMF_START"))["param"] == "#"
    with pytest.raises(CtiError, match="only 0-9"):
        await adapter.send_dtmf(call, "12x")

    # a second call: answering it puts the first on hold (baresip does that itself); when it ends,
    # baresip resumes the first
    other = await peers("5550000")
    await other.command("dial", agent_uri)
    second = await expect_event(events, CallOffered, ani="5550000")
    await adapter.answer(second.call)
    both = await collect_events(events, 2)  # in either order
    assert sorted(summary(both)) == [("CallAnswered", second.call, ""), ("CallHeld", call, "")]
    await caller.expect("CALL_REMOTE_SDP", param="offer")
    await other.command("hangup")
    await expect_event(events, CallEnded, call=second.call, cause="normal")
    await expect_event(events, CallRetrieved, call=call)
    await caller.expect("CALL_REMOTE_SDP", param="offer")
    await caller.command("hangup")
    await expect_event(events, CallEnded, call=call, cause="normal")
    with pytest.raises(CtiError, match="no such call"):
        await adapter.hangup(call)

    # outbound: dialling, then answered when the caller accepts; the agent hangs up
    dialled = await adapter.dial(caller.uri, {"crm": "42"})
    dialing = await expect_event(events, CallDialing, call=dialled, number=caller.uri)
    incoming = await caller.expect("CALL_INCOMING")
    assert dialing.data == {"crm": "42", "peeruri": caller.uri, "sip_call_id": incoming["id"]}
    await caller.command("accept")
    await expect_event(events, CallAnswered, call=dialled)
    await adapter.hangup(dialled)
    await expect_event(events, CallEnded, call=dialled, cause="normal")
    await caller.expect("CALL_CLOSED", id=incoming["id"])

    # the far end rejects the agent's call (baresip answers 486 Rejected)
    dialled = await adapter.dial(caller.uri)
    await expect_event(events, CallDialing, call=dialled)
    await caller.expect("CALL_INCOMING")
    await caller.command("hangup")
    await expect_event(events, CallEnded, call=dialled, cause="rejected")

    # a caller who gives up: missed; a call the agent rejects: 486 for the caller
    await caller.command("dial", agent_uri)
    offered = await expect_event(events, CallOffered)
    await caller.command("hangup")
    await expect_event(events, CallMissed, call=offered.call, abandoned=True)
    await caller.command("dial", agent_uri)
    offered = await expect_event(events, CallOffered)
    await adapter.reject(offered.call)
    await expect_event(events, CallEnded, call=offered.call, cause="rejected")
    closed = await caller.expect("CALL_CLOSED", param="486 Rejected")
    assert closed["direction"] == "outgoing"

    # close: quit, the process is gone, so is its private directory
    process, directory = adapter.process, adapter.config_dir
    await adapter.close()
    assert process is not None and process.poll() is not None
    assert not directory.exists()
    await adapter.close()  # idempotent


# ---------------------------------------------------------------------- through kamailio
@needs_baresip
@needs_kamailio
async def test_calls_and_transfers_through_kamailio(kamailio: Kamailio, peers: StartPeer,
                                                     adapters: StartAdapter) -> None:
    proxy = f"sip:127.0.0.1:{kamailio.port}"
    adapter, events = await adapters(account="sip:agent@127.0.0.1", registrar=proxy,
                                     sip_listen=f"127.0.0.1:{free_sip_port()}")
    await expect_event(events, ConnectionUp)  # after its registration
    caller = await peers("5551234", registrar_port=kamailio.port, display_name="Ann Caller")
    third = await peers("2001", registrar_port=kamailio.port)
    agent_via_proxy = f"sip:agent@127.0.0.1:{kamailio.port}"

    async def inbound_call() -> CallOffered:
        await caller.command("dial", agent_via_proxy)
        offered: CallOffered = await expect_event(events, CallOffered, ani="5551234", caller_name="Ann Caller")
        await adapter.answer(offered.call)
        await expect_event(events, CallAnswered, call=offered.call)
        await caller.expect("CALL_ESTABLISHED", peeruri=agent_via_proxy)
        return offered

    # a number nobody registered: the proxy answers 404
    dialled = await adapter.dial("3999")
    await expect_event(events, CallDialing, call=dialled, number="3999")
    await expect_event(events, CallEnded, call=dialled, cause="failed")

    # the same checks as peer to peer, through the proxy
    call = (await inbound_call()).call
    await adapter.hold(call)
    await expect_event(events, CallHeld, call=call)
    await adapter.retrieve(call)
    await expect_event(events, CallRetrieved, call=call)
    await caller.command("sndcode", "9")
    await expect_event(events, DtmfReceived, call=call, digits="9")

    # blind transfer to the third phone: it rings with the caller; the agent's call ends, transferred
    target = f"sip:2001@127.0.0.1:{kamailio.port}"
    await adapter.blind_transfer(call, target)
    transferred = await third.expect("CALL_INCOMING", peeruri=caller.uri)
    await third.on_call(transferred["id"], "accept")
    await expect_event(events, CallTransferred, call=call, target=target)
    await expect_event(events, CallEnded, call=call, cause="transferred")
    await caller.expect("CALL_ESTABLISHED", peeruri=target)
    await third.on_call(transferred["id"], "hangup")
    await caller.expect("CALL_CLOSED", id=transferred["id"])

    # consultation with a bare number (dialled at the account's domain, through the proxy), completed
    call = (await inbound_call()).call
    consultation = await adapter.consult(call, "2001")
    await expect_event(events, CallHeld, call=call)
    dialing = await expect_event(events, CallDialing, call=consultation, number="2001")
    assert dialing.data["consultation_of"] == call
    assert dialing.data["peeruri"] == "sip:2001@127.0.0.1"
    consulted = await third.expect("CALL_INCOMING", peeruri="sip:agent@127.0.0.1")
    await third.on_call(consulted["id"], "accept")
    await expect_event(events, CallAnswered, call=consultation)
    await adapter.complete_transfer(call, consultation)
    second = await third.expect("CALL_INCOMING", peeruri=caller.uri)
    await third.expect("CALL_CLOSED", id=consulted["id"])
    await third.on_call(second["id"], "accept")
    seen = await collect_events(events, 4)
    assert summary(seen) == [
        ("CallEnded", consultation, "transferred"),
        ("CallRetrieved", call, ""),  # baresip resumed it when the consultation ended
        ("CallTransferred", call, "sip:2001@127.0.0.1"),
        ("CallEnded", call, "transferred"),
    ]
    await caller.expect("CALL_ESTABLISHED", id=second["id"])
    await third.on_call(second["id"], "hangup")

    # consultation cancelled: the consultation ends, the call is back
    offered = await inbound_call()
    call = offered.call
    consultation = await adapter.consult(call, f"2001@127.0.0.1:{kamailio.port}")
    await expect_event(events, CallHeld, call=call)
    await expect_event(events, CallDialing, call=consultation)
    consulted = await third.expect("CALL_INCOMING", peeruri="sip:agent@127.0.0.1")
    await third.on_call(consulted["id"], "accept")
    await expect_event(events, CallAnswered, call=consultation)
    await adapter.cancel_transfer(call, consultation)
    await expect_event(events, CallEnded, call=consultation, cause="normal")
    await expect_event(events, CallRetrieved, call=call)
    await adapter.hold(call)  # holds work again after baresip's own resume
    await expect_event(events, CallHeld, call=call)

    # the far end transfers the agent (REFER): baresip calls the target by itself, and that call is
    # the agent's too; the first one ends, transferred
    await caller.on_call(offered.data["sip_call_id"], "transfer", target)
    dialing = await expect_event(events, CallDialing, number=target)
    assert dialing.data["transferred_from"] == call
    incoming = await third.expect("CALL_INCOMING", peeruri=agent_via_proxy)  # From: the call's To
    await third.on_call(incoming["id"], "accept")
    await expect_event(events, CallAnswered, call=dialing.call)
    await expect_event(events, CallTransferred, call=call, target=target)
    await expect_event(events, CallEnded, call=call, cause="transferred")
    await adapter.hangup(dialing.call)
    await expect_event(events, CallEnded, call=dialing.call, cause="normal")
    await third.expect("CALL_CLOSED", id=incoming["id"])


# ---------------------------------------------------------------------- attach, resync, restarts
@needs_baresip
async def test_attach_resync_and_a_killed_baresip(peers: StartPeer, adapters: StartAdapter) -> None:
    phone = await peers("agent")  # a baresip someone else runs
    caller = await peers("5551234")
    adapter, events = await adapters(mode="attach", ctrl_port=phone.ctrl_port, account=phone.uri)
    await expect_event(events, ConnectionUp)
    await caller.command("dial", phone.uri)
    offered = await expect_event(events, CallOffered, ani="5551234")
    await adapter.answer(offered.call)
    await expect_event(events, CallAnswered, call=offered.call)
    await adapter.hold(offered.call)
    await expect_event(events, CallHeld, call=offered.call)

    # a second client takes ctrl_tcp over (one client at a time): the first one lost it
    other, other_events = await adapters(mode="attach", ctrl_port=phone.ctrl_port, account=phone.uri)
    await expect_event(other_events, ConnectionUp)
    await expect_event(events, ConnectionLost)
    resynced = await other.resync()
    offered_again = resynced[0]
    assert isinstance(offered_again, CallOffered)
    assert offered_again.ani == "5551234" and offered_again.direction == "inbound"
    call = offered_again.call
    assert summary(resynced) == [("CallOffered", call, ""), ("CallAnswered", call, ""), ("CallHeld", call, "")]
    await other.retrieve(call)
    await expect_event(other_events, CallRetrieved, call=call)
    await caller.command("hangup")
    await expect_event(other_events, CallEnded, call=call, cause="normal")
    await other.close()  # attached: baresip goes on running
    assert phone.process is not None and phone.process.poll() is None

    # spawned: a killed baresip is a lost connection; connect() starts it again
    agent_uri = f"sip:agent@127.0.0.1:{free_sip_port()}"
    spawned, spawned_events = await adapters(account=agent_uri)
    await expect_event(spawned_events, ConnectionUp)
    await caller.command("dial", agent_uri)
    offered = await expect_event(spawned_events, CallOffered)
    await spawned.answer(offered.call)
    await expect_event(spawned_events, CallAnswered, call=offered.call)
    first_process = spawned.process
    assert first_process is not None
    first_process.kill()
    lost = await expect_event(spawned_events, ConnectionLost)
    assert "exited" in lost.reason, lost
    await spawned.connect()
    await expect_event(spawned_events, ConnectionUp)
    assert spawned.process is not None and spawned.process.pid != first_process.pid
    resynced = await spawned.resync()  # the call died with the old process
    assert summary(resynced) == [("CallEnded", offered.call, "failed")]
    await caller.command("hangup")
    await caller.command("dial", agent_uri)
    offered = await expect_event(spawned_events, CallOffered)
    await spawned.reject(offered.call)
    await expect_event(spawned_events, CallEnded, call=offered.call, cause="rejected")


@needs_baresip
async def test_attach_fails_cleanly_without_baresip() -> None:
    port = free_sip_port()  # nobody listens there
    adapter = BaresipAdapter(BaresipSettings(mode="attach", ctrl_port=port, command_timeout=1))
    with pytest.raises(CtiError, match="cannot reach ctrl_tcp"):
        await adapter.start(lambda event: None)
    await adapter.close()


# ---------------------------------------------------------------------- no processes needed
def test_settings_refuse_a_remote_ctrl_host_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="not a loopback address"):
        BaresipSettings(mode="attach", ctrl_host="192.0.2.10")
    assert BaresipSettings(mode="attach", ctrl_host="192.0.2.10", allow_remote=True).ctrl_host == "192.0.2.10"
    assert BaresipSettings(mode="attach", ctrl_host="localhost").ctrl_host == "localhost"
    with pytest.raises(ValidationError, match="not a SIP URI"):
        BaresipSettings(account="agent at example")
    with pytest.raises(ValidationError, match="no user part"):
        BaresipSettings(account="sip:example.com")


def test_dial_targets() -> None:
    account = "sip:agent@pbx.example.com"
    assert dial_uri("+358 40 123-4567", account) == "sip:+358401234567@pbx.example.com"
    assert dial_uri("2001", "sip:agent@127.0.0.1:5062") == "sip:2001@127.0.0.1:5062"
    assert dial_uri("tel:+35840123", account) == "sip:+35840123@pbx.example.com"
    assert dial_uri("bob@example.org", account) == "sip:bob@example.org"
    assert dial_uri("sip:bob@10.0.0.1:5080;transport=tcp", account) == "sip:bob@10.0.0.1:5080;transport=tcp"
    for bad in ("", "call me", "sip:bob@host with space", "sip:a@b\"c"):
        with pytest.raises(CtiError, match="cannot dial"):
            dial_uri(bad, account)


def test_generated_configuration_keeps_the_password_in_the_account_line_only() -> None:
    settings = BaresipSettings(account="sip:agent1@pbx.example.com", registrar="sip:pbx.example.com:5060",
                               username="agent1", display_name="Agent One", audio="alsa")
    line = render_account(settings, "s3cret")
    assert line.startswith('"Agent One" <sip:agent1@pbx.example.com>;auth_user=agent1;auth_pass=s3cret;')
    assert 'outbound="sip:pbx.example.com:5060"' in line and "regint=600" in line
    config = render_config(settings, 4567)
    assert "s3cret" not in config
    assert "ctrl_tcp_listen 127.0.0.1:4567" in config and "module alsa.so" in config
    assert "sip_listen 0.0.0.0:5060" in config and "net_interface" not in config
    with pytest.raises(CtiError, match="cannot use this SIP password"):
        render_account(settings, "with space")
    assert "auth_pass" not in render_account(settings, None)
    assert BaresipAdapter.keyring_service == "usd-desktop/cti/baresip"


def test_baresip_output_parsers() -> None:
    assert close_cause("Connection reset by peer") == "normal"
    assert close_cause("486 Busy Here") == "busy"
    assert close_cause("486 Rejected") == "rejected"
    assert close_cause("603 Decline") == "rejected"
    assert close_cause("404 Not Found") == "failed"
    assert close_cause("Connection timed out") == "failed"
    listed = parse_listcalls("\n--- Active calls (2) ---\n> [line 1]  0:00:02  ESTABLISHED  "
                             "           sip:bob@127.0.0.1:15080\n  [line 2]  0:00:00   INCOMING  "
                             "(on hold)  sip:carol@127.0.0.1:15090\n\n")
    assert [(c.line, c.state, c.on_hold, c.peer) for c in listed] == [
        ("1", "ESTABLISHED", False, "sip:bob@127.0.0.1:15080"),
        ("2", "INCOMING", True, "sip:carol@127.0.0.1:15090")]
    stat = ("\n===== Call debug (OUTGOING) =====\n local_uri: Bob Smith <sip:5551234@127.0.0.1:15080>\n"
            " peer_uri:   Ann <sip:alice@127.0.0.1:15070>\n af=AF_INET id=2dbed8067947cc06\n"
            " direction: Outgoing\n")
    assert parse_callstat(stat) == ("2dbed8067947cc06", "outgoing", "Ann")
