"""What the live dashboards cost while calls arrive at 10 per second: the longest event-loop stall
(the UI's responsiveness) with the My Day and Team dashboards shown, against the same desktop and
the same calls without them, measured in the same run; and each refresh's time, off the GUI thread
(the KPI queries) and on it (``apply`` and ``show``, each timed: the figures kept, then the tiles,
tables and pyqtgraph charts updated; Qt paints them afterwards, which the stall figure includes).

One process, offscreen, the real main window (``DesktopRunner``, as ``usd-desktop`` starts it) on a
data database of ``--customers`` demo customers (default 20,000, about 32,000 interactions;
``--reuse PATH`` keeps the SQLite file). The CTI Desktop Manager runs the simulator; the bench
offers ``--rate`` calls per second (default 10) for ``--seconds`` (default 20) and acts as the
agent: each call is answered 0.1 s after it rings, hung up 0.5 s later and its wrap-up completed,
so every call writes its interaction row and the agent's state periods, which is what makes the
dashboards refresh (coalesced, at most once per their ``min_refresh_seconds``, 2 s as in the
starter). The stall is the lateness of a callback due every 5 ms on the loop (bench/_pop_desktop.py's
StallMeter).

    .venv/bin/python bench/dashboards.py
    .venv/bin/python bench/dashboards.py --customers 200000 --reuse /tmp/dash.db --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from _common import database
from _pop_desktop import CONFIG, StallMeter, open_desktop
from PySide6.QtWidgets import QApplication

from usd_desktop.data.demo import count_customers, generate
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.qt.dashboards import DashboardControl
from usd_desktop.testing import make_data_services

DASHBOARDS = """
  - name: My Day
    type: AgentDashboard
    sort_order: 60
    panel: RightPanel
    settings: {agent: bench, refresh_seconds: 60, min_refresh_seconds: 2}
  - name: Team
    type: TeamDashboard
    sort_order: 61
    panel: MainPanel
    settings: {refresh_seconds: 15, min_refresh_seconds: 2, trend_days: 14}
