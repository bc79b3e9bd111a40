"""The agent state periods written as the agent's state changes, on SQLite, and the occupancy KPI over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.cti.agent_states import AgentStateRecorder
from usd_desktop.cti.manager import CtiManager
from usd_desktop.data import kpi
from usd_desktop.data.errors import DataError
from usd_desktop.data.services import DataServices
from usd_desktop.data.values import to_utc
from usd_desktop.testing import make_data_services, until
from usd_desktop.testing.fake_adapter import FakeAdapter, FakeClock

START = FakeClock().now


def at(seconds: float) -> datetime:
    """The time ``seconds`` after the test began."""
    return START + timedelta(seconds=seconds)


@dataclass
class World:
    services: DataServices
    clock: FakeClock
    fake: FakeAdapter
    manager: CtiManager
    recorder: AgentStateRecorder
    problems: list[str]

    async def periods(self) -> list[tuple[str, str | None, datetime, datetime | None]]:
        """The agent's periods as (state, reason, started, ended), oldest first."""
        await self.recorder.flush()
        repo: Any = self.services.repository
        with repo.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT agent, state, reason, started_at, ended_at FROM agent_state_periods "
                "ORDER BY started_at, ended_at IS NULL, ended_at")).all()
        assert all(row[0] == "tracie" for row in rows)
        return [(r[1], r[2], _when(r[3]), _when(r[4]) if r[4] else None) for r in rows]


def _when(value: Any) -> datetime:
    return to_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}", drafts=str(tmp_path / "drafts.db"))
    clock = FakeClock(START)
    fake = FakeAdapter(clock=clock)
    manager = CtiManager(fake, agent="tracie", clock=clock, tick_seconds=0, reconnect_delays=(0.0,),
                         wrap_up_seconds=60)
    problems: list[str] = []
    manager.problem.connect(problems.append)
    await manager.start()
    recorder = AgentStateRecorder(manager, services, retry_delay=0, heartbeat_seconds=0)
    await recorder.flush()  # the desktop starts offline (since the manager's start, 0 s)
    clock.advance(5)
    yield World(services, clock, fake, manager, recorder, problems)
    await recorder.close()
    await manager.close()
    services.close()


async def a_working_hour(world: World) -> None:
    """Offline from 0, available at 5, a call rings at 15, answered at 25, ends at 85, wrap-up done
    at 115, a break from 135, closed at 205."""
    manager, clock = world.manager, world.clock
    await manager.set_agent_state("available")
    clock.advance(10)
    cid = world.fake.offer(ani="040 1234567")
    clock.advance(10)
    await manager.answer(cid)
    clock.advance(60)
    await manager.hangup(cid)
    clock.advance(30)
    await manager.complete_wrap_up("resolved", cid)
    clock.advance(20)
    await manager.set_agent_state("not_ready", "Break")
    clock.advance(70)
    await world.recorder.close()


# ---------------------------------------------------------------------- the periods
async def test_one_period_per_state_with_its_times_and_reason(world: World) -> None:
    await a_working_hour(world)
    assert await world.periods() == [
        ("offline", None, at(0), at(5)),
        ("available", None, at(5), at(25)),  # the call rang meanwhile: still available
        ("on_call", None, at(25), at(85)),
        ("wrap_up", None, at(85), at(115)),
        ("available", None, at(115), at(135)),
        ("not_ready", "Break", at(135), at(205)),
    ]
    assert world.services.drafts.pending("agent_state:") == []  # nothing left to recover
    assert world.problems == []


async def test_the_state_the_agent_is_in_is_written_at_once_and_left_open(world: World) -> None:
    await world.manager.set_agent_state("not_ready", "Training")
    periods = await world.periods()
    assert periods == [("offline", None, at(0), at(5)), ("not_ready", "Training", at(5), None)]
    assert world.recorder.current is not None
    assert len(world.services.drafts.pending("agent_state:")) == 1  # the open one, for a crash


async def test_a_period_that_ended_where_it_began_is_not_written(world: World) -> None:
    world.fake.set_agent("available")
    world.fake.set_agent("not_ready", "Break")  # in the same instant, before anything was written
    periods = await world.periods()
    assert periods == [("offline", None, at(0), at(5)), ("not_ready", "Break", at(5), None)]
    assert len(world.services.drafts.pending("agent_state:")) == 1


async def test_a_new_reason_is_a_new_period_and_other_changes_are_not(world: World) -> None:
    await world.manager.set_agent_state("not_ready", "Break")
    world.clock.advance(60)
    await world.manager.set_agent_state("not_ready", "Lunch")
    world.clock.advance(30)
    cid = world.fake.offer(ani="040 1234567")
    await world.manager.answer(cid)
    world.clock.advance(40)
    await world.manager.set_agent_state("offline")  # asked for during the call: after the wrap-up
    periods = await world.periods()
    assert periods == [
        ("offline", None, at(0), at(5)),
        ("not_ready", "Break", at(5), at(65)),
        ("not_ready", "Lunch", at(65), at(95)),
        ("on_call", None, at(95), None),
    ]


async def test_the_backend_reporting_the_state_counts_too(world: World) -> None:
    world.fake.set_agent("available")
    world.clock.advance(45)
    world.fake.set_agent("not_ready", "Supervisor")
    periods = await world.periods()
    assert periods == [("offline", None, at(0), at(5)), ("available", None, at(5), at(50)),
                       ("not_ready", "Supervisor", at(50), None)]


