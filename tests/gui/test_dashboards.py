"""Dashboards: the agent's day and the team view, computed off the GUI thread, refreshed on changes."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt import dashboards_data
from usd_desktop.hosted_controls.qt.dashboards import AgentDashboard, TeamDashboard
from usd_desktop.hosted_controls.qt.dashboards_widgets import AgentDashboardWidget, TeamDashboardWidget
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: dashboards-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: My Day
        type: AgentDashboard
        settings: {min_refresh_seconds: 0, refresh_seconds: 0}
      - name: Team
        type: TeamDashboard
        settings:
          min_refresh_seconds: 0
          refresh_seconds: 0
          trend_days: 7
          thresholds: {service_level_below: 80, abandonment_above: 5, asa_above: 30, waiting_above: 1}
    """)

DAY = dashboards_data.Day.of()


def at(hours: float) -> datetime:
    """A time today, ``hours`` after midnight (local time)."""
    return DAY.start + timedelta(hours=hours)


def call(agent: str | None, offered: datetime, *, wait: float = 10, talk: float = 290, acw: float = 30,
         **extra: Any) -> dict[str, Any]:
    """An inbound phone call answered after ``wait`` s, talked ``talk`` s, wrapped up in ``acw`` s."""
    answered = offered + timedelta(seconds=wait)
    ended = answered + timedelta(seconds=talk)
    return {"channel": "phone", "direction": "inbound", "queue": "support", "agent": agent,
            "offered_at": offered, "answered_at": answered, "ended_at": ended,
            "wrap_up_ended_at": ended + timedelta(seconds=acw), "hold_seconds": 0, **extra}


def ringing(offered: datetime) -> dict[str, Any]:
    return {"channel": "phone", "direction": "inbound", "queue": "support", "agent": "tracie",
            "offered_at": offered}


@asynccontextmanager
async def running(tmp_path: Path, config: str = CONFIG) -> AsyncIterator[tuple[Desktop, DataServices]]:
    data = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    desktop = make_desktop(config, data=data)
    await desktop.start()
    try:
        yield desktop, data
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        data.close()


def agent_dashboard(desktop: Desktop) -> tuple[AgentDashboard, AgentDashboardWidget]:
    control = desktop.resolve("My Day", desktop.sessions.global_session)
    assert isinstance(control, AgentDashboard)
    widget = control.widget()
    assert isinstance(widget, AgentDashboardWidget)
    return control, widget


def team_dashboard(desktop: Desktop) -> tuple[TeamDashboard, TeamDashboardWidget]:
    control = desktop.resolve("Team", desktop.sessions.global_session)
    assert isinstance(control, TeamDashboard)
    widget = control.widget()
    assert isinstance(widget, TeamDashboardWidget)
    return control, widget


def tile(widget: AgentDashboardWidget | TeamDashboardWidget, key: str) -> str:
    return widget.tiles[key].value.text()


async def tracies_day(data: DataServices) -> None:
    """Three handled calls of tracie's (one held, one transferred, one surveyed), one of another agent,
    and her agent states: 20 min busy, 5 min available, available again now."""
    first = await data.create("interaction", call("tracie", at(9), hold_seconds=60, contact_id=None,
                                                  first_contact_resolution=True))
    await data.create("interaction", call("tracie", at(9.5), talk=410, acw=50, transfers=1))
    await data.create("interaction", call("tracie", at(10.25), talk=170, acw=10))
    await data.create("interaction", call("ana", at(9.2), talk=600))
    await data.create("survey_response", {"interaction_id": first, "kind": "scale", "scale_max": 5,
                                          "score": 5, "answered_at": at(9.3)})
    for state, start, end in (("on_call", 9, 9.25), ("available", 9.25, 9.33), ("wrap_up", 9.33, 9.42)):
        await data.create("agent_state_period", {"agent": "tracie", "state": state, "started_at": at(start),
                                                 "ended_at": at(end)})
    await data.create("agent_state_period", {"agent": "tracie", "state": "available", "started_at": at(10.5)})


