"""The USD-compatible HTTP listener over real HTTP on 127.0.0.1 (ephemeral ports), and usd-cti-hook."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from usd_desktop.cti import contract as c
from usd_desktop.cti.adapters import softphone_hook
from usd_desktop.cti.adapters.http_listener import (
    HttpListenerAdapter,
    HttpListenerSettings,
    dial_argv,
    parse_query,
    peer_refusal,
)
from usd_desktop.cti.registry import AdapterRegistry


class Events:
    def __init__(self) -> None:
        self.items: list[c.CtiEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: c.CtiEvent) -> None:
        self.items.append(event)
        self._changed.set()

    def of(self, kind: type[c.CtiEvent]) -> list[Any]:
        return [e for e in self.items if isinstance(e, kind)]

    async def wait_for(self, kind: type[c.CtiEvent], count: int = 1) -> list[Any]:
        async def wait() -> None:
            while len(self.of(kind)) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), 10)
        return self.of(kind)


Start = Callable[..., Awaitable[tuple[HttpListenerAdapter, Events]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    adapters: list[HttpListenerAdapter] = []

    async def make(**settings: Any) -> tuple[HttpListenerAdapter, Events]:
        settings.setdefault("port", 0)
        adapter = HttpListenerAdapter(HttpListenerSettings.model_validate(settings))
        events = Events()
        await adapter.start(events)
        adapters.append(adapter)
        return adapter, events

    yield make
    for adapter in adapters:
        await adapter.close()


async def raw_get(port: int, target: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One HTTP/1.1 GET with ``target`` sent byte for byte (no client re-encoding)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = {"Host": f"127.0.0.1:{port}", "Connection": "close", **(headers or {})}
    head = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in lines.items())
    writer.write(b"GET " + target + b" HTTP/1.1\r\n" + head + b"\r\n")
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = response.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    return int(status_line.split()[1]), parsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- popping calls
async def test_usd_url_pops_a_call(start: Start):
    adapter, events = await start()
    assert adapter.port not in (0, 5000)
    assert isinstance(events.items[0], c.ConnectionUp) and adapter.url in events.items[0].detail
    status, body = await raw_get(
        adapter.port,
        b"/?ani=%2B358401234567&dnis=4355&type=phonecall&customerid=49383433&Email=aino%40example.fi"
        b"&note=call+back+after+3&nume=%C8%98tefan&queue=Billing&caller_name=Aino%20V.&empty=",
    )
    assert status == 200
    offered = events.of(c.CallOffered)[0]
    assert body == {"call": offered.call}
    assert (offered.ani, offered.dnis, offered.queue, offered.caller_name) == (
        "+358401234567", "4355", "Billing", "Aino V.")
    assert offered.direction == "inbound" and offered.activity == "phonecall"
    # every other key, as given (USD keeps the case: [[cti.Email]])
    assert dict(offered.data) == {"customerid": "49383433", "Email": "aino@example.fi",
                                  "note": "call back after 3", "nume": "Ștefan", "empty": ""}
    assert adapter.call_state(offered.call) == "ringing"


async def test_types_reserved_keys_and_the_leading_plus(start: Start):
    adapter, events = await start()
    await raw_get(adapter.port, b"/?ANI=+358401234567&Type=Chat&x=+1&x=2")
    await raw_get(adapter.port, b"/?ani=123&type=fax&weird%20key=ok")
    first, second = events.of(c.CallOffered)
    assert first.ani == "+358401234567"  # an unencoded leading + is the international prefix
    assert first.activity == "chat"
    assert dict(first.data) == {"x": "2"}  # the last value wins
    assert second.activity == "phonecall"
    assert dict(second.data) == {"type": "fax", "weird key": "ok"}


async def test_post_form_and_json(start: Start):
    adapter, events = await start()
    async with aiohttp.ClientSession() as http:
        async with http.post(adapter.url + "?type=email", data={"ani": "+40712402267", "nume": "Ștefan"}) as r:
            assert r.status == 200
        async with http.post(adapter.url, json={"ani": "+86131", "order": 1187, "vip": True}) as r:
            assert r.status == 200
        async with http.post(adapter.url, json=[1, 2]) as r:
            assert r.status == 400 and "object" in (await r.json())["error"]
        async with http.post(adapter.url, json={"nested": {"a": 1}}) as r:
            assert r.status == 400
        async with http.post(adapter.url, data=b"x", headers={"Content-Type": "text/plain"}) as r:
            assert r.status == 415
        async with http.post(adapter.url, data={"big": "x" * 9000}) as r:
            assert r.status == 413
    form, body = events.of(c.CallOffered)
    assert (form.ani, form.activity, dict(form.data)) == ("+40712402267", "email", {"nume": "Ștefan"})
    assert dict(body.data) == {"order": "1187", "vip": "true"}


@pytest.mark.parametrize(("target", "expected"), [
    (b"/?ani=%ZZ", "bad percent-encoding '%ZZ'"),
    (b"/?ani=12%4", "bad percent-encoding '%4'"),
    (b"/?nume=%C3%28", "not valid UTF-8"),
    (b"/?nume=%FF", "not valid UTF-8"),
    (b"/?a%5Bb%5D=1", "not allowed"),
])
async def test_bad_encodings_are_400_with_a_clear_message(start: Start, target: bytes, expected: str):
    adapter, events = await start()
    status, body = await raw_get(adapter.port, target)
    assert status == 400
    assert expected in body["error"]
    assert not events.of(c.CallOffered)


async def test_raw_invalid_utf8_bytes_are_400(start: Start):
    adapter, events = await start()
    status, _ = await raw_get(adapter.port, b"/?nume=\xc3\x28")
    assert status == 400
    assert not events.of(c.CallOffered)


async def test_a_long_query_is_414(start: Start):
    adapter, events = await start()
    status, body = await raw_get(adapter.port, b"/?ani=1&data=" + b"x" * 20_000)
    assert status == 414 and "at most 8192" in body["error"]
    status, _ = await raw_get(adapter.port, b"/?ani=1&data=" + b"x" * 8000)
    assert status == 200
    assert len(events.of(c.CallOffered)) == 1


async def test_health_and_unknown_paths(start: Start):
    adapter, _ = await start()
    assert await raw_get(adapter.port, b"/health") == (200, {"status": "ok", "adapter": "http_listener"})
    status, _ = await raw_get(adapter.port, b"/other?ani=1")
    assert status == 404


# ---------------------------------------------------------------------- security
async def test_the_token_is_enforced(start: Start):
    adapter, events = await start(token="s3cret")
    assert (await raw_get(adapter.port, b"/?ani=1"))[0] == 403
    status, body = await raw_get(adapter.port, b"/?ani=1&token=wrong")
    assert status == 403 and "token" in body["error"]
    assert (await raw_get(adapter.port, b"/?ani=1", {"Authorization": "Bearer nope"}))[0] == 403
    assert not events.of(c.CallOffered)
    assert (await raw_get(adapter.port, b"/?ani=1&token=s3cret"))[0] == 200
    assert (await raw_get(adapter.port, b"/?ani=2", {"Authorization": "Bearer s3cret"}))[0] == 200
    assert (await raw_get(adapter.port, b"/?ani=3", {"X-USD-Token": "s3cret"}))[0] == 200
    assert [dict(e.data) for e in events.of(c.CallOffered)] == [{}, {}, {}]  # the token is not data


async def test_web_pages_are_refused(start: Start):
    adapter, events = await start(allowed_origins=["https://crm.example"])
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Host": "evil.example"}, {"Host": "rebind.example:5000"}):
        status, body = await raw_get(adapter.port, b"/?ani=1", headers)
        assert status == 403, headers
        assert "refused" in body["error"]
    assert not events.of(c.CallOffered)
    # typed in the browser's address bar, from an allowed page, or by localhost name
    for headers in ({"Sec-Fetch-Site": "none"}, {"Origin": "https://crm.example"},
                    {"Host": f"localhost:{adapter.port}"}, {"Host": f"[::1]:{adapter.port}"}):
        assert (await raw_get(adapter.port, b"/?ani=1", headers))[0] == 200, headers


async def test_a_peer_that_is_not_on_loopback_is_refused():
    adapter = HttpListenerAdapter(HttpListenerSettings(port=0))
    events = Events()
    adapter._sink = events  # started without a socket: the handler is called directly
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.0.2.7", 40000)
    request = make_mocked_request("GET", "/?ani=1", headers={"Host": "127.0.0.1:5000"},
                                  transport=transport)
    assert request.remote == "192.0.2.7"
    response = await adapter._handle(request)
    assert response.status == 403
    assert "192.0.2.7" in json.loads(response.text or "")["error"]
    assert not events.of(c.CallOffered)


def test_peer_refusal_rules():
    def refusal(remote: str | None, allow_remote: bool = False) -> str | None:
        return peer_refusal(remote=remote, host_header="127.0.0.1:5000", origin=None, fetch_site=None,
                            allow_remote=allow_remote)

    assert refusal("127.0.0.1") is None
    assert refusal("127.8.9.1") is None
    assert refusal("::1") is None
    assert refusal("::ffff:127.0.0.1") is None
    assert refusal("10.1.2.3") is not None
    assert refusal(None) is not None
    assert refusal("10.1.2.3", allow_remote=True) is None
    assert peer_refusal(remote="10.1.2.3", host_header="pbx.example", origin=None, fetch_site=None,
                        allow_remote=True) is None
    assert peer_refusal(remote="127.0.0.1", host_header="127.0.0.1.nip.io", origin=None,
                        fetch_site=None) is not None


def test_settings_refuse_remote_hosts_unless_allowed_with_a_token():
    with pytest.raises(ValueError, match="not a loopback address"):
        HttpListenerSettings(host="0.0.0.0")
    with pytest.raises(ValueError, match="allow_remote needs a token"):
        HttpListenerSettings(host="0.0.0.0", allow_remote=True)
    assert HttpListenerSettings(host="0.0.0.0", allow_remote=True, token="t").host == "0.0.0.0"
    assert HttpListenerSettings(host="localhost").host == "localhost"
    with pytest.raises(ValueError, match="either in the keyring"):
        HttpListenerSettings(token="t", token_keyring=True)
    with pytest.raises(ValueError, match="cannot be split"):
        HttpListenerSettings(dial_command="microsip.exe 'unclosed")


async def test_port_in_use_is_a_cti_error(start: Start):
    first, _ = await start()
    second = HttpListenerAdapter(HttpListenerSettings(port=first.port))
    with pytest.raises(c.CtiError, match=f"cannot listen on 127.0.0.1:{first.port}"):
        await second.start(Events())
    await second.close()


# ---------------------------------------------------------------------- call progress and operations
async def test_softphone_events_by_call_id_and_by_number(start: Start):
    adapter, events = await start()
    _, popped = await raw_get(adapter.port, b"/?ani=%2B358401234567")
    call = popped["call"]
    assert await raw_get(adapter.port, f"/?event=answer&callid={call}".encode()) == (
        200, {"call": call, "event": "answer"})
    assert adapter.call_state(call) == "active"
    # the number as the phone gives it: spaces and + do not matter
    assert (await raw_get(adapter.port, b"/?event=hangup&ani=358%2040%20123%204567"))[0] == 200
    ended = events.of(c.CallEnded)
    assert [(e.call, e.cause) for e in ended] == [(call, "normal")]
    status, body = await raw_get(adapter.port, b"/?event=hangup&ani=999")
    assert status == 404 and "no live call 999" in body["error"]
    status, body = await raw_get(adapter.port, b"/?event=teleport&ani=1")
    assert status == 400 and "unknown event 'teleport'" in body["error"]
    # a hang-up while ringing: the caller gave up
    _, popped = await raw_get(adapter.port, b"/?ani=555")
    assert (await raw_get(adapter.port, b"/?event=hangup"))[0] == 200  # no number: the latest call
    assert [(m.call, m.abandoned) for m in events.of(c.CallMissed)] == [(popped["call"], True)]
    # a call placed on the phone itself
    status, body = await raw_get(adapter.port, b"/?event=dial&number=%2B40712402267")
    assert status == 200
    assert events.of(c.CallDialing)[0].number == "+40712402267"
    assert adapter.call_state(body["call"]) == "dialing"


async def test_a_call_nobody_reports_on_is_missed_after_ring_seconds(start: Start):
    adapter, events = await start(ring_seconds=0.05)
    _, popped = await raw_get(adapter.port, b"/?ani=1")
    missed = await events.wait_for(c.CallMissed)
    assert [(m.call, m.abandoned) for m in missed] == [(popped["call"], False)]
    assert adapter.call_state(popped["call"]) is None


async def test_operations_change_the_state_and_emit_events(start: Start):
    adapter, events = await start(ring_seconds=None)
    assert "dial" not in adapter.capabilities and "answer" in adapter.capabilities
    _, popped = await raw_get(adapter.port, b"/?ani=1")
    call = popped["call"]
    await adapter.answer(call)
    await adapter.hold(call)
    await adapter.retrieve(call)
    await adapter.mute(call, True)
    await adapter.hangup(call)
    assert [type(e).__name__ for e in events.items if getattr(e, "call", None) == call] == [
        "CallOffered", "CallAnswered", "CallHeld", "CallRetrieved", "CallEnded"]
    _, popped = await raw_get(adapter.port, b"/?ani=2")
    await adapter.reject(popped["call"])
    assert events.items[-1] == c.CallEnded(call=popped["call"], cause="rejected", at=events.items[-1].at)
    with pytest.raises(c.NotSupported, match="dial_command"):
        await adapter.dial("123")
    with pytest.raises(c.NotSupported):
        await adapter.blind_transfer(call, "2001")
    await adapter.login("agent1")
    await adapter.set_agent_state("not_ready", "break")
    assert [(e.state, e.reason) for e in events.of(c.AgentStateChanged)] == [
        ("available", "login"), ("not_ready", "break")]
    assert [type(e).__name__ for e in await adapter.resync()] == ["AgentStateChanged"]


async def test_dial_runs_the_dial_command_without_a_shell(start: Start, tmp_path: Path):
    out = tmp_path / "dialled.txt"
    script = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    template = f"{sys.executable} -c \"{script}\" {out} {{number}}"
    adapter, events = await start(dial_command=template)
    assert "dial" in adapter.capabilities and "dial" not in HttpListenerAdapter.capabilities
    call = await adapter.dial("+358401234567", {"case": "CAS-1"})
    dialing = events.of(c.CallDialing)[0]
    assert (dialing.call, dialing.number, dict(dialing.data)) == (call, "+358401234567", {"case": "CAS-1"})
    for _ in range(200):
        if out.exists() and out.read_text():
            break
        await asyncio.sleep(0.05)
    assert out.read_text() == "+358401234567"
    with pytest.raises(c.CtiError, match="cannot dial"):
        await adapter.dial("123; rm -rf /")
    with pytest.raises(c.CtiError, match="cannot dial"):
        await adapter.dial("--help")


def test_dial_argv_keeps_the_number_one_argument():
    assert dial_argv("microsip.exe {number}", "+358 40") == ["microsip.exe", "+358 40"]
    assert dial_argv("phone --call", "123") == ["phone", "--call", "123"]
    assert dial_argv("phone --to=sip:{number}@pbx", "2001") == ["phone", "--to=sip:2001@pbx"]


def test_parse_query():
    assert parse_query("a=1&&b=x+y&c&=z&ani=+1") == [("a", "1"), ("b", "x y"), ("c", ""), ("ani", "+1")]


async def test_the_registry_builds_it_with_the_keyring_token(start: Start, memory_keyring: Any):
    memory_keyring.set_password("usd-desktop/cti/http_listener", "token", "from-keyring")
    adapter = AdapterRegistry.discover().create("http_listener", {"port": 0, "token_keyring": True})
    assert isinstance(adapter, HttpListenerAdapter)
    events = Events()
    await adapter.start(events)
    try:
        assert (await raw_get(adapter.port, b"/?ani=1&token=from-keyring"))[0] == 200
        assert (await raw_get(adapter.port, b"/?ani=1"))[0] == 403
    finally:
        await adapter.close()


# ---------------------------------------------------------------------- usd-cti-hook
async def run_hook(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "usd_desktop.cti.adapters.softphone_hook", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**_clean_env(), **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("USD_CTI_", "TWINKLE_", "SIP_"))}


async def test_the_hook_end_to_end(start: Start):
    adapter, events = await start(token="t0k", ring_seconds=None)
    code, out, err = await run_hook("--url", adapter.url, "--token", "t0k", "--queue", "Billing",
                                    "+358 40 123 4567", "reason=invoice", "nume=Ștefan", "note=a+b c")
    assert (code, out, err) == (0, "", "")
    offered = events.of(c.CallOffered)[0]
    assert (offered.ani, offered.queue) == ("+358 40 123 4567", "Billing")
    assert dict(offered.data) == {"reason": "invoice", "nume": "Ștefan", "note": "a+b c"}
    # the token from the environment, as MicroSIP needs it
    env = {"USD_CTI_URL": adapter.url, "USD_CTI_TOKEN": "t0k"}
    assert (await run_hook("--event", "answer", "+358401234567", env=env))[0] == 0
    assert adapter.call_state(offered.call) == "active"
    assert (await run_hook("--event", "hangup", "+358401234567", env=env))[0] == 0
    assert events.of(c.CallEnded)[0].call == offered.call
    code, out, err = await run_hook("--url", adapter.url, "--token", "wrong", "123")
    assert code == 1 and out == ""
    assert "refused the call event (403): a missing or wrong token" in err


async def test_the_hook_says_when_the_desktop_is_not_listening():
    code, out, err = await run_hook("--url", f"http://127.0.0.1:{free_port()}/", "123")
    assert code == 1 and out == ""
    assert "the desktop is not listening at" in err and "connection refused" in err


async def test_the_hook_in_twinkle_mode(start: Start):
    adapter, events = await start(ring_seconds=None)
    env = {"USD_CTI_URL": adapter.url, "TWINKLE_TRIGGER": "in_call", "SIP_FROM_USER": "0401234567",
           "SIP_TO_USER": "800100", "SIP_FROM": '"Aino Virtanen" <sip:0401234567@pbx.example>;tag=1'}
    assert await run_hook("--twinkle", env=env) == (0, "", "")
    offered = events.of(c.CallOffered)[0]
    assert (offered.ani, offered.dnis, offered.caller_name) == ("0401234567", "800100", "Aino Virtanen")
    env.update(TWINKLE_TRIGGER="in_call_answered")
    assert (await run_hook("--twinkle", env=env))[0] == 0
    env.update(TWINKLE_TRIGGER="remote_release")
    assert (await run_hook("--twinkle", env=env))[0] == 0
    assert [type(e).__name__ for e in events.items[1:]] == ["CallOffered", "CallAnswered", "CallEnded"]


def test_hook_helpers():
    url = softphone_hook.build_url("http://127.0.0.1:5000/", [("ani", "+358 40"), ("k", "a&b=c")])
    assert url == "http://127.0.0.1:5000/?ani=%2B358%2040&k=a%26b%3Dc"
    assert softphone_hook.display_name('"Aino \\"A\\" V" <sip:1@x>') == 'Aino "A" V'
    assert softphone_hook.display_name("Bob <sip:2@x>") == "Bob"
    assert softphone_hook.display_name("<sip:2@x>") == ""
    assert softphone_hook.display_name("sip:2@x") == ""
    assert softphone_hook.main(["--twinkle"], {"TWINKLE_TRIGGER": "nonsense"}) == 1
    assert softphone_hook.main(["--url", "ftp://x", "1"], {}) == 1
    with pytest.raises(SystemExit):
        softphone_hook.main(["1", "2"], {})