async def test_occupancy_over_the_written_periods(world: World) -> None:
    await a_working_hour(world)
    repo: Any = world.services.repository
    # busy: 60 s on the call + 30 s wrap-up; available: 20 s before + 20 s after; the break counts in neither
    row = kpi.totals(repo, (at(-3600), at(3600)), filters={"agent": "tracie"})
    assert row.busy_seconds == 90 and row.available_seconds == 40
    assert row.occupancy == pytest.approx(90 / 130 * 100)
    by_agent = kpi.compute(repo, None, "agent")
    assert [(r.key["agent"], round(r.occupancy or 0, 2)) for r in by_agent] == [("tracie", 69.23)]


# ---------------------------------------------------------------------- failures and crashes
async def test_a_failing_write_is_reported_and_tried_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real = world.services.create
    failures = [DataError("database is locked")]

    async def flaky(entity: str, values: Any, **kwargs: Any) -> str:
        if entity == "agent_state_period" and failures:
            raise failures.pop()
        return await real(entity, values, **kwargs)

    monkeypatch.setattr(world.services, "create", flaky)
    await world.manager.set_agent_state("available")
    assert await world.periods() == [("offline", None, at(0), at(5)), ("available", None, at(5), None)]
    assert len(world.problems) == 1 and "could not be saved (create): database is locked; trying again" \
        in world.problems[0]


async def test_a_database_away_keeps_the_periods_and_writes_them_later(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real = world.services.create
    away = [True]

    async def down(entity: str, values: Any, **kwargs: Any) -> str:
        if entity == "agent_state_period" and away:
            raise DataError("the database is away")
        return await real(entity, values, **kwargs)

    monkeypatch.setattr(world.services, "create", down)
    await world.manager.set_agent_state("available")
    world.clock.advance(30)
    await world.manager.set_agent_state("not_ready", "Break")
    assert await world.periods() == [("offline", None, at(0), at(5))]  # written before it went away
    assert "kept and written with the next change" in world.problems[-1]
    assert len(world.services.drafts.pending("agent_state:")) == 2  # safe meanwhile
    away.clear()
    world.clock.advance(15)
    await world.manager.set_agent_state("available")
    assert await world.periods() == [
        ("offline", None, at(0), at(5)),
        ("available", None, at(5), at(35)),
        ("not_ready", "Break", at(35), at(50)),
        ("available", None, at(50), None),
    ]


async def test_a_period_left_open_by_a_killed_run_is_closed_at_the_last_moment_known(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first run: available at 5, still so when last heard of at 305, then killed (no close)
    await world.manager.set_agent_state("available")
    world.clock.advance(300)
    world.recorder.touch()  # the heartbeat
    await world.recorder.flush()
    world.clock.advance(100)  # ... killed here: nobody hears of 305..405
    assert await world.periods() == [("offline", None, at(0), at(5)), ("available", None, at(5), None)]
    left = world.services.drafts.pending("agent_state:")
    assert len(left) == 1
    # the next run (another process, another run id): a recorder on the same drafts and database
    monkeypatch.setattr("usd_desktop.cti.interactions.RUN", "the next run")
    fake = FakeAdapter(clock=world.clock)
    manager = CtiManager(fake, agent="tracie", clock=world.clock, tick_seconds=0, reconnect_delays=(0.0,))
    again = AgentStateRecorder(manager, world.services, retry_delay=0, heartbeat_seconds=0)
    assert await again.recover() == 1
    world.clock.advance(10)
    await again.close()
    assert await world.periods() == [("offline", None, at(0), at(5)), ("available", None, at(5), at(305)),
                                     ("offline", None, at(405), at(415))]  # the next run's own
    assert world.services.drafts.pending("agent_state:") == []
    assert await again.recover() == 0  # once only


async def test_a_period_never_written_is_created_by_recover(world: World) -> None:
    world.services.drafts.put("agent_state:left-1", {
        "id": "left-1", "created": False, "seen": at(-100).isoformat(),
        "values": {"agent": "tracie", "state": "wrap_up", "reason": None,
                   "started_at": at(-160).isoformat(), "ended_at": None},
    })
    assert await world.recorder.recover() == 1
    row = await world.services.get("agent_state_period", "left-1")
    assert row is not None and row["state"] == "wrap_up"
    assert to_utc(row["started_at"]) == at(-160) and to_utc(row["ended_at"]) == at(-100)


async def test_recover_leaves_the_periods_of_this_run_alone(world: World) -> None:
    await world.manager.set_agent_state("available")
    await world.recorder.flush()
    assert await world.recorder.recover() == 0
    assert await world.periods() == [("offline", None, at(0), at(5)), ("available", None, at(5), None)]


async def test_the_heartbeat_keeps_the_last_moment_known(tmp_path: Path) -> None:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}")
    clock = FakeClock(START)
    manager = CtiManager(FakeAdapter(clock=clock), agent="tracie", clock=clock, tick_seconds=0)
    await manager.start()
    recorder = AgentStateRecorder(manager, services, heartbeat_seconds=0.01)
    beats: list[Any] = []
    original = recorder.touch

    def touch() -> None:
        beats.append(clock())
        original()

    recorder.touch = touch  # type: ignore[method-assign]
    clock.advance(90)
    await until(lambda: beats, "a heartbeat")
    await recorder.flush()
    (draft,) = services.drafts.pending("agent_state:")
    assert to_utc(datetime.fromisoformat(draft.payload["seen"])) == at(90)
    await recorder.close()
    await manager.close()
    services.close()
