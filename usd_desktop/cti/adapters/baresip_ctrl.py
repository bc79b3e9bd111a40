"""baresip's ``ctrl_tcp`` client (netstring-framed JSON, tokened commands) and its output parsers.

A :class:`CtrlClient` sends commands with a token each and resolves each command's future with its
reply; events go to ``on_event`` in the order they arrive (an event may come before the reply to the
command that caused it). ``ctrl_tcp`` serves one client at a time: a new connection replaces the old.
The parsers read the text replies of baresip 1.0.0's menu (``callstat``, ``listcalls``, ``reginfo``)
and the parameter of ``CALL_CLOSED``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from usd_desktop.cti.adapters import netstring
from usd_desktop.cti.contract import CommandTimeout, NotConnected

log = logging.getLogger(__name__)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LISTCALLS = re.compile(r"\[line (\d+)\]\s+\S+\s+([A-Z]+)\s*(\(on hold\))?\s+(\S+)\s*$")


# ---------------------------------------------------------------------- the ctrl_tcp client
@dataclass(frozen=True, slots=True)
class Reply:
    ok: bool
    data: str


class CtrlClient:
    """One ctrl_tcp connection: tokened commands, events handed to ``on_event`` in arrival order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 on_event: Callable[[dict[str, Any]], None], on_lost: Callable[[str], None],
                 timeout: float) -> None:
        self.timeout = timeout
        self.closed = False
        self._reader, self._writer = reader, writer
        self._on_event, self._on_lost = on_event, on_lost
        self._decoder = netstring.NetstringDecoder()
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._tokens = itertools.count(1)
        #: Set before an intentional close (``quit``): the end of the connection is then no loss.
        self.closing = False
        self._task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, host: str, port: int, *, on_event: Callable[[dict[str, Any]], None],
                   on_lost: Callable[[str], None], timeout: float) -> CtrlClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        return cls(reader, writer, on_event=on_event, on_lost=on_lost, timeout=timeout)

    async def command(self, command: str, params: str | None = None) -> Reply:
        return (await self.commands((command, params)))[0]

    async def commands(self, *commands: tuple[str, str | None]) -> list[Reply]:
        """Send ``commands`` in one write (baresip runs them back to back) and wait for every reply."""
        if self.closed:
            raise NotConnected("the baresip adapter is not connected to baresip")
        loop = asyncio.get_running_loop()
        frames: list[bytes] = []
        waits: list[tuple[str, asyncio.Future[Reply]]] = []
        for command, params in commands:
            token = str(next(self._tokens))
            message: dict[str, str] = {"command": command, "token": token}
            if params is not None:
                message["params"] = params
            frames.append(netstring.encode(json.dumps(message).encode()))
            waits.append((token, loop.create_future()))
            self._pending[token] = waits[-1][1]

        async def replies() -> list[Reply]:
            await self._writer.drain()
            return [await future for _, future in waits]

        self._writer.write(b"".join(frames))
        try:
            return await asyncio.wait_for(replies(), self.timeout)
        except TimeoutError:
            names = " + ".join(command for command, _ in commands)
            raise CommandTimeout(f"baresip did not answer {names} within {self.timeout:g} s") from None
        except OSError as exc:
            raise NotConnected(f"the connection to baresip failed: {exc}") from None
        finally:
            for token, _ in waits:
                self._pending.pop(token, None)

    async def close(self) -> None:
        self.closing = True
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._shut("closed")

    async def _read(self) -> None:
        reason = "baresip closed the connection"
        try:
            while data := await self._reader.read(65536):
                for payload in self._decoder.feed(data):
                    self._dispatch(payload)
        except (OSError, netstring.NetstringError) as exc:
            reason = f"the connection to baresip failed: {exc}"
        finally:
            self._shut(reason)

    def _dispatch(self, payload: bytes) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("baresip sent a frame that is not JSON: %r", payload[:200])
            return
        if not isinstance(message, dict):
            return
        if message.get("response"):
            future = self._pending.get(str(message.get("token")))
            if future is not None and not future.done():
                future.set_result(Reply(bool(message.get("ok")), str(message.get("data") or "")))
        elif message.get("event"):
            try:
                self._on_event(message)
            except Exception:  # a bug in a handler must not stop the reader
                log.exception("baresip adapter: handling %s failed", message.get("type"))

    def _shut(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NotConnected(reason))
        self._pending.clear()
        self._writer.close()
        if not self.closing:
            self._on_lost(reason)




def close_cause(param: str) -> str:
    """``CallEnded.cause`` of a ``CALL_CLOSED`` parameter (``486 Busy Here``, ``Connection reset...``)."""
    text = param.strip()
    match = re.match(r"(\d{3})\b\s*(.*)", text)
    if match:
        code, reason = int(match.group(1)), match.group(2).lower()
        if code in (403, 603) or "reject" in reason or "decline" in reason:
            return "rejected"
        if code in (486, 600):
            return "busy"
        return "normal" if code < 300 or code == 487 else "failed"
    if not text or text.lower().startswith("connection reset by"):
        return "normal"
    return "failed"


def parse_callstat(text: str) -> tuple[str | None, str, str]:
    """(baresip id, direction, display name) from ``callstat`` output."""
    found = re.search(r"\bid=(\S+)", text)
    direction = re.search(r"direction:\s*(\w+)", text)
    peer = re.search(r"peer_uri:\s*(.*?)\s*<", text)
    return (found.group(1) if found else None, direction.group(1).lower() if direction else "",
            peer.group(1).strip().strip('"') if peer else "")


@dataclass(frozen=True, slots=True)
class ListedCall:
    """One line of ``listcalls``: ``> [line 1]  0:00:02  ESTABLISHED  (on hold)  sip:bob@host``."""

    line: str
    state: str
    on_hold: bool
    peer: str


def parse_listcalls(text: str) -> list[ListedCall]:
    calls = []
    for row in text.splitlines():
        match = _LISTCALLS.search(_ANSI.sub("", row))
        if match:
            calls.append(ListedCall(match.group(1), match.group(2), bool(match.group(3)), match.group(4)))
    return calls


def registered(reginfo: str) -> bool:
    """Whether ``reginfo`` says the account is registered (``OK``, in colour)."""
    return re.search(r"\bOK\b", _ANSI.sub("", reginfo)) is not None


def plain(text: str) -> str:
    """Menu output without its colour codes, on one line."""
    return " ".join(_ANSI.sub("", text).split())
