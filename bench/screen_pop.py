"""Screen-pop latency: a call reaching the desktop until the customer's session tab shows the name.

One process, offscreen, the real main window (``MainWindow``, qasync) started as ``usd-desktop``
starts it (the desktop runner with the crash-safe session journal in a file, garbage collected on
the GUI thread, the light theme), with a configuration modelled on resources/starter: the panel
layout, the session tab strip (SessionTabs), a Customer EntityForm with its two sub-lists, session
lines that name a session after its contact (``[[contact.full_name]]``), a CtiDesktopManager, and
a CTI rule that finds the caller by phone (``filters: [{field: phone, value: "[[cti.ani]]"}]``,
the indexed ``find_customers_by_phone``) and, on a single match, creates the session and loads the
contact into the Customer form. Data: ``--customers`` demo customers (default 1,000,000) in
SQLite (``--reuse PATH`` keeps the file for the next run; ``--data URL`` uses another database,
e.g. PostgreSQL). Callers are existing contacts' numbers (a number of one contact only), picked at
random with ``--seed``, written as they arrive: E.164, international with spaces, national
(numbers of the data's default region, US, which the repository reads them in), and with the
``00`` prefix (over SIP, without spaces: E.164, national digits, 00).

**Where the clock stops** (both paths): when the session strip's QTabBar has *painted* a tab whose
text is the customer's full name. An event filter on the bar runs each paint event itself and then
reads the tabs it has just drawn (bench/_pop_desktop.py, ``TabWatcher``); so the time counts the
lookup, the session, the form loading the contact, the session line naming the session, Qt's
layout and the paint, not just the moment a string was set. (Offscreen, the paint goes to the
backing store; a real screen adds the compositor's frame, the same for any Qt program.)

**Listener path.** The clock starts when a separate process (bench/_pop_client.py) opens the
connection to the HTTP listener and sends ``GET /?ani=...&dnis=...&type=phonecall`` over the real
loopback socket, as a softphone's hook or ``curl`` does. A separate process is the honest client:
its own work (building, sending, reading the answer) never runs on the desktop's event loop, and
``time.perf_counter()`` is the system-wide monotonic clock, so its send time compares with the
desktop's paint time.

**baresip path.** A caller baresip (bench/_pop_sip.py) dials the adapter's baresip over SIP on
loopback, from a user agent whose address carries the caller's number. Two clocks: from the
adapter's reception of ``CALL_INCOMING`` on ctrl_tcp (the earliest moment the desktop process can
know of the call; stamped by wrapping the adapter's event handler), and from the moment the
caller's ``dial`` was written to the caller's ctrl_tcp (so including the caller's baresip, SIP
INVITE and the agent's baresip). Skipped, with a note, when baresip is not installed.

Calls come one at a time (``--calls``, default 200 per path), after 5 warm-up calls; after each the
call is ended (the CTI ``Hangup`` action; over SIP the caller hangs up) and the session closed, and
the next call comes 100 ms after that. Each pop is checked: its session must be about the caller's
contact (``$Context`` ``Id``) and its tab the current one. Printed: p50, p99 and mean per path;
then, per step, the median and the slowest pop: the transport to ``received``, the ``cti_pop``
trace records (received, searched, session created, match loaded, popped; their ``duration_ms``
counts from the moment the call reached the CTI Desktop Manager), the remainder from ``popped``
until the name is painted, and how long the loop spent meanwhile in crash-safe writes: the drafts
file (``DraftStore.put`` / ``delete``, here the interaction recorder's draft of each call's row) and
the session journal (``SessionJournal.write`` / ``remove``), each one SQLite transaction with
``synchronous=FULL``, timed by wrapping those methods (both are real files, as the app's are).

**Baseline, same run:** the raw lookup a pop cannot do without, the indexed join of the caller's
E.164 number to the contact's name through sqlite3 (psycopg for PostgreSQL), for the same numbers.

**Event-loop stalls.** A callback due every 5 ms on the (qasync) loop notes how late it runs; the
longest lateness is the longest stall. Measured for ``--stall-seconds`` (default 20) on the idle
desktop (the baseline), then for as long while calls arrive through the listener at 10 per second
(each session closed, and its call ended, once its tab shows the name); with the pops' latency
under that load, the crash-safe writes' share of the time, and how much of the longest stall they
were.

    .venv/bin/python bench/screen_pop.py                      # 1,000,000 customers, temporary file
    .venv/bin/python bench/screen_pop.py --customers 10000 --reuse /tmp/pop.db --calls 50 --stall-seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from _common import database
from _pop_callers import HTTP_FORMS, SIP_FORMS, raw_lookups, sample_callers
from _pop_client import HttpClient
from _pop_desktop import DURABLE, DurableWrites, config_text, open_desktop
from _pop_paths import TIMEOUT, WARM_UP, LoadResult, PathResult, Pop, baresip_path, listener_path, stall_runs
from _pop_sip import BARESIP, SipCaller, free_sip_port, stamp_incoming
from phone_lookup import build
from PySide6 import QtCore
from PySide6.QtWidgets import QApplication

from usd_desktop.data.phones import DEFAULT_REGION
from usd_desktop.testing import make_data_services, until

STEPS = ("received", "searched", "session created", "match loaded", "action calls run", "popped")


def figures(samples_ms: list[float]) -> tuple[float, float, float]:
    """(p50, p99, mean)."""
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return pick(0.5), pick(0.99), statistics.fmean(ordered)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


# ---------------------------------------------------------------------- the report
def intervals(pop: Pop, transport: str, writes: DurableWrites) -> dict[str, float | None]:
    """The ms of each interval of one pop: the transport to ``received``, each trace step to the
    next, ``popped`` to the name painted; and the crash-safe writes made on the loop meanwhile."""
    rows: dict[str, float | None] = {}
    if pop.dialled is not None and pop.dialled != pop.start:
        rows["caller's dial sent -> CALL_INCOMING received"] = (pop.start - pop.dialled) * 1e3
    received = pop.steps.received_at
    rows[f"{transport} -> received"] = (received - pop.start) * 1e3 if received else None
    present = [s for s in STEPS if s in pop.steps.steps]
    for before, after in itertools.pairwise(present):
        rows[f"{before} -> {after}"] = pop.steps.steps[after] - pop.steps.steps[before]
    popped = pop.at("popped")
    rows["popped -> name painted on the session tab"] = (pop.shown.at - popped) * 1e3 if popped else None
    for kind in DURABLE:
        _, ms = writes.between(pop.start, pop.shown.at, kind)
        rows[f"  meanwhile: {kind} writes on the loop (fsync)"] = ms
    return rows


def print_latency(paths: list[PathResult], raw_ms: list[float], numbers: int) -> None:
    rp50, rp99, rmean = figures(raw_ms)
    print(f"\nscreen pops, one call at a time ({WARM_UP} warm-up calls first); ms per pop")
    print(f"  {'':56}{'p50':>9}{'p99':>9}{'mean':>9}")
    print(f"  {'baseline: raw sqlite3 lookup (E.164 -> name, joined)':<56}{rp50:>9.3f}{rp99:>9.3f}"
          f"{rmean:>9.3f}   {numbers} numbers x 3")
    for path in paths:
        if not path.pops:
            print(f"  {path.label:<56}   {path.note or 'no pops'}")
            continue
        p50, p99, mean = figures([p.ms for p in path.pops])
        checks = (f"{len(path.pops)} calls, {path.wrong} wrong customer, "
                  f"{path.not_current} not the current tab")
        print(f"  {path.label:<56}{p50:>9.1f}{p99:>9.1f}{mean:>9.1f}   {checks}; "
              f"first call after start {path.first_ms:.0f} ms")
    for path in paths:
        if path.pops:
            p50, p99, mean = figures([p.ms for p in path.pops])
            print(f"  {'ratio ' + path.name + ' / raw lookup':<56}{p50 / rp50:>8.0f}x{p99 / rp99:>8.0f}x"
                  f"{mean / rmean:>8.0f}x")


def print_breakdown(paths: list[tuple[PathResult, str]], writes: DurableWrites) -> None:
    print("\nper step, ms: the median, and the slowest pop (the cti_pop trace records' duration_ms, "
          "which count from 'received'; the bench's stamps before and after)")
    for path, transport in paths:
        if not path.pops:
            continue
        each = [intervals(p, transport, writes) for p in path.pops]
        slowest = max(range(len(path.pops)), key=lambda i: path.pops[i].ms)
        print(f"  {path.label:<58}{'median':>9}{'slowest':>9}")
        for label in dict.fromkeys(k for rows in each for k in rows):
            median = _median([rows.get(label) for rows in each])
            worst = each[slowest].get(label)
            print(f"    {label:<56}{'-' if median is None else f'{median:9.2f}':>9}"
                  f"{'-' if worst is None else f'{worst:9.2f}':>9}")
        print(f"    {'total (the pop as measured)':<56}{_median([p.ms for p in path.pops]):9.2f}"
              f"{path.pops[slowest].ms:9.2f}")


def print_stalls(load: LoadResult, seconds: float, writes: DurableWrites) -> None:
    print(f"\nevent-loop stalls: the lateness of a callback due every 5 ms, over {seconds:g} s; ms")
    print(f"  {'':44}{'max':>9}{'p99':>9}{'median':>9}{'>50 ms':>8}{'ticks':>8}")
    rows = (("baseline: the idle desktop", load.idle), ("calls arriving at 10/s (listener)", load.loaded))
    for label, s in rows:
        print(f"  {label:<44}{s['max']:>9.1f}{s['p99']:>9.1f}{s['median']:>9.2f}{s['over_50']:>8.0f}"
              f"{s['ticks']:>8.0f}")
    ratio = load.loaded["max"] / max(load.idle["max"], 1e-3)
    print(f"  {'ratio longest stall, 10 calls/s / idle':<44}{ratio:>8.0f}x")
    span = (load.window[1] - load.window[0]) * 1e3
    print(f"  while loaded: {load.sent} calls sent, {load.answered} answered, {load.shown} shown with "
          "the name")
    for kind in DURABLE:
        count, ms = writes.between(*load.window, kind)
        print(f"  while loaded, {kind} writes on the loop: {count}, {ms:.0f} ms ({100 * ms / span:.1f}% of "
              f"the time), the longest {writes.longest(*load.window, kind):.1f} ms")
    worst = (load.loaded["worst_from"], load.loaded["worst_to"])
    parts = ", ".join(f"{writes.overlap(*worst, kind):.1f} ms {kind}" for kind in DURABLE)
    print(f"  the longest stall while loaded: {load.loaded['max']:.1f} ms, of which writing {parts}")
    if load.pops.pops:
        p50, p99, mean = figures([p.ms for p in load.pops.pops])
        print(f"  {load.pops.label}: p50 {p50:.1f}, p99 {p99:.1f}, mean {mean:.1f} ms; "
              f"{load.pops.wrong} wrong customer")


# ---------------------------------------------------------------------- the run
async def run(args: argparse.Namespace, url: str, folder: Path) -> None:
    services = make_data_services(url, drafts=str(folder / "drafts.db"))  # a file, as the app's
    region = getattr(services.repository, "default_region", DEFAULT_REGION)
    started = time.perf_counter()
    http_callers = sample_callers(url, args.calls + WARM_UP, args.seed, region, HTTP_FORMS)
    sip_callers = sample_callers(url, args.calls + WARM_UP, args.seed + 1, region, SIP_FORMS)
    load_callers = sample_callers(url, round(10 * args.stall_seconds), args.seed + 2, region, HTTP_FORMS)
    numbers = [c.e164 for c in http_callers[WARM_UP:] + sip_callers[WARM_UP:]]
    print(f"callers: {len(http_callers) + len(sip_callers) + len(load_callers)} numbers of existing "
          f"contacts ({time.perf_counter() - started:.1f} s); over HTTP as {', '.join(HTTP_FORMS)}; "
          f"over SIP as {', '.join(SIP_FORMS)} (national: {region} numbers)", flush=True)
    raw_ms = [s * 1e3 for s in raw_lookups(url, numbers)]
    writes = DurableWrites().install()

    text = config_text("http_listener", {"host": "127.0.0.1", "port": 0, "ring_seconds": 60}, region)
    d = await open_desktop(text, services, folder)
    await until(lambda: d.cti.manager is not None and d.cti.manager.connection.connected,
                "the listener listening", TIMEOUT)
    assert d.cti.manager is not None
    client = await HttpClient(d.cti.manager.adapter.port).start()  # type: ignore[attr-defined]
    print(f"listener: {len(http_callers)} calls ...", flush=True)
    listener = await listener_path(d, client, http_callers)
    print(f"event-loop stalls: {args.stall_seconds:g} s idle, then {args.stall_seconds:g} s of calls "
          "at 10/s ...", flush=True)
    load = await stall_runs(d, client, load_callers, args.stall_seconds)
    await client.stop()
    await d.close()

    incoming = PathResult("baresip", "baresip: CALL_INCOMING received -> name painted")
    dialled = PathResult("baresip from the dial", "baresip: caller's dial sent -> name painted")
    if BARESIP is None:
        incoming.note = "skipped: baresip is not installed (apt-get install baresip-core)"
        dialled.note = incoming.note
    else:
        undo = stamp_incoming()
        agent = f"sip:agent@127.0.0.1:{free_sip_port()}"
        phone = await SipCaller(folder / "caller").start()
        try:
            text = config_text("baresip", {"account": agent, "command_timeout": 10}, region)
            d = await open_desktop(text, services, folder)
            await until(lambda: d.cti.manager is not None and d.cti.manager.connection.connected,
                        "the adapter's baresip", TIMEOUT)
            print(f"baresip: {len(sip_callers)} calls ...", flush=True)
            incoming, dialled = await baresip_path(d, phone, agent, sip_callers)
            await d.close()
        finally:
            await phone.stop()
            undo()
    writes.uninstall()
    services.close()

    print_latency([listener, incoming, dialled], raw_ms, len(numbers))
    print_breakdown([(listener, "GET sent"), (incoming, "CALL_INCOMING received")], writes)
    print_stalls(load, args.stall_seconds, writes)


def _quiet_offscreen(kind: QtCore.QtMsgType, context: QtCore.QMessageLogContext, text: str) -> None:
    if "This plugin does not support" not in text:  # the offscreen platform's notes
        sys.stderr.write(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reuse", metavar="PATH", help="SQLite file to build once and use again")
    parser.add_argument("--data", metavar="URL", help="a PostgreSQL (or SQLite) data database URL")
    parser.add_argument("--calls", type=int, default=200, help="calls per path (default 200)")
    parser.add_argument("--stall-seconds", type=float, default=20.0, help="default 20")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.perf_counter()
    QtCore.qInstallMessageHandler(_quiet_offscreen)
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)  # the listener's window closes before the baresip one opens
    with tempfile.TemporaryDirectory(prefix="usd-screen-pop-") as tmp, database(args, "phones") as url:
        for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            os.environ[key] = f"{tmp}/{key}"
        build(url, args.customers, args.seed)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(run(args, url, Path(tmp)))
    print(f"\nthe whole run took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
