"""How the conformance suite runs one check: its own event loop, leak checks, the adapter as the
desktop makes it.

Each check runs in a fresh event loop (``asyncio.run`` in debug mode, so the suite needs no
pytest-asyncio and sees what the loop reports). Around it:

* the harness's backend is started before and stopped after (always), and every adapter the check
  made is closed (always);
* the keyring is an in-memory one holding :meth:`Harness.keyring`'s entries; the adapter is made
  by :class:`~usd_desktop.cti.registry.AdapterRegistry` from the harness's settings, as the desktop
  makes it;
* after a check that passed: no task may be left running, nothing may have been reported to the
  loop's exception handler (a task that failed unseen, a callback that raised), no file descriptor
  (socket, pipe, file) may be left open that was not open before, no child process may be left
  (running or unreaped), and no ``ResourceWarning`` (an unclosed socket or transport) may be
  raised. File descriptors and child processes are checked where ``/proc`` (or ``/dev/fd``) tells;
  elsewhere the garbage is collected after each check, so an unclosed socket warns.
"""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import keyring

from usd_desktop.cti.contract import Adapter, CallOffered, ConnectionUp, CtiError
from usd_desktop.cti.registry import AdapterRegistry
from usd_desktop.testing.conformance.events import EventLog, describe
from usd_desktop.testing.conformance.harness import Harness, InboundCall
from usd_desktop.testing.memory_keyring import MemoryKeyring

T = TypeVar("T")
Check = Callable[["Session"], Coroutine[Any, Any, None]]


# ---------------------------------------------------------------------- resources
def _open_fds() -> dict[int, str]:
    """This process's open file descriptors and what each is (``socket:[123]``, a path)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        if not os.path.isdir(folder):
            continue
        found: dict[int, str] = {}
        for name in os.listdir(folder):
            try:
                found[int(name)] = os.readlink(os.path.join(folder, name))
            except (OSError, ValueError):
                continue  # the listing's own descriptor, gone already
        return found
    return {}


def _children() -> dict[int, str]:
    """This process's child processes (Linux): pid -> state and command line."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return {}
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) != me:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue
        state = "a zombie (never waited for)" if fields[0] == "Z" else "running"
        found[int(entry.name)] = f"{state}: {command or stat.split()[1]}"
    return found


class ResourceWatch:
    """File descriptors and child processes before a check, compared with those after it."""

    def __init__(self) -> None:
        self.fds = _open_fds()
        self.children = _children()

    def leaks(self) -> list[str]:
        problems = []
        for fd, target in sorted(_open_fds().items()):
            if self.fds.get(fd) != target:
                problems.append(f"file descriptor {fd} ({target}) was left open")
        for pid, what in sorted(_children().items()):
            if pid not in self.children:
                problems.append(f"child process {pid} was left {what}")
        return problems


