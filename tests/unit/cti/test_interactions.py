"""The interaction record written as the call goes, on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.config.schema_data import CustomField
from usd_desktop.cti.interactions import InteractionRecorder
from usd_desktop.cti.manager import CtiManager
from usd_desktop.data.errors import DataError
from usd_desktop.data.services import DataServices
from usd_desktop.data.values import to_utc
from usd_desktop.testing import make_data_services
from usd_desktop.testing.fake_adapter import FakeAdapter, FakeClock


@dataclass
class World:
    services: DataServices
    clock: FakeClock
    fake: FakeAdapter
    manager: CtiManager
    recorder: InteractionRecorder
    problems: list[str]

    async def row(self, call: str) -> dict[str, Any]:
        await self.recorder.flush()
        interaction = self.recorder.interaction_id(call)
        assert interaction is not None
        row = await self.services.get("interaction", interaction)
        assert row is not None, "the interaction row was not written"
        return row

    def at(self, seconds: float) -> datetime:
        """The time ``seconds`` after the test began."""
        return START + timedelta(seconds=seconds)


START = FakeClock().now


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}")
    clock = FakeClock(START)
    fake = FakeAdapter(clock=clock)
    manager = CtiManager(fake, agent="tracie", clock=clock, tick_seconds=0, reconnect_delays=(0.0,),
                         wrap_up_seconds=60)
    problems: list[str] = []
    manager.problem.connect(problems.append)
    await manager.start()
    recorder = InteractionRecorder(manager, services, retry_delay=0)
    yield World(services, clock, fake, manager, recorder, problems)
    await recorder.close()
    await manager.close()
    services.close()


def when(value: Any) -> Any:
    return None if value is None else to_utc(value)


async def add_contact(services: DataServices, number: str, last_name: str = "Virtanen") -> str:
    contact = await services.create("contact", {"first_name": "Maija", "last_name": last_name})
    await services.create("phone", {"contact_id": contact, "number": number})
    return contact


# ---------------------------------------------------------------------- the row as the call goes
async def test_the_row_is_there_right_after_the_offer(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567", queue="support")
    call = world.manager.calls[cid]
    assert call.interaction_id is not None  # known at once
    row = await world.row(cid)
    assert row["id"] == call.interaction_id
    assert when(row["offered_at"]) == world.at(0)
    assert row["answered_at"] is None and row["ended_at"] is None and row["wrap_up_ended_at"] is None
    assert (row["channel"], row["direction"], row["queue"], row["agent"]) == ("phone", "inbound", "support",
                                                                             "tracie")
    assert row["address"] == "+358401234567"
    assert row["subject"] == "Call from +358401234567"
    assert world.manager.calls[cid].parameters()["interactionid"] == row["id"]


async def test_offer_answer_hold_end_wrap_up_times(world: World) -> None:
    fake, manager, clock = world.fake, world.manager, world.clock
    cid = fake.offer(ani="040 1234567", queue="support")
    clock.advance(5)
    await manager.answer()
    row = await world.row(cid)
    assert when(row["answered_at"]) == world.at(5)
    clock.advance(10)
    await manager.hold()
    clock.advance(30)
    await manager.retrieve()
    row = await world.row(cid)
    assert row["hold_seconds"] == 30
    clock.advance(55)
    await manager.hangup()
    row = await world.row(cid)
    assert when(row["ended_at"]) == world.at(100)
    assert row["wrap_up_ended_at"] is None
    clock.advance(30)
    interaction = world.recorder.interaction_id(cid)
    await manager.complete_wrap_up("resolved")
    row = await world.row(cid)
    assert row["id"] == interaction
    assert when(row["offered_at"]) == world.at(0)
    assert when(row["answered_at"]) == world.at(5)
    assert when(row["ended_at"]) == world.at(100)
    assert when(row["wrap_up_ended_at"]) == world.at(130)
    assert row["hold_seconds"] == 30 and row["disposition"] == "resolved" and row["transfers"] == 0
    assert row["end_cause"] == "normal"
    assert world.services.drafts.pending("interaction:") == []  # nothing left to recover
    assert world.problems == []


async def test_a_transfer_counts(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567")
    await world.manager.answer()
    await world.manager.blind_transfer("2001")
    row = await world.row(cid)
    assert row["transfers"] == 1 and row["ended_at"] is not None and row["end_cause"] == "transferred"


async def test_a_consulted_transfer_counts_and_the_consultation_has_no_row(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567")
    await world.manager.answer()
    consultation = await world.manager.consult("2001")
    assert world.manager.calls[consultation].interaction_id is None
    await world.manager.complete_transfer()
    row = await world.row(cid)
    assert row["transfers"] == 1
    assert world.recorder.interaction_id(consultation) is None


async def test_an_outbound_call(world: World) -> None:
    cid = await world.manager.dial("tel:+358 40 123 4567")
    row = await world.row(cid)
    assert (row["direction"], row["subject"], row["address"]) == ("outbound", "Call to +358401234567",
                                                                  "+358401234567")


async def test_a_chat_and_a_number_that_is_no_phone_number(world: World) -> None:
    cid = world.fake.offer(ani="web-visitor-17", activity="chat")
    row = await world.row(cid)
    assert (row["channel"], row["subject"], row["address"]) == ("chat", "Chat from web-visitor-17",
                                                                "web-visitor-17")


async def test_a_missed_call_has_its_end_and_no_answer(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567")
    world.clock.advance(12)
    world.fake.miss(cid)
    row = await world.row(cid)
    assert row["answered_at"] is None and when(row["ended_at"]) == world.at(12)
    assert row["wrap_up_ended_at"] is None and row["end_cause"] == "abandoned"  # the caller gave up
    assert world.services.drafts.pending("interaction:") == []


async def test_the_end_cause_tells_a_missed_call_from_an_abandoned_one(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567")
    row = await world.row(cid)
    assert row["end_cause"] is None  # still ringing
    world.fake.miss(cid, abandoned=False)  # offered to the agent, not answered, the caller still there
    row = await world.row(cid)
    assert row["answered_at"] is None and row["end_cause"] == "missed"


# ---------------------------------------------------------------------- the customer
async def test_the_only_customer_with_the_number_is_linked(world: World) -> None:
    contact = await add_contact(world.services, "+358 40 1234567")
    cid = world.fake.offer(ani="040 1234567")
    row = await world.row(cid)
    assert row["contact_id"] == contact


async def test_several_customers_with_the_number_are_left_to_the_agent(world: World) -> None:
    await add_contact(world.services, "+358 40 1234567", "Virtanen")
    other = await add_contact(world.services, "+358 40 1234567", "Korhonen")
    cid = world.fake.offer(ani="040 1234567")
    row = await world.row(cid)
    assert row["contact_id"] is None
    case = await world.services.create("case", {"title": "Broken phone", "contact_id": other})
    world.recorder.link(cid, contact_id=other, case_id=case)
    row = await world.row(cid)
    assert (row["contact_id"], row["case_id"]) == (other, case)


async def test_a_customer_linked_by_the_agent_is_not_replaced_by_the_lookup(world: World) -> None:
    await add_contact(world.services, "+358 40 1234567")
    chosen = await world.services.create("contact", {"last_name": "Chosen"})
    cid = world.fake.offer(ani="040 1234567")
    world.recorder.link(cid, contact_id=chosen)
    row = await world.row(cid)
    assert row["contact_id"] == chosen


async def test_linking_after_the_call_is_gone(world: World) -> None:
    contact = await world.services.create("contact", {"last_name": "Later"})
    cid = world.fake.offer(ani="040 1234567")
    world.fake.miss(cid)
    await world.recorder.flush()
    world.recorder.link(cid, contact_id=contact)
    row = await world.row(cid)
    assert row["contact_id"] == contact
    with pytest.raises(Exception, match="no call 'nope'"):
        world.recorder.link("nope", contact_id=contact)


# ---------------------------------------------------------------------- failures and recovery
async def test_a_failing_write_is_reported_and_tried_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real = world.services.create
    failures = [DataError("database is locked")]

    async def flaky(entity: str, values: Any, **kwargs: Any) -> str:
        if entity == "interaction" and failures:
            raise failures.pop()
        return await real(entity, values, **kwargs)

    monkeypatch.setattr(world.services, "create", flaky)
    cid = world.fake.offer(ani="040 1234567")
    row = await world.row(cid)
    assert when(row["offered_at"]) == world.at(0)
    assert len(world.problems) == 1
    assert "could not be saved (create): database is locked; trying again" in world.problems[0]


async def test_a_write_failing_twice_waits_for_the_next_change(world: World,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real = world.services.create
    failing = [True]

    async def down(entity: str, values: Any, **kwargs: Any) -> str:
        if entity == "interaction" and failing:
            raise DataError("the database is away")
        return await real(entity, values, **kwargs)

    monkeypatch.setattr(world.services, "create", down)
    cid = world.fake.offer(ani="040 1234567")
    await world.recorder.flush()
    assert len(world.problems) == 2 and "kept and written with the next change" in world.problems[1]
    assert await world.services.get("interaction", world.recorder.interaction_id(cid) or "") is None
    assert len(world.services.drafts.pending("interaction:")) == 1  # safe meanwhile
    failing.clear()
    world.clock.advance(3)
    await world.manager.answer()
    row = await world.row(cid)
    assert when(row["offered_at"]) == world.at(0) and when(row["answered_at"]) == world.at(3)


async def test_recover_writes_what_a_previous_run_left(world: World) -> None:
    world.services.drafts.put("interaction:left-1", {
        "id": "left-1",
        "call": "old-call",
        "created": False,
        "values": {"channel": "phone", "direction": "inbound", "subject": "Call from +358401234567",
                   "offered_at": world.at(-600).isoformat(), "answered_at": world.at(-590).isoformat(),
                   "hold_seconds": 12},
    })
    assert await world.recorder.recover() == 1
    row = await world.services.get("interaction", "left-1")
    assert row is not None
    assert when(row["answered_at"]) == world.at(-590) and row["hold_seconds"] == 12
    assert world.services.drafts.pending("interaction:") == []


async def test_recover_updates_a_row_that_was_created(world: World) -> None:
    await world.services.create("interaction", {"id": "left-2", "channel": "phone"})
    world.services.drafts.put("interaction:left-2", {
        "id": "left-2", "created": True, "values": {"channel": "phone", "ended_at": world.at(5).isoformat()},
    })
    assert await world.recorder.recover() == 1
    row = await world.services.get("interaction", "left-2")
    assert row is not None and when(row["ended_at"]) == world.at(5)


# ---------------------------------------------------------------------- order and custom fields
async def test_a_burst_of_events_ends_with_the_latest_values(world: World) -> None:
    cid = world.fake.offer(ani="040 1234567")
    world.fake.answer_remote(cid)
    for _ in range(5):
        world.clock.advance(2)
        world.fake.hold_remote(cid)
        world.clock.advance(3)
        world.fake.retrieve_remote(cid)
    world.fake.transfer_remote(cid, "2001")
    row = await world.row(cid)
    assert row["hold_seconds"] == 15 and row["transfers"] == 1 and row["ended_at"] is not None


async def test_attached_data_of_configured_custom_fields_is_written(world: World) -> None:
    repo: Any = world.services.repository
    problems = repo.configure([CustomField(entity="interaction", name="ivr_choice"),
                               CustomField(entity="interaction", name="ivr_score", type="integer")], [])
    assert problems == []
    cid = world.fake.offer(ani="040 1234567", data={"ivr_choice": "billing", "ivr_score": "not a number",
                                                    "other": "x"})
    row = await world.row(cid)
    assert row["ivr_choice"] == "billing"
    assert row.get("ivr_score") is None and "other" not in row
    world.fake.attach(cid, {"ivr_score": "4"})
    row = await world.row(cid)
    assert row["ivr_score"] == 4
