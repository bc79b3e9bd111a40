"""Every contact-centre KPI over 1,000,000 interactions, per agent, queue, channel and day.

Builds a data database with at least ``--interactions`` interactions (default 1,000,000) from the
demo generator (about 1.6 interactions per demo customer, with their survey answers and agent state
periods; ``--reuse PATH`` keeps the SQLite file and uses it again next time, ``--data URL`` runs on
PostgreSQL) and prints the build time. Then times :func:`usd_desktop.data.kpi.compute` (every KPI:
one SQL statement per grouping) over the whole history: totals, per agent, per queue, per channel,
per day; and the queries a dashboard makes: one agent's last 7 days, the last day per hour.

The baseline, measured in the same run, is a bare aggregation through the driver (sqlite3 or
psycopg) over the same rows: ``SELECT COUNT(*), AVG(<talk seconds>) FROM interactions`` (with the
period's ``WHERE`` for the dashboard queries); the same ``GROUP BY agent`` is printed too (SQLite
walks the (agent, offered_at) index for it, slower than the scan). Figures: the median of
``--repeat`` runs and the ratio to the baseline. ``--plans`` prints the query plans of the
dashboard queries (SQLite: ``EXPLAIN QUERY PLAN``; PostgreSQL: ``EXPLAIN``), to see the indexes used.

    .venv/bin/python bench/kpis.py [--interactions 1000000] [--reuse /tmp/kpis.db] [--repeat 3]
    .venv/bin/python bench/kpis.py --data postgresql+psycopg://usd@localhost/usd_bench
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from _common import database

from usd_desktop.config.store.location import redact
from usd_desktop.data import kpi
from usd_desktop.data.demo import generate
from usd_desktop.data.kpi_sql import seconds_between
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.values import to_utc

#: Demo interactions per demo customer (measured: answered ones plus some unanswered calls).
PER_CUSTOMER = 1.58



def _scalar(engine: sa.Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


def build(repo: SqlRepository, target: int) -> int:
    count = int(_scalar(repo.engine, "SELECT count(*) FROM interactions"))
    if count >= target:
        print(f"reusing {redact(repo.url)}: {count:,} interactions (not rebuilt)")
        return count
    start = time.perf_counter()
    while count < target:
        customers = max(1000, int((target - count) / PER_CUSTOMER * 1.01))
        generate(repo, customers, seed=1, articles=0)
        count = int(_scalar(repo.engine, "SELECT count(*) FROM interactions"))
    seconds = time.perf_counter() - start
    print(f"built {count:,} interactions in {seconds:.0f} s ({redact(repo.url)})")
    return count


def timed(func: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        func()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples)


def _baseline(
    engine: sa.Engine, period: tuple[datetime, datetime] | None, grouped: bool
) -> Callable[[], object]:
    """A bare ``COUNT(*), AVG(talk)`` through the driver (grouped by agent or not), of the
    interactions offered in ``period`` (``None``: all of them, a plain scan)."""
    dialect = engine.dialect.name
    talk = seconds_between(dialect, sa.column("ended_at"), sa.column("answered_at"))
    text = str(talk.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    group = " GROUP BY agent" if grouped else ""
    mark = "%s" if dialect == "postgresql" else "?"
    where = "" if period is None else f" WHERE offered_at >= {mark} AND offered_at < {mark}"
    sql = f"SELECT {'agent, ' if grouped else ''}COUNT(*), AVG({text}) FROM interactions{where}{group}"
    params: tuple[Any, ...] = ()
    if period is not None:
        start, end = period
        text_of = "{:%Y-%m-%d %H:%M:%S}".format
        params = (start, end) if dialect == "postgresql" else (text_of(start), text_of(end))

    def run() -> object:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            raw.close()

    return run


def plans(engine: sa.Engine, queries: dict[str, tuple[dict[str, Any], Any]]) -> None:
    for name, (options, _rows) in queries.items():
        with engine.connect() as conn:
            query = kpi.statement(conn, **options)
        compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        with engine.connect() as conn:
            lines = [" ".join(str(v) for v in row) for row in conn.exec_driver_sql(f"{prefix} {compiled}")]
        print(f"\nplan of {name}:")
        for line in lines:
            print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--reuse", metavar="PATH", help="SQLite file to keep and use again")
    parser.add_argument("--data", metavar="URL", help="a data database URL (PostgreSQL)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", action="store_true", help="print the plans of the dashboard queries")
    args = parser.parse_args()
    with database(args, "kpis") as url, SqlRepository(url) as repo:
        count = build(repo, args.interactions)
        engine = repo.engine
        with engine.connect() as conn:
            span = sa.text("SELECT min(offered_at), max(offered_at) FROM interactions")
            first, last = conn.execute(span).one()
        first = to_utc(first if isinstance(first, datetime) else datetime.fromisoformat(first))
        last = to_utc(last if isinstance(last, datetime) else datetime.fromisoformat(last))
        whole = (first, last + timedelta(seconds=1))
        week = (last - timedelta(days=7), last + timedelta(seconds=1))
        day = (last - timedelta(days=1), last + timedelta(seconds=1))
        agent = str(_scalar(engine, "SELECT agent FROM interactions WHERE agent IS NOT NULL LIMIT 1"))
        print(f"{count:,} interactions from {first:%Y-%m-%d} to {last:%Y-%m-%d}; {engine.dialect.name}\n")

        whole_base = timed(_baseline(engine, None, grouped=False), args.repeat)
        grouped_base = timed(_baseline(engine, None, grouped=True), args.repeat)
        print(f"baseline COUNT(*), AVG(talk), whole history (a scan):  {whole_base * 1e3:9.0f} ms")
        print(f"(the same GROUP BY agent, as the database plans it:    {grouped_base * 1e3:9.0f} ms)\n")
        queries: dict[str, tuple[dict[str, Any], Any]] = {
            "totals": ({"period": whole, "group_by": ()}, whole_base),
            "per agent": ({"period": whole, "group_by": ("agent",)}, whole_base),
            "per queue": ({"period": whole, "group_by": ("queue",)}, whole_base),
            "per channel": ({"period": whole, "group_by": ("channel",)}, whole_base),
            "per day": ({"period": whole, "group_by": ("day",)}, whole_base),
        }
        dashboard: dict[str, tuple[dict[str, Any], Any]] = {
            "one agent, last 7 days, per day": (
                {"period": week, "group_by": ("day",), "filters": {"agent": agent}},
                _baseline(engine, week, grouped=False),
            ),
            "last day, per hour": (
                {"period": day, "group_by": ("hour",)},
                _baseline(engine, day, grouped=False),
            ),
        }
        print(f"{'every KPI':<34} {'groups':>7} {'time':>10} {'baseline':>10} {'ratio':>7}")
        for name, (options, base) in {**queries, **dashboard}.items():
            baseline = base if isinstance(base, float) else timed(base, args.repeat)
            rows: list[kpi.KpiRow] = []

            def run(options: dict[str, Any] = options, rows: list[kpi.KpiRow] = rows) -> None:
                rows[:] = kpi.compute(engine, **options)

            seconds = timed(run, args.repeat)
            ratio = seconds / baseline if baseline else float("nan")
            figures = f"{seconds * 1e3:>8.0f} ms {baseline * 1e3:>7.0f} ms {ratio:>6.1f}x"
            print(f"{name:<34} {len(rows):>7} {figures}")
        total = kpi.compute(engine, whole)[0]
        print(
            f"\nthe whole history: AHT {total.aht:.0f} s, ASA {total.asa:.0f} s, service level "
            f"{total.service_level:.1f} %, abandoned {total.abandonment_rate:.1f} %, FCR {total.fcr:.1f} %, "
            f"CSAT {total.csat:.1f} %, occupancy {total.occupancy:.1f} %"
        )
        if args.plans:
            plans(engine, dashboard)


if __name__ == "__main__":
    main()
