"""The HTTP caller of bench/screen_pop.py: a separate process that opens the listener's URLs.

Run as ``python bench/_pop_client.py PORT``. It reads one JSON command per line on stdin and
answers one JSON line per request on stdout:

* ``{"id": 7, "path": "/?ani=...&type=phonecall"}``: one GET now;
* ``{"burst": [{"id": 8, "path": ...}, ...], "rate": 10}``: the GETs at ``rate`` per second on this
  process's own schedule (each on its own connection, so a slow answer never delays the next one);
* ``{"quit": true}``.

Each answer is ``{"id", "t0", "t_sent", "t_answered", "status", "body"}``: ``t0`` is
``time.perf_counter()`` just before the connection is opened, ``t_sent`` once the request's bytes
are written, ``t_answered`` when the answer has been read. On Linux (and macOS, Windows) the
performance counter is the system-wide monotonic clock, so these times compare with the desktop
process's own ``perf_counter()``. The request is written byte for byte over a real TCP socket, as
a softphone's hook or ``curl`` does (HTTP/1.1, ``Connection: close``).

:class:`HttpClient` is the bench's side: it starts this script and turns its answers into futures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def get(port: int, request_id: int, path: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    writer.write(head.encode("ascii"))
    await writer.drain()
    t_sent = time.perf_counter()
    answer = await reader.read()
    t_answered = time.perf_counter()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    status = int(status_line.split()[1]) if status_line else 0
    return {"id": request_id, "t0": t0, "t_sent": t_sent, "t_answered": t_answered, "status": status,
            "body": body}


def answer(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


async def one(port: int, request_id: int, path: str) -> None:
    try:
        answer(await get(port, request_id, path))
    except OSError as exc:
        answer({"id": request_id, "t0": time.perf_counter(), "status": 0, "body": str(exc)})


async def burst(port: int, requests: list[dict[str, Any]], rate: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for n, request in enumerate(requests):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(port, int(request["id"]), str(request["path"]))))
    await asyncio.gather(*tasks)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    while line := await reader.readline():
        command = json.loads(line)
        if command.get("quit"):
            break
        if "burst" in command:
            task = asyncio.ensure_future(burst(port, command["burst"], float(command.get("rate", 10))))
        else:
            task = asyncio.ensure_future(one(port, int(command["id"]), str(command["path"])))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)


# ---------------------------------------------------------------------- the desktop's side
class HttpClient:
    """This script in its own process, driven from the bench: requests by id, answers as futures."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: asyncio.subprocess.Process | None = None
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.answers: list[dict[str, Any]] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> HttpClient:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, str(self.port), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            answer = json.loads(line)
            self.answers.append(answer)
            future = self.waiting.pop(int(answer["id"]), None)
            if future is not None and not future.done():
                future.set_result(answer)

    def _send(self, command: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    def get(self, request_id: int, path: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        self._send({"id": request_id, "path": path})
        return future

    def burst(self, requests: list[tuple[int, str]], rate: float) -> None:
        self._send({"burst": [{"id": i, "path": p} for i, p in requests], "rate": rate})

    async def stop(self) -> None:
        if self.process is not None:
            self._send({"quit": True})
            await self.process.wait()
        if self._reader is not None:
            await self._reader


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