def _describe_task(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", repr(coro))
    created = getattr(task, "_source_traceback", None)  # debug mode: where the task was made
    where = ""
    if created:
        frame = created[-1]
        where = f", created at {frame.filename}:{frame.lineno} ({frame.name})"
    return f"task {task.get_name()} running {name}{where}"


def _describe_context(context: dict[str, Any]) -> str:
    text = str(context.get("message", "an error"))
    exc = context.get("exception")
    if exc is not None:
        text += f": {type(exc).__name__}: {exc}"
    future = context.get("future") or context.get("task")
    if isinstance(future, asyncio.Task):
        text += f" ({_describe_task(future)})"
    return text


# ---------------------------------------------------------------------- one check
class Session:
    """What a check works with: the harness, and the adapters it made (closed at the end)."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.timeout = harness.command_timeout
        self.cls = harness.adapter_class
        self.name = self.cls.name or self.cls.__qualname__
        self.made: list[Adapter] = []
        self.logs: dict[int, EventLog] = {}  # id(adapter) -> its log

    # ------------------------------------------------------------------ making adapters
    def registry(self) -> AdapterRegistry:
        registry = AdapterRegistry()
        if not registry.register(self.cls):
            raise AssertionError(f"the desktop refuses {self.cls.__qualname__}: "
                                 + "; ".join(str(p) for p in registry.problems))
        return registry

    def create(self, settings: dict[str, Any] | None = None) -> Adapter:
        """A new adapter, made as the desktop makes it (settings validated, secrets from the keyring)."""
        try:
            adapter = self.registry().create(self.cls.name, self.harness.settings() if settings is None
                                             else settings)
        except CtiError as exc:
            raise AssertionError(f"the harness's settings() do not make a {self.name} adapter: "
                                 f"{exc}") from None
        self.made.append(adapter)
        return adapter

    async def start(self, adapter: Adapter | None = None) -> tuple[Adapter, EventLog]:
        """Start an adapter (a new one by default) and wait for its ``ConnectionUp``."""
        adapter = adapter or self.create()
        if adapter not in self.made:
            self.made.append(adapter)
        log = self.logs[id(adapter)] = EventLog(self.name, self.timeout)
        await self.bounded(adapter.start(log), "start()")
        first = await log.expect(ConnectionUp, after="start()")
        if log.events[0] is not first:
            raise AssertionError(f"start(): the first event must be ConnectionUp, but the {self.name} "
                                 f"adapter reported {describe(log.events[0])} before it")
        return adapter, log

    async def close(self, adapter: Adapter) -> None:
        """Close ``adapter``; from now on its log takes any event as a problem."""
        log = self.logs.get(id(adapter))
        if log is not None:
            log.closed = True
        await self.bounded(adapter.close(), "close()")

    async def close_all(self) -> None:
        problems = []
        for adapter in reversed(self.made):
            try:
                await self.close(adapter)
            except Exception as exc:
                problems.append(f"{type(exc).__name__}: {exc}")
        if problems:
            raise AssertionError("close() failed: " + "; ".join(problems))

    def problems(self) -> list[str]:
        return [p for log in self.logs.values() for p in log.problems]

    # ------------------------------------------------------------------ running things
    async def bounded(self, work: Awaitable[T], what: str, timeout: float | None = None) -> T:
        """``work``, which must finish within the command timeout."""
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(work, limit)
        except TimeoutError:
            raise AssertionError(f"{what} did not return within {limit:g} s "
                                 f"(the {self.name} adapter, or the harness, hangs)") from None

    async def run(self, adapter: Adapter, operation: str, *args: Any) -> Any:
        """The adapter's ``operation(*args)``, within the command timeout."""
        shown = ", ".join(repr(a) for a in args)
        return await self.bounded(getattr(adapter, operation)(*args), f"{operation}({shown})")

    async def offer(self, adapter: Adapter, log: EventLog, *, ani: str = "+358401234567",
                    dnis: str = "800100", data: dict[str, str] | None = None) -> InboundCall:
        """Ask the harness for an inbound call and wait for its ``CallOffered`` (its id is set)."""
        data = {"account_number": "FI-1001", "reason": "invoice"} if data is None else data
        call = await self.bounded(self.harness.offer_call(adapter, ani=ani, dnis=dnis, data=data),
                                  "the harness's offer_call()")
        if not isinstance(call, InboundCall) or not call.ani:
            raise AssertionError(f"the harness's offer_call() must return an InboundCall with the ANI the "
                                 f"adapter must report, not {call!r}")
        offered = await log.expect(CallOffered, after="an inbound call rang (the harness's offer_call())")
        call.call = offered.call
        return call


async def _main(harness: Harness, check: Check) -> None:
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(_describe_context(context)))
    session = Session(harness)
    await session.bounded(harness.start(), "the harness's start()")
    error: BaseException | None = None
    try:
        await check(session)
    except BaseException as exc:  # also pytest's skip and fail: the adapters are closed first
        error = exc
    for step in (session.close_all, lambda: session.bounded(harness.stop(), "the harness's stop()")):
        try:
            await step()
        except Exception as exc:
            error = error or exc
    if error is not None:
        raise error
    problems = session.problems()
    current = asyncio.current_task()
    deadline = loop.time() + max(harness.quiet_seconds, 0.5)
    while True:  # tasks that are ending on their own get a moment
        left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not left or loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    for task in left:
        problems.append(f"{_describe_task(task)} was still running after close() "
                        "(close must stop every task the adapter started)")
        task.cancel()
    if left:
        await asyncio.gather(*left, return_exceptions=True)
    problems.extend(f"the event loop reported: {text}" for text in reported)
    if problems:
        raise AssertionError(f"the {session.name} adapter did not clean up:\n  " + "\n  ".join(problems))


def run_check(harness: Any, check: Check) -> None:
    """Run ``check`` against ``harness`` in a fresh event loop, then look for leaks."""
    if not isinstance(harness, Harness):
        raise AssertionError(f"the cti_harness fixture must return a "
                             f"usd_desktop.testing.conformance.Harness, not {harness!r}")
    if not getattr(harness, "adapter_class", None):
        raise AssertionError(f"{type(harness).__qualname__} must set adapter_class (the adapter under test)")
    watch = ResourceWatch()
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    for (service, username), secret in harness.keyring().items():
        memory.set_password(service, username, secret)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keyring.set_keyring(memory)
        try:
            asyncio.run(_main(harness, check), debug=True)
        finally:
            keyring.set_keyring(previous)
            if not watch.fds:  # without a list of descriptors, collect: an unclosed socket then warns
                gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    for w in caught:
        if not issubclass(w.category, ResourceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    leaks = watch.leaks() + [f"ResourceWarning: {text}" for text in unclosed]
    if leaks:
        raise AssertionError(f"{harness.adapter_class.name} left resources behind after close() and the "
                             "harness's stop():\n  " + "\n  ".join(leaks))


__all__ = ["ResourceWatch", "Session", "run_check"]