async def test_the_agents_tiles_show_todays_figures(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        await tracies_day(data)
        control, widget = agent_dashboard(desktop)
        ran = await desktop.dispatcher.run_action("My Day", "Refresh")
        assert ran.outcome is Outcome.RAN
        assert control.agent() == "tracie"  # the data services' user: $User has no username here
        # handled 3; AHT (290+30 + 410+50 + 170+10) / 3 = 320 s; ACW 30 s; hold 60 / 3 = 20 s
        assert tile(widget, "handled") == "3"
        assert widget.tiles["handled"].note.text() == "3 in · 0 out"
        assert tile(widget, "aht") == "5:20"
        assert tile(widget, "acw") == "0:30"
        assert tile(widget, "hold") == "0:20"
        assert tile(widget, "transfers") == "1"
        assert tile(widget, "fcr") == "33.3 %"  # one of three first contacts marked resolved
        assert tile(widget, "csat") == "100 %"
        # busy 15 + 5.4 min, available 4.8 min
        assert tile(widget, "occupancy") == "81 %"
        assert widget.chart.shown == {9: 2, 10: 1}
        assert "tracie" in widget.heading.text()
        assert desktop.sessions.global_session.store.get("My Day", "handled") == "3"


async def test_a_new_call_changes_the_figures_without_asking(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        await tracies_day(data)
        control, widget = agent_dashboard(desktop)
        await control.refresh()
        assert tile(widget, "handled") == "3"
        await data.create("interaction", call("tracie", at(11)))  # what the CTI's recorder writes
        await until(lambda: tile(widget, "handled") == "4", "the new call in the tiles")
        assert widget.chart.shown == {9: 2, 10: 1, 11: 1}
        await data.create("interaction", call("ana", at(11.5)))  # someone else's: same figures
        await until(lambda: control.refreshes >= 3, "the refresh after ana's call")
        assert tile(widget, "handled") == "4"


async def test_the_team_table_states_and_service_level(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        await tracies_day(data)
        await data.create("agent_state_period", {"agent": "ana", "state": "not_ready", "reason": "break",
                                                 "started_at": at(10.6)})
        # ana's old state period, still open: the latest one wins
        await data.create("agent_state_period", {"agent": "ana", "state": "available", "started_at": at(8)})
        # a call answered after 40 s (outside 20 s) and one abandoned after 30 s in the queue
        await data.create("interaction", call("ana", at(10.7), wait=40))
        await data.create("interaction", {"channel": "phone", "direction": "inbound", "queue": "support",
                                          "offered_at": at(10.8), "ended_at": at(10.8) + timedelta(seconds=30),
                                          "end_cause": "abandoned"})
        control, widget = team_dashboard(desktop)
        await control.refresh()
        # offered 6 (5 answered, 4 within 20 s, 1 abandoned): service level 4/6, abandonment 1/6
        assert tile(widget, "service_level") == "66.7 %"
        assert tile(widget, "abandonment") == "16.7 %"
        assert tile(widget, "handled") == "5"
        assert tile(widget, "waiting") == "0"
        rows = control.agent_rows()
        assert [r[0] for r in rows] == ["ana", "tracie"]
        assert rows[0][1] == "not ready (break)" and rows[0][2].startswith(f"{at(10.6):%H:%M}")
        assert rows[1][1] == "available" and rows[1][3] == "3" and rows[1][4] == "5:20"
        assert widget.table.item(0, 1).text() == "not ready (break)"
        # the thresholds crossed at the first refresh: tinted tiles and lines in the alert list
        assert widget.tiles["service_level"].alert and widget.tiles["abandonment"].alert
        assert not widget.tiles["waiting"].alert
        assert widget.alerts.count() == 2


async def test_a_threshold_crossing_raises_its_event_once(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        control, widget = team_dashboard(desktop)
        await control.refresh()
        journal = desktop.dispatcher.journal

        def crossed() -> list[Any]:
            return journal.find(kind="event", name="ThresholdCrossed")

        first = await data.create("interaction", ringing(at(11)))
        await control.refresh()
        assert tile(widget, "waiting") == "1" and not crossed()  # 1 is not above 1
        second = await data.create("interaction", ringing(at(11.01)))
        await until(lambda: tile(widget, "waiting") == "2", "two calls waiting")
        await until(crossed, "ThresholdCrossed")
        [event] = crossed()
        assert event.parameters["Name"] == "waiting_above"
        assert event.parameters["Value"] == "2" and event.parameters["Threshold"] == "1"
        assert widget.tiles["waiting"].alert
        assert widget.alerts.count() == 1 and "Calls waiting 2 above 1" in widget.alerts.item(0).text()

        await data.create("interaction", ringing(at(11.02)))  # still crossed: no second event
        await until(lambda: tile(widget, "waiting") == "3", "three calls waiting")
        await control.refresh()
        assert len(crossed()) == 1 and widget.alerts.count() == 1

        for ident, offered in ((first, at(11)), (second, at(11.01))):  # answered within 5 s
            await data.update("interaction", ident, {"answered_at": offered + timedelta(seconds=5)})
        await until(lambda: journal.find(kind="event", name="ThresholdCleared"), "ThresholdCleared")
        assert not widget.tiles["waiting"].alert and widget.alerts.count() == 2
        assert len(crossed()) == 1


async def test_the_trend_per_day(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        await data.create("interaction", call("tracie", at(10 - 48), talk=570))  # two days ago: AHT 10 min
        await data.create("interaction", call("tracie", at(10)))
        control, widget = team_dashboard(desktop)
        shown = await desktop.dispatcher.run_action("Team", "ShowTab", "Trends")
        assert shown.outcome is Outcome.RAN and widget.tabs.currentIndex() == 1
        await control.refresh()
        days, series = control.trend_series()
        assert len(days) == 7 and days[-1].date() == DAY.start.date()
        assert series["handled"] == [0, 0, 0, 0, 1, 0, 1]
        assert series["aht"][4] == pytest.approx(10.0) and series["aht"][5] is None
        assert series["service_level"][-1] == 100
        assert widget.trend.values["handled"] == series["handled"]


async def test_refreshes_run_in_a_worker_thread_and_never_pile_up(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    running_now = 0
    most = 0
    gate = threading.Event()
    gate.set()
    real = dashboards_data.agent_figures

    def watched(*args: Any, **kwargs: Any) -> Any:
        nonlocal running_now, most
        threads.append(threading.current_thread().name)
        running_now += 1
        most = max(most, running_now)
        try:
            gate.wait(10)
            return real(*args, **kwargs)
        finally:
            running_now -= 1

    monkeypatch.setattr(dashboards_data, "agent_figures", watched)
    async with running(tmp_path) as (desktop, data):
        await tracies_day(data)
        control, widget = agent_dashboard(desktop)
        await control.refresh()
        assert threads and all(name.startswith("usd-data") for name in threads)
        assert threading.current_thread() is threading.main_thread()

        gate.clear()  # the next query hangs in its worker thread
        before = len(threads)
        await data.create("interaction", call("tracie", at(11)))
        await until(lambda: running_now == 1, "a refresh in flight")
        ticked = asyncio.Event()
        asyncio.get_running_loop().call_soon(ticked.set)
        await asyncio.wait_for(ticked.wait(), 5)  # the GUI loop keeps turning meanwhile
        widget.tiles["handled"].set("x")  # and the widgets stay usable
        for n in range(5):  # a burst of changes while it runs
            await data.create("interaction", call("tracie", at(12 + n / 10)))
        assert running_now == 1 and len(threads) == before + 1
        gate.set()
        await until(lambda: tile(widget, "handled") == "9", "the figures after the burst")
        await until(lambda: not control.busy, "the refreshes done")
        assert most == 1
        assert len(threads) == before + 2  # the burst was folded into one refresh
