"""Dashboards: the agent's own day (AgentDashboard) and a live team view for supervisors (TeamDashboard).

Both compute their figures with the KPI engine (:mod:`usd_desktop.data.kpi`, definitions in
docs/kpis.md) in a worker thread of the data services, never on the GUI thread, and refresh:

* when records change (:attr:`DataServices.changed <usd_desktop.data.services.DataServices.changed>`
  for an ``interaction``, ``agent_state_period`` or ``survey_response``: the CTI's interaction
  recorder writes a call's row as it goes), coalesced: a burst of changes makes one refresh, at most
  one per ``min_refresh_seconds`` (default 2);
* every ``refresh_seconds`` after the last refresh (a fallback for what other desktops write:
  default 60 for the agent, 15 for the team; 0: never);
* on the ``Refresh`` action (at once; returns when the figures are shown).

One refresh is in flight at a time; what is asked for meanwhile is folded into the next one.

**AgentDashboard** settings: ``agent`` (a replacement-parameter template, default
``[[$User.username]]``, else the data services' user), ``refresh_seconds``, ``min_refresh_seconds``,
``service_level_seconds`` (20). Actions: ``Refresh`` (``agent=`` shows another agent's day from now
on). Published: ``[[My Day.handled]]``, ``aht``, ``acw``, ``avg_hold``, ``transfers``, ``fcr``,
``csat``, ``occupancy`` (blank when there is no value).

**TeamDashboard** settings: ``thresholds`` (``service_level_below: 80``, ``abandonment_above: 5``,
``asa_above: 30``, ``waiting_above: 3``; a threshold set to null is off), ``service_level_target``
(default the ``service_level_below`` threshold), ``service_level_seconds`` (20), ``trend_days``
(14), ``queues`` and ``agents`` (lists: only these queues' contacts; only these agents in the
table), ``refresh_seconds``, ``min_refresh_seconds``. Actions: ``Refresh``, ``ShowTab``
(``Today`` or ``Trends``). Events: ``ThresholdCrossed`` and ``ThresholdCleared`` (``Name``,
``Value``, ``Threshold``), once per crossing, not on every refresh. Published: ``waiting``,
``service_level``, ``abandonment``, ``asa``, ``handled``, ``aht`` and ``alerts`` (the thresholds
crossed now, comma-separated).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from PySide6.QtWidgets import QWidget

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError, ReplacementError
from usd_desktop.core.replacement import render
from usd_desktop.core.soon import SoonOnce
from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi import KpiRow
from usd_desktop.data.services import DataServices, RecordChange
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import AGENT_DASHBOARD, TEAM_DASHBOARD
from usd_desktop.hosted_controls.qt import dashboards_data as figures
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.dashboards_widgets import (
    NONE,
    AgentDashboardWidget,
    TeamDashboardWidget,
    duration,
    lasted,
    percent,
)

log = logging.getLogger(__name__)

#: The records whose changes can change a dashboard's figures.
WATCHED = frozenset({"interaction", "agent_state_period", "survey_response"})


def _number(value: Any, default: float, *, low: float = 0.0) -> float:
    try:
        return max(low, float(value))
    except (TypeError, ValueError):
        return default


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class DashboardControl(QtHostedControl):
    """What both dashboards share: coalesced refreshes computed off the GUI thread."""

    task_failure = "a dashboard refresh failed"
    #: ``refresh_seconds`` when the configuration does not say.
    DEFAULT_REFRESH = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.min_refresh = _number(self.settings.get("min_refresh_seconds"), 2.0)
        self.fallback = _number(self.settings.get("refresh_seconds"), self.DEFAULT_REFRESH)
        self.refreshes = 0  # refreshes shown so far
        self.message = ""
        self.figures: Any = None
        self._wanted = False
        self._urgent = False
        self._last = float("-inf")
        self._waiters: list[asyncio.Future[None]] = []
        self._runner: asyncio.Task[Any] | None = None
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._soon = SoonOnce(self._kick)

    def _start(self) -> None:
        """Follow the record changes and ask for the first refresh (the end of a subclass's init)."""
        services = self.env.data
        if services is None:
            self.message = "The dashboard needs the service-desk data."
        else:
            self.keep(services.changed.connect(self._record_changed))
            self.request_refresh()

    # ------------------------------------------------------------------ asking for a refresh
    def _record_changed(self, change: RecordChange) -> None:
        if change.entity in WATCHED:
            self.request_refresh()

    def request_refresh(self) -> None:
        """Refresh soon (coalesced with every other request until that refresh starts)."""
        if self.closed:
            return
        self._wanted = True
        self._soon.request()

    async def refresh(self) -> None:
        """Refresh now (no waiting for ``min_refresh_seconds``); returns once the figures are shown."""
        if self.env.data is None:
            raise ActionError(f"{self.name}: {self.message}")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wanted = self._urgent = True
        self._wake.set()
        self._kick()
        await waiter

    def _kick(self) -> None:
        if self.closed or not self._wanted:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the next request starts it
        if self._runner is None or self._runner.done():
            self._runner = self.start_task(self._run())
        else:
            self._wake.set()  # the runner is waiting out min_refresh_seconds: an urgent one goes now

    async def _run(self) -> None:
        """The one refresh loop: waits out ``min_refresh_seconds`` since the last refresh, then runs
        one refresh for everything asked so far; again while more was asked meanwhile."""
        loop = asyncio.get_running_loop()
        while self._wanted and not self.closed:
            wait = self._last + self.min_refresh - loop.time()
            while wait > 0 and not self._urgent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                wait = self._last + self.min_refresh - loop.time()
            self._wanted = self._urgent = False
            waiters, self._waiters = self._waiters, []
            self._last = loop.time()
            self._cancel_timer()
            try:
                await self._refresh_once()
            except BaseException as exc:
                for waiter in waiters:
                    if waiter.done():
                        continue
                    if isinstance(exc, Exception):
                        waiter.set_exception(exc)
                    else:
                        waiter.cancel()
                raise
            finally:
                self._arm_timer()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _refresh_once(self) -> None:
        services = self.data_services()
        try:
            result = await self.compute(services)
        except (DataError, sa.exc.SQLAlchemyError) as exc:
            self.message = f"The figures could not be read: {exc}"
            log.warning("%s: %s", self.name, self.message)
            self.show()
            return
        if self.closed:
            return
        self.message = ""
        self.figures = result
        self.refreshes += 1
        self.apply(result)
        self.show()

    def _arm_timer(self) -> None:
        self._cancel_timer()
        if self.fallback > 0 and not self.closed:
            self._timer = asyncio.get_running_loop().call_later(self.fallback, self.request_refresh)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ------------------------------------------------------------------ what subclasses give
    #: The figures, computed through ``services`` (its worker threads): each dashboard type has its own.
    compute: Callable[[DataServices], Awaitable[Any]]

    def apply(self, result: Any) -> None:
        """Take in new figures (alerts, published values), before :meth:`show`."""

    def show(self) -> None:
        """Show the figures and the message on the widget, if there is one."""

    # ------------------------------------------------------------------ helpers
    def _render_setting(self, template: str) -> str:
        dispatcher = self.env.dispatcher
        try:
            data = dispatcher.sessions.data_for(self.session)
            return render(template, data, scriptlets=dispatcher.scriptlets)
        except ReplacementError:
            return ""

    def _options(self, target: float = 80.0) -> figures.KpiOptions:
        return figures.KpiOptions(
            service_level_target=target,
            service_level_seconds=_number(self.settings.get("service_level_seconds"), 20.0),
            short_abandon_seconds=_number(self.settings.get("short_abandon_seconds"), 5.0),
        )

    def _widget_destroyed(self, widget: QWidget) -> None:
        if self._widget is widget:
            self._widget = None

    @uii_action("Refresh")
    async def refresh_action(self, data: ActionData, call: CallContext) -> str:
        await self.refresh()
        return str(self.refreshes)

    def close(self) -> None:
        if self.closed:
            return
        self._soon.cancel()
        self._cancel_timer()
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters = []
        super().close()


# ---------------------------------------------------------------------- the agent's day
class AgentDashboard(DashboardControl):
    """The signed-in agent's figures for today and handled calls per hour (see the module doc)."""

    control_type = AGENT_DASHBOARD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._agent_override: str | None = None
        self._start()

    def agent(self) -> str:
        """Whose day: ``Refresh agent=``, else the ``agent`` setting, else the signed-in user."""
        if self._agent_override:
            return self._agent_override
        template = str(self.settings.get("agent") or "[[$User.username]+]")
        name = self._render_setting(template).strip()
        services = self.env.data
        return name or (services.user if services is not None else "")

    async def compute(self, services: DataServices) -> figures.AgentFigures:
        agent = self.agent()
        return await services.call(
            figures.agent_figures, services.repository, agent, figures.Day.of(), self._options())

    def apply(self, result: figures.AgentFigures) -> None:
        t = result.totals
        self.publish({
            "handled": str(t.handled), "aht": _blank(t.aht), "acw": _blank(t.acw),
            "avg_hold": _blank(t.avg_hold), "transfers": str(t.transferred), "fcr": _blank(t.fcr),
            "csat": _blank(t.csat), "occupancy": _blank(t.occupancy),
        })

    def tile_texts(self) -> dict[str, tuple[str, str]]:
        """What each tile shows now: ``{key: (value, note)}``."""
        result: figures.AgentFigures | None = self.figures
        if result is None:
            return {}
        t = result.totals
        calls = f"{t.inbound} in · {t.outbound} out" if t.interactions else "no calls yet"
        return {
            "handled": (str(t.handled), calls),
            "aht": (duration(t.aht), f"talk {duration(t.avg_talk)}" if t.avg_talk is not None else ""),
            "acw": (duration(t.acw), ""),
            "hold": (duration(t.avg_hold), ""),
            "transfers": (str(t.transferred), percent(t.transfer_rate) + " of handled" if t.handled else ""),
            "fcr": (percent(t.fcr), f"{t.fcr_resolved} of {t.fcr_contacts}" if t.fcr_contacts else ""),
            "csat": (percent(t.csat), f"{t.survey_answers} answers" if t.survey_answers else "no answers"),
            "occupancy": (percent(t.occupancy), "" if t.occupancy is not None else "no state times"),
        }

    def show(self) -> None:
        widget = self.dashboard_widget
        if widget is None:
            return
        result: figures.AgentFigures | None = self.figures
        if result is not None:
            day = result.day.start.strftime("%a %d %b")
            widget.heading.setText(f"My day · {result.agent or 'unknown agent'} · {day}")
            for key, (value, note) in self.tile_texts().items():
                widget.tiles[key].set(value, note)
            widget.chart.show_hours(result.per_hour, result.day.now.hour)
        updated = f"Updated {result.day.now:%H:%M:%S}" if result is not None else "Loading…"
        widget.status.setText(self.message or updated)

    def create_widget(self) -> QWidget:
        widget = AgentDashboardWidget()
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self.show()
        return widget

    @property
    def dashboard_widget(self) -> AgentDashboardWidget | None:
        widget = self._widget
        return widget if isinstance(widget, AgentDashboardWidget) else None

    @uii_action("Refresh")
    async def refresh_action(self, data: ActionData, call: CallContext) -> str:
        agent = (data.take("agent") or "").strip()
        if agent:
            self._agent_override = agent
        await self.refresh()
        return str(self.refreshes)


# ---------------------------------------------------------------------- the team's day
@dataclass(frozen=True)
class Threshold:
    """One alert: ``key`` names the setting; the figure crosses when below (above) ``limit``."""

    key: str
    label: str
    limit: float
    below: bool
    show: Callable[[float], str]

    def crossed(self, value: float | None) -> bool:
        if value is None:
            return False
        return value < self.limit if self.below else value > self.limit

    def describe(self, value: float) -> str:
        side = "below" if self.below else "above"
        return f"{self.label} {self.show(value)} {side} {self.show(self.limit)}"


#: The thresholds a TeamDashboard knows: (setting, label, default, below?, format, the tile it tints).
THRESHOLDS: tuple[tuple[str, str, float, bool, Callable[[float], str], str], ...] = (
    ("service_level_below", "Service level", 80.0, True, percent, "service_level"),
    ("abandonment_above", "Abandonment", 5.0, False, percent, "abandonment"),
    ("asa_above", "Speed of answer", 30.0, False, lambda v: f"{v:.0f} s", "asa"),
    ("waiting_above", "Calls waiting", 3.0, False, lambda v: f"{v:.0f}", "waiting"),
)
_TILE_OF = {key: tile for key, *_rest, tile in THRESHOLDS}


def _names(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(v).strip() for v in items if str(v).strip())


class TeamDashboard(DashboardControl):
    """Agent states, calls waiting, service level and abandonment today with alerts; trends."""

    control_type = TEAM_DASHBOARD
    DEFAULT_REFRESH = 15.0
    TABS = ("Today", "Trends")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.thresholds = self._thresholds(self.name, self.settings.get("thresholds"))
        self.crossed: dict[str, float] = {}  # threshold key -> the value when it crossed
        self.alert_log: list[str] = []
        self.tab = "Today"
        self.trend_days = int(_number(self.settings.get("trend_days"), 14.0, low=1.0))
        self.queues = _names(self.settings.get("queues"))
        self.agents = _names(self.settings.get("agents"))
        self._start()

    @staticmethod
    def _thresholds(name: str, given: Any) -> list[Threshold]:
        given = given or {}
        if not isinstance(given, Mapping):
            log.warning("%s: thresholds should be a mapping; the defaults apply", name)
            given = {}
        unknown = set(given) - {key for key, *_ in THRESHOLDS}
        if unknown:
            log.warning("%s: unknown thresholds %s (known: %s)", name, ", ".join(sorted(unknown)),
                        ", ".join(key for key, *_ in THRESHOLDS))
        out = []
        for key, label, default, below, show, _tile in THRESHOLDS:
            raw = given.get(key, default)
            if raw is None:
                continue  # switched off
            out.append(Threshold(key, label, _number(raw, default, low=float("-inf")), below, show))
        return out

    def target(self) -> float:
        for threshold in self.thresholds:
            if threshold.key == "service_level_below":
                default = threshold.limit
                break
        else:
            default = 80.0
        return _number(self.settings.get("service_level_target"), default)

    async def compute(self, services: DataServices) -> figures.TeamFigures:
        return await services.call(
            figures.team_figures, services.repository, figures.Day.of(), self._options(self.target()),
            trend_days=self.trend_days, queues=self.queues, agents=self.agents)

    @staticmethod
    def values(result: figures.TeamFigures) -> dict[str, float | None]:
        """The figures the thresholds watch, by threshold key."""
        t = result.totals
        return {"service_level_below": t.service_level, "abandonment_above": t.abandonment_rate,
                "asa_above": t.asa, "waiting_above": float(result.waiting)}

    def apply(self, result: figures.TeamFigures) -> None:
        values = self.values(result)
        at = result.day.now.strftime("%H:%M")
        for threshold in self.thresholds:
            value = values.get(threshold.key)
            was, now = threshold.key in self.crossed, threshold.crossed(value)
            if now and not was and value is not None:
                self.crossed[threshold.key] = value
                self._log(f"{at}  {threshold.describe(value)}", cleared=False)
                self._raise("ThresholdCrossed", threshold, value)
            elif was and not now:
                del self.crossed[threshold.key]
                shown = NONE if value is None else threshold.show(value)
                self._log(f"{at}  {threshold.label} back to {shown}", cleared=True)
                self._raise("ThresholdCleared", threshold, value)
        t = result.totals
        self.publish({
            "waiting": str(result.waiting), "service_level": _blank(t.service_level),
            "abandonment": _blank(t.abandonment_rate), "asa": _blank(t.asa), "handled": str(t.handled),
            "aht": _blank(t.aht), "alerts": ",".join(sorted(self.crossed)),
        })

    def _raise(self, event: str, threshold: Threshold, value: float | None) -> None:
        self.raise_event(event, {"Name": threshold.key, "Value": _blank(value),
                                 "Threshold": _blank(threshold.limit), "Label": threshold.label})

    def _log(self, text: str, *, cleared: bool) -> None:
        self.alert_log.append(text)
        widget = self.dashboard_widget
        if widget is not None:
            widget.add_alert(text, cleared=cleared)

    def tile_texts(self) -> dict[str, tuple[str, str, bool]]:
        """What each tile shows now: ``{key: (value, note, in alert)}``."""
        result: figures.TeamFigures | None = self.figures
        if result is None:
            return {}
        t = result.totals
        alert = {_TILE_OF[key] for key in self.crossed}
        seconds = _number(self.settings.get("service_level_seconds"), 20.0)
        longest = f"longest {duration(result.longest_wait)}" if result.longest_wait is not None else "none"
        return {
            "waiting": (str(result.waiting), longest, "waiting" in alert),
            "service_level": (percent(t.service_level), f"target {self.target():g} % in {seconds:g} s",
                              "service_level" in alert),
            "abandonment": (percent(t.abandonment_rate), f"{t.abandoned - t.short_abandoned} of {t.offered}"
                            if t.offered else "no calls yet", "abandonment" in alert),
            "asa": (duration(t.asa), f"{t.answered} answered", "asa" in alert),
            "handled": (str(t.handled), f"{t.agents} agents" if t.agents != 1 else "1 agent", False),
            "aht": (duration(t.aht), f"ACW {duration(t.acw)}" if t.acw is not None else "", False),
        }

    def agent_rows(self) -> list[list[str]]:
        result: figures.TeamFigures | None = self.figures
        if result is None:
            return []
        rows = []
        for agent in result.agents:
            state, since = NONE, ""
            if agent.state is not None:
                state = agent.state.state.replace("_", " ")
                if agent.state.reason:
                    state += f" ({agent.state.reason})"
                started = agent.state.since.astimezone(result.day.now.tzinfo)
                since = f"{started:%H:%M} ({lasted((result.day.now - started).total_seconds())})"
            rows.append([agent.agent, state, since, str(agent.today.handled), duration(agent.today.aht)])
        return rows

    def trend_series(self) -> tuple[list[datetime], dict[str, list[float | None]]]:
        """The days of the trend and, per series, a value per day (``None``: no contacts)."""
        result: figures.TeamFigures | None = self.figures
        if result is None:
            return [], {}
        first = result.day.start - timedelta(days=self.trend_days - 1)
        days = [first + timedelta(days=i) for i in range(self.trend_days)]
        by_day: dict[Any, KpiRow] = {}
        for kpis in result.trend:
            start = kpis.key.get("day")
            if isinstance(start, datetime):
                by_day[start.date()] = kpis
        series: dict[str, list[float | None]] = {"service_level": [], "aht": [], "handled": []}
        for day in days:
            row: KpiRow | None = by_day.get(day.date())
            series["service_level"].append(None if row is None else row.service_level)
            series["aht"].append(None if row is None or row.aht is None else row.aht / 60.0)
            series["handled"].append(0.0 if row is None else float(row.handled))
        return days, series

    def show(self) -> None:
        widget = self.dashboard_widget
        if widget is None:
            return
        result: figures.TeamFigures | None = self.figures
        if result is not None:
            scope = f" · {', '.join(self.queues)}" if self.queues else ""
            widget.heading.setText(f"Team today{scope} · {result.day.start:%a %d %b}")
            for key, (value, note, alert) in self.tile_texts().items():
                widget.tiles[key].set(value, note, alert=alert)
            widget.show_agents(self.agent_rows())
            days, series = self.trend_series()
            widget.trend.show_days(days, series, self.target())
        updated = f"Updated {result.day.now:%H:%M:%S}" if result is not None else "Loading…"
        widget.status.setText(self.message or updated)

    def create_widget(self) -> QWidget:
        widget = TeamDashboardWidget()
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        for text in self.alert_log:
            widget.add_alert(text, cleared="back to" in text)
        widget.tabs.setCurrentIndex(self.TABS.index(self.tab))
        widget.tabs.currentChanged.connect(self._tab_changed)
        self.show()
        return widget

    def _tab_changed(self, index: int) -> None:
        if 0 <= index < len(self.TABS):
            self.tab = self.TABS[index]

    @property
    def dashboard_widget(self) -> TeamDashboardWidget | None:
        widget = self._widget
        return widget if isinstance(widget, TeamDashboardWidget) else None

    @uii_action("ShowTab")
    def show_tab_action(self, data: ActionData, call: CallContext) -> str:
        wanted = (data.take("tab") or data.positional(0) or "").strip()
        names = {name.lower(): name for name in self.TABS}
        if wanted.lower() not in names:
            raise ActionError(f"{self.name}: ShowTab needs one of {', '.join(self.TABS)}, not {wanted!r}")
        self.tab = names[wanted.lower()]
        widget = self.dashboard_widget
        if widget is not None:
            widget.tabs.setCurrentIndex(self.TABS.index(self.tab))
        self.env.host.show_control(self.name)
        return self.tab

