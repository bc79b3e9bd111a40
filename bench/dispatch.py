"""Action calls dispatched per second, against calling the same store update directly."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from usd_desktop.hosted_controls.catalog import GLOBAL_MANAGER
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_desktop

CONFIG = """
name: Bench
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
action_calls:
  - name: Copy
    control: Global Manager
    action: CopyToContext
    condition: '"[[$User.firstname]]" != ""'
    data: |
      agent=[[$User.firstname]]
      n=[[$Context.n]+]
  - name: Plain
    control: Global Manager
    action: CopyToContext
    data: |
      agent=[[$User.firstname]]
      n=[[$Context.n]+]
"""


async def measure(seconds: float = 1.5) -> None:
    desktop = make_desktop(CONFIG, registry=Registry([GLOBAL_MANAGER]))
    dispatcher = desktop.dispatcher
    store = desktop.sessions.global_session.store

    async def loop(func) -> float:  # type: ignore[no-untyped-def]
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(100):
                await func()
            count += 100
        return count / (time.perf_counter() - start)

    async def direct() -> None:
        store.update("$Context", {"agent": "Tracie", "n": store.get("$Context", "n") or ""})

    with_condition = await loop(lambda: dispatcher.run_action_call("Copy"))
    without = await loop(lambda: dispatcher.run_action_call("Plain"))
    base = await loop(direct)
    print(f"action calls with a JS condition : {with_condition:10,.0f} /s")
    print(f"action calls without a condition : {without:10,.0f} /s")
    print(f"direct store update (baseline)   : {base:10,.0f} /s")
    print(f"ratio baseline / dispatched      : {base / without:10.1f}x (no condition), "
          f"{base / with_condition:.1f}x (with condition)")
    await desktop.shutdown()


if __name__ == "__main__":
    asyncio.run(measure())