"""


def config(with_dashboards: bool) -> str:
    text = (CONFIG.replace("ADAPTER_SETTINGS", '{"scenario": null}').replace("ADAPTER", "simulator")
            .replace("REGION", "FI"))
    text = text.replace("      wrap_up_seconds: 0\n", "      wrap_up_seconds: 30\n      pop_on: manual\n")
    if with_dashboards:
        text = text.replace("\nsession_lines:", DASHBOARDS + "session_lines:")
    return text


class RefreshTimes:
    """Times each dashboard refresh: the compute (the KPI queries, in the data services' threads)
    and the apply + show on the GUI thread."""

    def __init__(self) -> None:
        self.compute: list[float] = []
        self.on_screen: list[float] = []  # apply (the figures kept) and show (widgets and charts)
        self._saved: dict[str, Any] = {}

    def attach(self) -> None:
        """Wrap each dashboard type's own ``compute``, ``apply`` and ``show`` (undone by
        :meth:`detach`)."""
        for cls in DashboardControl.__subclasses__():
            for name in ("compute", "apply", "show"):
                original = cls.__dict__[name]
                self._saved[f"{cls.__name__}.{name}"] = (cls, name, original)
                setattr(cls, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Any) -> Any:
        times = self
        if name == "compute":
            async def compute(control: Any, services: DataServices) -> Any:
                start = time.perf_counter()
                try:
                    return await original(control, services)
                finally:
                    times.compute.append(time.perf_counter() - start)
            return compute

        def on_gui_thread(control: Any, *args: Any) -> None:
            start = time.perf_counter()
            try:
                original(control, *args)
            finally:
                times.on_screen.append(time.perf_counter() - start)
        return on_gui_thread

    def detach(self) -> None:
        for cls, name, original in self._saved.values():
            setattr(cls, name, original)


async def play_calls(d: Any, rate: float, seconds: float, seed: int) -> int:
    """Offer ``rate`` calls a second for ``seconds``; answer, hang up and wrap up each. Returns how
    many calls were completed."""
    manager = d.cti.manager
    assert manager is not None
    await manager.set_agent_state("available")
    adapter = manager.adapter
    rng = random.Random(seed)
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        call = await adapter.simulate_call(f"+35840{rng.randrange(10**6, 10**7)}", "100", queue="Billing")
        await asyncio.sleep(0.1)
        await manager.answer(call)
        await asyncio.sleep(0.5)
        await manager.hangup(call)
        await manager.complete_wrap_up("", call)
        done += 1

    tasks = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
        tasks.append(asyncio.ensure_future(one(index)))
    await asyncio.gather(*tasks)
    return done


async def run_once(services: DataServices, folder: Path, with_dashboards: bool,
                   args: argparse.Namespace) -> dict[str, Any]:
    d = await open_desktop(config(with_dashboards), services, folder)
    times = RefreshTimes()
    if with_dashboards:
        times.attach()
    try:
        await asyncio.sleep(3)  # the first refreshes and web-free layout settle
        times.compute.clear()
        times.on_screen.clear()
        meter = StallMeter()
        meter.start()
        calls = await play_calls(d, args.rate, args.seconds, args.seed)
        await asyncio.sleep(2.5)  # the last coalesced refresh
        stalls = meter.stop()
        refreshes = sum(c.refreshes for c in d.desktop.all_controls() if isinstance(c, DashboardControl))
        return {"stalls": stalls, "calls": calls, "compute": list(times.compute),
                "on_screen": list(times.on_screen), "refreshes": refreshes}
    finally:
        times.detach()
        await d.close()


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    median = statistics.median(ordered) * 1e3
    return f"median {median:7.1f}  p99 {p99 * 1e3:7.1f}  max {ordered[-1] * 1e3:7.1f}"


async def main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    with database(args, "dashboards") as url, tempfile.TemporaryDirectory(prefix="usd-dash-") as tmp:
        services = make_data_services(url, user="bench", drafts=str(Path(tmp) / "drafts.db"))
        have = count_customers(services.repository)
        if have < args.customers:
            started = time.perf_counter()
            generate(services.repository, args.customers - have)
            print(f"built {args.customers:,} demo customers in {time.perf_counter() - started:.1f} s")
        else:
            print(f"reusing {have:,} customers")
        try:
            baseline = await run_once(services, Path(tmp), False, args)
            loaded = await run_once(services, Path(tmp), True, args)
        finally:
            services.close()
    print(f"\n{args.rate:g} calls/s for {args.seconds:g} s, each answered, hung up and wrapped up")
    print("event-loop stalls (lateness of a 5 ms callback), ms     max      p99   median   >50 ms")
    for label, result in (("baseline: the same desktop without dashboards", baseline),
                          ("with My Day and Team shown", loaded)):
        s = result["stalls"]
        print(f"  {label:<48} {s['max']:7.1f}  {s['p99']:7.1f}  {s['median']:7.2f}  {int(s['over_50']):6d}"
              f"   ({result['calls']} calls)")
    ratio = loaded["stalls"]["max"] / max(baseline["stalls"]["max"], 1e-9)
    print(f"  ratio of the longest stall, with / without dashboards: {ratio:.2f}x")
    print(f"\ndashboard refreshes while loaded: {loaded['refreshes']}")
    print(f"  compute (KPI queries, off the GUI thread)  {_ms(loaded['compute'])}")
    print(f"  on screen (apply, show: each, GUI thread)   {_ms(loaded['on_screen'])}")
    print(f"\nthe whole run took {time.perf_counter() - began:.0f} s")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--reuse", metavar="PATH")
    parser.add_argument("--data", metavar="URL")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the baseline desktop closes before the measured one opens
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main(args))


if __name__ == "__main__":
    cli()
