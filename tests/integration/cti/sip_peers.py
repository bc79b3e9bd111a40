"""Real SIP peers for the baresip adapter's tests: baresip and kamailio processes on free ports.

:class:`BaresipPeer` runs a baresip (configured by the adapter's own generator, in a temporary
directory) and drives it through its own ctrl_tcp connection; every event it sends is kept, and
:meth:`BaresipPeer.expect` waits for the first one not yet taken that matches. :class:`Kamailio`
runs kamailio as a registrar and proxy. Both are stopped in ``stop()`` (baresip: ``quit``, then a
kill; kamailio: SIGTERM, then a kill). Nothing here sleeps to wait for something: it waits on
events, or polls a port while a process starts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from usd_desktop.cti.adapters.baresip_config import BaresipSettings, free_tcp_port, write_config_dir
from usd_desktop.cti.adapters.baresip_ctrl import CtrlClient, Reply, registered
from usd_desktop.cti.contract import CtiEvent

BARESIP = shutil.which("baresip")
KAMAILIO = shutil.which("kamailio", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
KAMAILIO_MODULES = next((str(p) for p in Path("/usr/lib").glob("*/kamailio/modules") if p.is_dir()),
                        "/usr/lib/x86_64-linux-gnu/kamailio/modules")
TIMEOUT = 10.0
_taken: set[int] = set()


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port() -> int:
    """A port free for SIP over UDP and TCP, with port + 1 free too (baresip binds TLS there), at
    least 2 away from the ports given out before."""
    while True:
        port = free_tcp_port()
        if port + 1 > 65535 or any(abs(port - other) < 2 for other in _taken):
            continue
        if _bindable(socket.SOCK_DGRAM, port) and _bindable(socket.SOCK_STREAM, port + 1):
            _taken.add(port)
            return port


async def expect_event(queue: asyncio.Queue[CtiEvent], kind: type[CtiEvent], timeout: float = TIMEOUT,
                       **fields: Any) -> Any:
    """The next adapter event, which must be a ``kind`` with ``fields`` (the test fails otherwise)."""
    event = await asyncio.wait_for(queue.get(), timeout)
    assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
    for name, value in fields.items():
        assert getattr(event, name) == value, f"{kind.__name__}.{name}: {getattr(event, name)!r} != {value!r}"
    return event


async def collect_events(queue: asyncio.Queue[CtiEvent], count: int, timeout: float = TIMEOUT) -> list[CtiEvent]:
    """The next ``count`` adapter events (for steps whose events come in an order not fixed)."""
    return [await asyncio.wait_for(queue.get(), timeout) for _ in range(count)]


class BaresipPeer:
    """A baresip process on 127.0.0.1, driven by the test through ctrl_tcp."""

    def __init__(self, directory: Path, user: str, *, registrar_port: int | None = None,
                 display_name: str = "") -> None:
        self.directory = directory
        self.sip_port = free_sip_port()
        self.ctrl_port = free_tcp_port()
        if registrar_port is None:
            account = f"sip:{user}@127.0.0.1:{self.sip_port}"
            registrar = None
        else:
            account = f"sip:{user}@127.0.0.1:{registrar_port}"
            registrar = f"sip:127.0.0.1:{registrar_port}"
        self.uri = account
        self.settings = BaresipSettings(account=account, registrar=registrar, display_name=display_name,
                                        sip_listen=f"127.0.0.1:{self.sip_port}")
        self.process: subprocess.Popen[bytes] | None = None
        self.client: CtrlClient | None = None
        self.events: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    async def start(self) -> BaresipPeer:
        assert BARESIP is not None, "baresip is not installed (apt-get install baresip-core)"
        write_config_dir(self.directory, self.settings, self.ctrl_port, None)
        with open(self.directory / "baresip.log", "ab") as out:
            self.process = subprocess.Popen([BARESIP, "-f", str(self.directory)], stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT)
        await self.connect()
        if self.settings.registrar:
            await poll(lambda: self.command("reginfo"), lambda reply: registered(reply.data))
        return self

    async def connect(self) -> None:
        """(Re)connect the test's ctrl_tcp client (a new connection replaces the adapter's)."""
        async def attempt() -> CtrlClient | None:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                return await CtrlClient.open("127.0.0.1", self.ctrl_port, on_event=self._event,
                                             on_lost=lambda reason: None, timeout=TIMEOUT)
            except OSError:
                return None

        self.client = await poll(attempt, lambda client: client is not None)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._arrived.set()

    async def command(self, command: str, params: str | None = None) -> Reply:
        assert self.client is not None
        reply = await self.client.command(command, params)
        assert reply.ok, f"{command} {params or ''}: {reply.data}"
        return reply

    async def on_call(self, call_id: str, command: str, params: str | None = None) -> Reply:
        """``command`` for the call ``call_id`` (baresip 1.0.0's menu acts on the current call)."""
        assert self.client is not None
        found, reply = await self.client.commands(("callfind", call_id), (command, params))
        assert "not found" not in found.data and reply.ok, f"{command}: {found.data} {reply.data}"
        return reply

    async def expect(self, kind: str, timeout: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The first event not taken yet of type ``kind`` with ``fields``; it is taken."""
        async def scan() -> dict[str, Any]:
            while True:
                for index, event in enumerate(self.events):
                    if event.get("type") == kind and all(event.get(k) == v for k, v in fields.items()):
                        return self.events.pop(index)
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            seen = [(e.get("type"), e.get("param")) for e in self.events]
            raise AssertionError(f"{self.uri}: no {kind} {fields} in {timeout} s; seen {seen}") from None

    def log(self) -> str:
        try:
            return (self.directory / "baresip.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    async def stop(self) -> None:
        """``quit`` (through a new connection when the adapter took this one over), else a kill."""
        process = self.process
        try:
            if process is not None and process.poll() is None:
                if self.client is None or self.client.closed:
                    self.client = await CtrlClient.open("127.0.0.1", self.ctrl_port, on_event=self._event,
                                                        on_lost=lambda reason: None, timeout=TIMEOUT)
                self.client.closing = True
                await self.client.command("quit")
        except Exception:
            if process is not None and process.poll() is None:
                process.kill()
        finally:
            if self.client is not None:
                await self.client.close()
            await stop_process(process)


class Kamailio:
    """kamailio as registrar and proxy on 127.0.0.1 (UDP and TCP), with its state in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_sip_port()
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        return f"""#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:{self.port}
listen=tcp:127.0.0.1:{self.port}
alias="127.0.0.1:{self.port}"
mpath="{KAMAILIO_MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)
modparam("rr", "append_fromtag", 1)
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("REGISTER")) {{ if (!save("location")) {{ sl_reply_error(); }} exit; }}
    if (is_method("INVITE|SUBSCRIBE|REFER")) {{ record_route(); }}
    if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
    if (!t_relay()) {{ sl_reply_error(); }}
    exit;
}}
"""

    async def start(self) -> Kamailio:
        assert KAMAILIO is not None, "kamailio is not installed (apt-get install kamailio)"
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "kamailio.cfg").write_text(self.config())
        with open(self.directory / "kamailio.log", "ab") as out:
            self.process = subprocess.Popen(
                [KAMAILIO, "-f", str(self.directory / "kamailio.cfg"), "-DD", "-E", "-Y", str(self.directory),
                 "-P", str(self.directory / "kamailio.pid")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

        async def reachable() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True

        await poll(reachable, bool)
        return self

    def log(self) -> str:
        try:
            return (self.directory / "kamailio.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the main process and its children
            except ProcessLookupError:
                pass
        await stop_process(self.process, group=True)


async def stop_process(process: subprocess.Popen[bytes] | None, *, group: bool = False,
                       timeout: float = 3.0) -> None:
    """Wait for ``process`` to end (it was asked to); kill it after ``timeout``."""
    if process is None:
        return
    try:
        await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        try:
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except ProcessLookupError:
            pass
        await asyncio.to_thread(process.wait)


async def poll(probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
    """Call ``probe`` (a coroutine function) until ``done`` says yes: for a process that is starting
    and says nothing when it is ready (a port that opens, a registration)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        assert loop.time() < deadline, f"still not ready after {timeout} s: {result!r}"
        await asyncio.sleep(0.05)
