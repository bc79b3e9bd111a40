"""Broadcasts, Qt-free: desktops sharing one SQLite data file send and receive broadcast messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.broadcasts import (
    Broadcasts,
    active_broadcasts,
    broadcast_values,
    parse_audience,
)
from usd_desktop.hosted_controls.catalog import BROADCASTS, CONNECTION_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.desktop import Desktop, MemorySettings
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_data_services, make_desktop, until

CONFIG = r"""
name: broadcasts
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - name: Broadcasts
    type: Broadcasts
    settings: {poll_seconds: 0.05, queues: "[[$Settings.Queues]+]", popup_severity: warning}
action_calls:
  - name: Announce it
    control: Global Manager
    action: CopyToContext
    data: last=[[title]] from [[sender]] ([[severity]])
events:
  - {control: Broadcasts, name: BroadcastReceived, action_calls: [Announce it]}
"""
HEADLESS = replace(BROADCASTS, factory="usd_desktop.hosted_controls.broadcasts:Broadcasts", needs_qt=False)


def registry() -> Registry:
    return Registry([GLOBAL_MANAGER, CONNECTION_MANAGER, HEADLESS])


@pytest.fixture
def data_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.db'}"


@pytest.fixture
def open_desktop(data_file: str) -> Iterator[Callable[..., Any]]:
    made: list[tuple[Desktop, DataServices]] = []

    async def make(user: str, queues: str = "", settings: MemorySettings | None = None,
                   poll: float = 0.05) -> Desktop:
        services = make_data_services(data_file, user=user)
        settings = settings or MemorySettings({"Queues": queues})
        config = CONFIG.replace("poll_seconds: 0.05", f"poll_seconds: {poll}")
        desktop = make_desktop(config, registry=registry(), data=services, settings=settings,
                               host=RecordingHost(), user={"username": user, "firstname": user})
        desktop.sessions.global_session.store.update("$Settings", settings.load())
        await desktop.start()
        made.append((desktop, services))
        return desktop

    yield make
    for _desktop, services in made:
        services.close()


@pytest.fixture
async def shutdown_all() -> AsyncIterator[list[Desktop]]:
    desktops: list[Desktop] = []
    yield desktops
    for desktop in desktops:
        await desktop.shutdown()


def control(desktop: Desktop) -> Broadcasts:
    found = desktop.instance("Broadcasts")
    assert isinstance(found, Broadcasts)
    return found


def received(desktop: Desktop) -> list[Any]:
    return desktop.dispatcher.journal.find(kind="event", name="BroadcastReceived")


async def send(desktop: Desktop, data: str) -> str:
    """Run ``Broadcast``; its ``$Return`` (the new id), or the reason it failed."""
    outcome = await desktop.dispatcher.run_action("Broadcasts", "Broadcast", data,
                                                  session=desktop.sessions.global_session)
    return str(outcome.result if outcome.outcome is Outcome.RAN else outcome.reason)


async def test_one_desktop_sends_and_another_receives_once(
    open_desktop: Callable[..., Any], shutdown_all: list[Desktop]
) -> None:
    supervisor = await open_desktop("sam")
    agent = await open_desktop("tracie")
    shutdown_all += [supervisor, agent]
    id = await send(supervisor, "title=Phones down\nbody=The phone lines are down in Leeds.\nseverity=critical")
    assert len(id) == 36
    await until(lambda: agent.sessions.global_session.store.get("$Context", "last"), "the agent's event")
    store = agent.sessions.global_session.store
    assert store.get("$Context", "last") == "Phones down from sam (critical)"
    assert store.get("Broadcasts", "title") == "Phones down"
    assert store.get("Broadcasts", "body") == "The phone lines are down in Leeds."
    assert store.get("Broadcasts", "severity") == "critical"
    host = agent.host
    assert isinstance(host, RecordingHost)
    assert host.of("display_message") == [("The phone lines are down in Leeds.", "Critical: Phones down")]
    assert [m.title for m in control(agent).messages] == ["Phones down"]
    await until(lambda: received(supervisor), "the sender's own copy")
    # later polls (and a restarted control reading the same settings) announce it no more
    await control(agent).poll()
    await control(agent).poll()
    await control(supervisor).poll()
    assert len(received(agent)) == 1 and len(received(supervisor)) == 1
    assert control(agent)._remembered("seen") == [id]


async def test_the_sender_hears_its_own_broadcast_at_once(
    open_desktop: Callable[..., Any], shutdown_all: list[Desktop]
) -> None:
    supervisor = await open_desktop("sam", poll=3600)  # only the change notification can wake it
    shutdown_all.append(supervisor)
    await send(supervisor, "title=Lunch menu\nbody=Soup.")
    await until(lambda: received(supervisor), "the sender's own event")
    host = supervisor.host
    assert isinstance(host, RecordingHost)
    assert host.of("display_message") == []  # info is below popup_severity=warning


async def test_a_queue_audience_reaches_only_that_queues_agents(
    open_desktop: Callable[..., Any], shutdown_all: list[Desktop]
) -> None:
    supervisor = await open_desktop("sam", queues="supervisors")
    billing = await open_desktop("bea", queues="billing, sales")
    support = await open_desktop("sue", queues="support")
    shutdown_all += [supervisor, billing, support]
    await send(supervisor, "title=Billing system slow\naudience=queue:billing\nseverity=warning")
    await send(supervisor, "title=Everyone\naudience=all")
    await until(lambda: len(received(billing)) == 2, "billing gets both")
    await until(lambda: len(received(support)) == 1, "support gets the one for all")
    await control(support).poll()
    assert [m.title for m in control(support).messages] == ["Everyone"]
    assert [m.title for m in control(billing).messages] == ["Billing system slow", "Everyone"]
    assert control(billing).queues() == ["billing", "sales"]


async def test_expired_broadcasts_disappear_and_dismissed_ones_stay_hidden(
    open_desktop: Callable[..., Any], shutdown_all: list[Desktop]
) -> None:
    agent = await open_desktop("tracie")
    shutdown_all.append(agent)
    services = agent.data
    assert services is not None
    past = datetime.now(UTC) - timedelta(hours=2)
    await services.create("broadcast", broadcast_values(sender="sam", title="Old", expires_minutes=60, now=past))
    await services.create("broadcast", broadcast_values(sender="sam", title="Short", expires_minutes=1))
    await services.create("broadcast", broadcast_values(sender="sam", title="Forever", expires_minutes=0))
    await until(lambda: len(received(agent)) == 2, "the two unexpired ones")
    broadcasts = control(agent)
    assert [m.title for m in broadcasts.messages] == ["Short", "Forever"]
    later = datetime.now(UTC) + timedelta(minutes=5)
    broadcasts.clock = lambda: later
    await broadcasts.poll()
    assert [m.title for m in broadcasts.messages] == ["Forever"]
    forever = broadcasts.messages[0].id
    await agent.dispatcher.run_action("Broadcasts", "Dismiss", f"id={forever}",
                                      session=agent.sessions.global_session)
    assert broadcasts.messages == []
    await broadcasts.poll()
    assert broadcasts.messages == [] and len(received(agent)) == 2
    assert agent.sessions.global_session.store.get("Broadcasts", "count") == "0"


async def test_seen_ids_survive_a_restart(open_desktop: Callable[..., Any], shutdown_all: list[Desktop]) -> None:
    settings = MemorySettings()
    first = await open_desktop("tracie", settings=settings)
    await send(first, "title=Once only")
    await until(lambda: received(first), "the first run's event")
    await first.shutdown()
    again = await open_desktop("tracie", settings=settings)
    shutdown_all.append(again)
    await control(again).poll()
    assert [m.title for m in control(again).messages] == ["Once only"]  # listed, not announced again
    assert received(again) == []


async def test_bad_broadcasts_are_refused_with_the_field(
    open_desktop: Callable[..., Any], shutdown_all: list[Desktop]
) -> None:
    desktop = await open_desktop("sam")
    shutdown_all.append(desktop)
    for data, words in [("body=no title", "needs a title"), ("title=x\naudience=team", "audience 'team'"),
                        ("title=x\nseverity=loud", "severity 'loud'"), ("title=x\nexpires_minutes=soon", "number")]:
        assert words in await send(desktop, data)
    assert received(desktop) == []


def test_audiences_and_the_query(data_file: str) -> None:
    assert parse_audience(" All ") == "all" and parse_audience("Queue: billing") == "queue:billing"
    services = make_data_services(data_file)
    try:
        repo = services.repository
        repo.create("broadcast", broadcast_values(sender="s", title="q", audience="queue:x"))
        now = datetime.now(UTC)
        assert [m.title for m in active_broadcasts(repo, now, ["y"])] == []
        assert [m.title for m in active_broadcasts(repo, now, None)] == ["q"]
        assert [m.audience for m in active_broadcasts(repo, now, ["x"])] == ["queue:x"]
    finally:
        services.close()
