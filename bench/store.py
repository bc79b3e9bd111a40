"""Configuration store: import, publish, load and diff of a large configuration, against the starter.

The large one has 100 hosted controls, 5,000 action calls, 500 events and (when the schema has
them) 300 window navigation rules. Each figure is compared, as a ratio, with the same operation on
the starter configuration measured in the same run. SQLite always (a temporary file); PostgreSQL
too when ``USD_BENCH_PG_URL`` names a database (``postgresql+psycopg://user@host:port/db``; the
runs use configuration names of their own, so an existing store is fine).

    .venv/bin/python bench/store.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from usd_desktop.config.lint import lint
from usd_desktop.config.loader import dump_configuration, load_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import ConfigStore
from usd_desktop.config.store.content import content_rows
from usd_desktop.core.paths import resources_dir

CONTROLS, ACTION_CALLS, EVENTS, RULES = 100, 5_000, 500, 300
REPEAT = 3


def synthetic(name: str) -> Configuration:
    types = ("ConnectionManager", "StandardWebApplication")
    controls: list[dict[str, Any]] = [{"name": "Global Manager", "type": "GlobalManager"}]
    for i in range(1, CONTROLS):
        control: dict[str, Any] = {"name": f"Control {i:03}", "type": types[i % 2], "sort_order": i}
        if i % 2:
            control["settings"] = {"url": f"https://app{i}.example/page?id=[[$Context.id]+]"}
        controls.append(control)
    calls = [
        {
            "name": f"Call {i:05}",
            "control": controls[i % CONTROLS]["name"],
            "action": "CopyToContext" if i % CONTROLS == 0 else "Navigate",
            "data": f"url=https://app.example/{i}?c=[[$Context.customer]+]\nframe=main",
            "condition": f'"[[$Context.tier]+]" != "gold" || {i % 7} > 3',
            "order": i % 10,
            "sub_action_calls": [f"Call {i + 1:05}"] if i % 50 == 0 and i + 1 < ACTION_CALLS else [],
        }
        for i in range(ACTION_CALLS)
    ]
    events = [
        {
            "control": controls[i % CONTROLS]["name"],
            "name": f"Event{i // CONTROLS}",
            "action_calls": [f"Call {(i * 10 + k) % ACTION_CALLS:05}" for k in range(3)],
        }
        for i in range(EVENTS)
    ]
    data: dict[str, Any] = {
        "name": name,
        "description": "synthetic benchmark configuration",
        "options": {"maxNumberOfSessions": "3"},
        "hosted_controls": controls,
        "action_calls": calls,
        "events": events,
    }
    if "window_navigation_rules" in Configuration.model_fields:
        data["window_navigation_rules"] = [
            {
                "name": f"Rule {i:03}",
                "order": i,
                "from_control": controls[1 + i % (CONTROLS - 1)]["name"],
                "url": f"/path{i}/",
                "target_tab": controls[1 + (i + 1) % (CONTROLS - 1)]["name"],
                "action_calls": [f"Call {i:05}"],
            }
            for i in range(RULES)
        ]
    return Configuration.model_validate(data)


def one_percent_changed(config: Configuration) -> Configuration:
    calls = [
        c.model_copy(update={"data": c.data + "\nchanged=1"}) if i % 100 == 0 else c
        for i, c in enumerate(config.action_calls)
    ]
    return config.model_copy(update={"action_calls": calls})


def timed(func: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def into_desktop(store: ConfigStore, name: str) -> None:
    """Load the published version and bring it to life: runtime, controls, DesktopReady (no Qt)."""
    from usd_desktop.hosted_controls.catalog import CONNECTION_MANAGER, GLOBAL_MANAGER
    from usd_desktop.hosted_controls.desktop import Desktop
    from usd_desktop.hosted_controls.registry import Registry
    from usd_desktop.testing import RecordingHost

    config, _ = store.load(name)

    async def start() -> None:
        registry = Registry([GLOBAL_MANAGER, CONNECTION_MANAGER])
        desktop = Desktop(config, host=RecordingHost(), registry=registry)
        await desktop.start()
        await desktop.shutdown()

    asyncio.run(start())


def measure(store: ConfigStore, config: Configuration) -> dict[str, float]:
    name = config.name
    changed = one_percent_changed(config)
    counter = iter(range(1_000_000))

    def import_() -> None:
        store.import_configuration(
            config.model_copy(update={"description": f"run {next(counter)}"}), actor="bench"
        )

    def publish() -> None:
        import_()
        store.publish(name, actor="bench")

    figures = {
        "lint": timed(lambda: lint(config)),
        "rows": timed(lambda: content_rows(config)),
        "import (lint+write)": timed(import_),
        "import+publish": timed(publish),
        "load latest": timed(lambda: store.load(name)),
        "load into a started desktop": timed(lambda: into_desktop(store, name)),
    }
    store.import_configuration(changed, actor="bench")
    store.publish(name, actor="bench")
    latest = store.versions(name)[-1].number
    figures["diff 1 % changed"] = timed(lambda: store.diff(name, latest - 1, latest))
    return figures


def run(label: str, url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    starter = load_configuration(resources_dir() / "starter")
    starter = starter.model_copy(update={"name": f"Starter bench {tag}"})
    big = synthetic(f"Synthetic bench {tag}")
    with ConfigStore.open(url) as store:
        small_figures = measure(store, starter)
        big_figures = measure(store, big)
    print(f"\n{label}: {url.rsplit('@', maxsplit=1)[-1]}")
    print(f"  {'operation':<30}{'starter':>12}{'synthetic':>12}{'ratio':>9}")
    for key, small in small_figures.items():
        large = big_figures[key]
        print(f"  {key:<30}{small * 1000:>10.1f}ms{large * 1000:>10.1f}ms{large / small:>8.0f}x")


def main() -> None:
    big = synthetic("size")
    starter = load_configuration(resources_dir() / "starter")
    records = {k: len(v) for k, v in big.__dict__.items() if isinstance(v, list) and v}
    yaml_size = len(dump_configuration(big).encode())
    starter_size = len(dump_configuration(starter).encode())
    print(
        f"synthetic: {records}; canonical YAML {yaml_size / 1e6:.2f} MB (starter {starter_size / 1e3:.1f} kB)"
    )
    print(f"times: median of {REPEAT} runs")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")
    pg = os.environ.get("USD_BENCH_PG_URL")
    if pg:
        run("PostgreSQL", pg)
    else:
        print("\nPostgreSQL: skipped (set USD_BENCH_PG_URL to a database URL)", file=sys.stderr)


if __name__ == "__main__":
    main()
