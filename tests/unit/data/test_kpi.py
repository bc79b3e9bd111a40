"""Every KPI on small hand-built interaction sets with known answers, edge cases included: no calls,
all abandoned, short abandons, calls crossing midnight, transfers, repeat contacts across channels
within and outside the FCR window, surveys, agent states. On SQLite here; the same tests run on
PostgreSQL in tests/integration/data/test_kpi_pg.py (the ``db`` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.data import kpi
from usd_desktop.data import models_work as work
from usd_desktop.data.errors import DataError
from usd_desktop.data.models import Account, Contact
from usd_desktop.data.repository import SqlRepository

#: A Monday morning (UTC).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86400.0


class World:
    """A data database to put hand-built records in; times are seconds after :data:`T0`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(table), rows)

    def customer(self, name: str = "Virtanen", *, account: bool = False) -> str:
        key = str(uuid.uuid4())
        if account:
            self._insert(Account.__table__, [{"id": key, "name": name, "created_at": T0}])
        else:
            self._insert(Contact.__table__, [{"id": key, "last_name": name, "full_name": name, "created_at": T0}])
        return key

    def calls(self, *rows: dict[str, Any]) -> list[str]:
        self._insert(work.Interaction.__table__, list(rows))
        return [row["id"] for row in rows]

    def survey(self, interaction: str | None, score: int | None, *, kind: str = "scale", scale_max: int = 5,
               channel: str | None = None, sent: float = 0.0) -> None:
        row = {
            "id": str(uuid.uuid4()), "interaction_id": interaction, "channel": channel, "kind": kind,
            "scale_max": scale_max, "score": score, "sent_at": at(sent),
            "answered_at": None if score is None else at(sent + 3600),
        }
        self._insert(work.SurveyResponse.__table__, [row])

    def state(self, agent: str, state: str, start: float, seconds: float | None) -> None:
        row = {
            "id": str(uuid.uuid4()), "agent": agent, "state": state, "started_at": at(start),
            "ended_at": None if seconds is None else at(start + seconds),
        }
        self._insert(work.AgentStatePeriod.__table__, [row])


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    start: float = 0.0,
    *,
    wait: float | None = 10.0,
    talk: float = 60.0,
    hold: int = 0,
    acw: float | None = 0.0,
    ring: float = 10.0,
    direction: str = "inbound",
    channel: str = "phone",
    queue: str | None = "general",
    agent: str | None = "ann",
    cause: str | None = "",
    contact: str | None = None,
    account: str | None = None,
    transfers: int = 0,
    disposition: str | None = None,
    fcr: bool = False,
    ended: bool = True,
) -> dict[str, Any]:
    """An interaction offered ``start`` seconds after T0: answered ``wait`` seconds later (``None``:
    never; it ended ``ring`` seconds after the offer), connected ``talk`` seconds (hold included),
    wrapped up ``acw`` seconds after the end (``None``: no wrap-up time recorded)."""
    answered = None if wait is None else start + wait
    end = (start + ring if answered is None else answered + talk) if ended else None
    if cause == "":
        cause = None if not ended else "normal" if answered is not None else "abandoned"
    return {
        "id": str(uuid.uuid4()), "channel": channel, "direction": direction, "queue": queue, "agent": agent,
        "contact_id": contact, "account_id": account,
        "offered_at": at(start), "answered_at": None if answered is None else at(answered),
        "ended_at": None if end is None else at(end),
        "wrap_up_ended_at": None if acw is None or end is None or answered is None else at(end + acw),
        "hold_seconds": hold, "disposition": disposition, "first_contact_resolution": fcr,
        "transfers": transfers, "end_cause": cause,
    }


@pytest.fixture
def db(tmp_path: Path) -> Iterator[World]:
    with SqlRepository(f"sqlite:///{tmp_path / 'kpi.db'}") as repo:
        yield World(repo.engine)


def totals(world: World, period: tuple[float, float] | None = None, **options: Any) -> kpi.KpiRow:
    span = None if period is None else (at(period[0]), at(period[1]))
    return kpi.totals(world.engine, span, **options)


def by(world: World, group_by: str | tuple[str, ...], **options: Any) -> dict[Any, kpi.KpiRow]:
    rows = kpi.compute(world.engine, None, group_by, **options)
    names = (group_by,) if isinstance(group_by, str) else group_by
    return {row.key[names[0]] if len(names) == 1 else tuple(row.key.values()): row for row in rows}


def approx(expected: float) -> Any:
    """Times are given to the millisecond."""
    return pytest.approx(expected, abs=0.001)


# ---------------------------------------------------------------------- nothing to count
def test_no_calls_gives_no_kpis_not_zeros(db: World) -> None:
    row = totals(db, (0, DAY))
    assert row.interactions == row.offered == row.handled == row.abandoned == row.missed == 0
    for name in ("aht", "acw", "avg_talk", "avg_hold", "asa", "service_level", "service_level_met",
                 "abandonment_rate", "fcr", "csat", "csat_scale", "csat_yes_no", "occupancy",
                 "transfer_rate", "calls_per_agent"):
        assert getattr(row, name) is None, name
    assert kpi.compute(db.engine, (at(0), at(DAY)), "agent") == []


# ---------------------------------------------------------------------- handle times, speed of answer
def test_handle_time_wrap_up_talk_hold_and_speed_of_answer(db: World) -> None:
    db.calls(
        call(0, wait=10, talk=300, hold=60, acw=30),  # talk 240, hold 60, ACW 30: handle 330
        call(100, wait=30, talk=200, acw=None),  # no wrap-up recorded: ACW 0, handle 200
        call(200, wait=5, talk=100, hold=20, acw=60, direction="outbound"),  # handle 160, no ASA
    )
    row = totals(db)
    assert (row.inbound, row.outbound, row.offered, row.answered, row.handled) == (2, 1, 2, 2, 3)
    assert row.aht == approx((330 + 200 + 160) / 3)
    assert row.acw == approx(30)
    assert row.avg_talk == approx((240 + 200 + 80) / 3)
    assert row.avg_hold == approx(80 / 3)
    assert row.asa == approx(20)  # inbound only: (10 + 30) / 2
    assert row.service_level == approx(50) and row.service_level_met is False
    assert row.abandonment_rate == 0 and row.missed == 0


def test_a_call_still_going_is_answered_but_not_handled(db: World) -> None:
    db.calls(call(0, wait=15, ended=False), call(10, wait=None, ended=False), call(20, wait=5, talk=100))
    row = totals(db)
    assert (row.interactions, row.answered, row.handled, row.offered, row.abandoned) == (3, 2, 1, 2, 0)
    assert row.asa == approx(10) and row.aht == approx(100)


# ---------------------------------------------------------------------- service level, abandons, missed
def test_service_level_abandonment_and_short_abandons(db: World) -> None:
    db.calls(
        *(call(i * 100, wait=w) for i, w in enumerate((5, 20, 21, 60))),  # 20 s exactly is within 20 s
        *(call(1000 + i * 100, wait=None, ring=r) for i, r in enumerate((3, 4.9, 5, 30, 100))),
        call(2000, wait=None, ring=20, cause="missed"),
        call(2100, wait=None, ring=20, cause="rejected"),
    )
    row = totals(db)
    assert (row.offered, row.answered, row.abandoned, row.short_abandoned, row.missed) == (9, 4, 5, 2, 2)
    assert row.answered_in_threshold == 2
    assert row.service_level == approx(100 * 2 / 7)  # answered within 20 s / (offered - short abandons)
    assert row.abandonment_rate == approx(100 * 3 / 7)  # (abandoned - short) / (offered - short)
    assert row.asa == approx((5 + 20 + 21 + 60) / 4)
    assert totals(db, service_level=(25, 20)).service_level_met is True
    none_short = totals(db, short_abandon_seconds=0)
    assert none_short.service_level == approx(100 * 2 / 9) and none_short.abandonment_rate == approx(100 * 5 / 9)
    assert totals(db, service_level=(80, 60)).service_level == approx(100 * 4 / 7)


def test_all_abandoned(db: World) -> None:
    db.calls(call(0, wait=None, ring=10), call(50, wait=None, ring=20), call(90, wait=None, ring=2))
    row = totals(db)
    assert (row.offered, row.answered, row.handled, row.abandoned, row.short_abandoned) == (3, 0, 0, 3, 1)
    assert row.service_level == 0 and row.abandonment_rate == 100
    for name in ("aht", "acw", "avg_talk", "avg_hold", "asa", "fcr", "transfer_rate", "calls_per_agent"):
        assert getattr(row, name) is None, name


def test_only_short_abandons_leave_service_level_undefined(db: World) -> None:
    db.calls(call(0, wait=None, ring=1), call(10, wait=None, ring=3))
    row = totals(db)
    assert (row.offered, row.short_abandoned) == (2, 2)
    assert row.service_level is None and row.abandonment_rate is None


def test_how_an_unanswered_call_ended_decides_what_it_counts_as(db: World) -> None:
    db.calls(
        call(0, wait=None, cause=None),  # an older record without a cause: abandoned
        call(10, wait=None, cause="normal"),  # ended while ringing: the caller hung up
        call(20, wait=None, cause="missed"),
        call(30, wait=None, cause="busy"),  # neither offered nor missed
        call(40, wait=None, cause="lost"),
        call(50, wait=None, cause="abandoned", direction="outbound"),  # no answer to our call
    )
    row = totals(db)
    assert (row.interactions, row.inbound, row.outbound) == (6, 5, 1)
    assert (row.offered, row.abandoned, row.missed, row.answered) == (2, 2, 1, 0)


# ---------------------------------------------------------------------- midnight, periods, buckets
def test_a_call_crossing_midnight_belongs_to_the_day_of_its_offer(db: World) -> None:
    late = (datetime(2026, 3, 2, 23, 59, 50, tzinfo=UTC) - T0).total_seconds()
    db.calls(call(late, wait=20, talk=300, acw=60), call(late + 600, wait=5, talk=60))  # 2nd: 00:09:50
    days = by(db, "day")
    monday, tuesday = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
    assert list(days) == [monday, tuesday]
    assert days[monday].handled == 1 and days[monday].aht == approx(360) and days[monday].asa == approx(20)
    assert days[tuesday].handled == 1 and days[tuesday].aht == approx(60)
    assert totals(db, (0, late)).interactions == 0  # the period ends before the offer: not counted
    assert totals(db, (late, late + 1)).handled == 1  # ended after the period: counted
    hours = by(db, "hour")
    assert list(hours) == [datetime(2026, 3, 2, 23, tzinfo=UTC), datetime(2026, 3, 3, 0, tzinfo=UTC)]
    # two hours east of UTC both were offered on Tuesday
    local = by(db, "day", utc_offset_minutes=120)
    zone = timezone(timedelta(hours=2))
    assert list(local) == [datetime(2026, 3, 3, tzinfo=zone)] and local[datetime(2026, 3, 3, tzinfo=zone)].handled == 2


def test_weeks_start_on_monday_and_months_on_the_first(db: World) -> None:
    db.calls(call(0), call(6 * DAY), call(7 * DAY), call(30 * DAY))  # Mon 2, Sun 8, Mon 9 March, Wed 1 April
    weeks = by(db, "week")
    assert {k.date().isoformat(): r.interactions for k, r in weeks.items()} == {
        "2026-03-02": 2, "2026-03-09": 1, "2026-03-30": 1,
    }
    months = by(db, "month")
    assert {k.date().isoformat(): r.interactions for k, r in months.items()} == {"2026-03-01": 3, "2026-04-01": 1}


# ---------------------------------------------------------------------- transfers
def test_transfers(db: World) -> None:
    db.calls(
        call(0, transfers=1, cause="transferred"),  # blind transfer: the leg ends by it
        call(100, transfers=2),  # transferred twice on the way, ended here
        call(200),
        call(300, wait=None),  # abandoned: not handled
    )
    row = totals(db)
    assert (row.handled, row.transferred, row.transfers) == (3, 2, 3)
    assert row.transfer_rate == approx(100 * 2 / 3)
    assert row.fcr_contacts == 2  # the leg transferred on is judged where the contact ends


def test_a_transferred_leg_is_no_repeat_of_the_contact_it_became(db: World) -> None:
    customer = db.customer()
    db.calls(
        call(0, talk=60, contact=customer, agent="ann", transfers=1, cause="transferred"),
        call(75, talk=120, contact=customer, agent="bob", fcr=True),  # the same contact, at Bob's
    )
    row = totals(db)
    assert (row.fcr_contacts, row.fcr_resolved, row.fcr) == (1, 1, 100)
    assert by(db, "agent")["bob"].fcr == 100 and by(db, "agent")["ann"].fcr is None


# ---------------------------------------------------------------------- first-contact resolution
def test_first_contact_resolution_with_repeats_across_channels(db: World) -> None:
    x, y, z = db.customer("X"), db.customer("Y"), db.customer("Z")
    db.calls(
        call(0, contact=x, fcr=True, agent="ann"),  # marked resolved, but X e-mails 3 days later
        call(3 * DAY, contact=x, channel="email", fcr=True, agent="bob"),  # a repeat: no first contact
        call(10, contact=y, channel="chat", disposition="resolved", agent="cy"),  # by its disposition
        call(8 * DAY, contact=y, fcr=True, agent="cy"),  # 8 days later: outside the window, a new first
        call(20, contact=z, agent="cy"),  # not marked: not resolved
        call(30, fcr=True, agent="cy"),  # nobody known: judged by its mark
    )
    row = totals(db)
    assert (row.fcr_contacts, row.fcr_resolved) == (5, 3)
    assert row.fcr == approx(60)
    two_days = totals(db, fcr_window_days=2)  # the e-mail is no repeat any more
    assert (two_days.fcr_contacts, two_days.fcr_resolved) == (6, 5)
    first_day = totals(db, (0, DAY))  # a repeat after the period still counts
    assert (first_day.fcr_contacts, first_day.fcr_resolved) == (4, 2)
    ann = kpi.totals(db.engine, None, filters={"agent": "ann"})  # and one handled by another agent
    assert (ann.fcr_contacts, ann.fcr_resolved) == (1, 0)
    other = totals(db, resolved_dispositions=())  # Y's chat no longer counts as resolved
    assert other.fcr_resolved == 2


def test_only_handled_inbound_contacts_are_repeats(db: World) -> None:
    w, company = db.customer("W"), db.customer("Company Oy", account=True)
    db.calls(
        call(0, contact=w, fcr=True),
        call(DAY, contact=w, direction="outbound"),  # our call back: no repeat
        call(2 * DAY, contact=w, wait=None),  # an abandoned try: no repeat
        call(3 * DAY, contact=w, wait=None, cause="missed"),
        call(100, account=company, fcr=True),  # a customer known by the account only
        call(2 * DAY, account=company, channel="email", fcr=True),
    )
    row = totals(db)
    assert (row.fcr_contacts, row.fcr_resolved) == (2, 1)  # the account's first contact had a repeat


def test_a_repeat_exactly_at_the_end_of_the_window_counts(db: World) -> None:
    v = db.customer("V")
    db.calls(call(0, contact=v, fcr=True), call(7 * DAY, contact=v, fcr=True))
    assert (totals(db).fcr_contacts, totals(db).fcr_resolved) == (1, 0)
    assert totals(db, fcr_window_days=6.99).fcr_resolved == 2


# ---------------------------------------------------------------------- CSAT
def test_csat_from_scale_and_yes_no_answers(db: World) -> None:
    ann = db.calls(*(call(i * 10, agent="ann") for i in range(5)))
    bob = db.calls(*(call(100 + i * 10, agent="bob", channel="chat") for i in range(4)))
    for interaction, score in zip(ann, (5, 4, 3, 1), strict=False):
        db.survey(interaction, score)  # top-two box: 4 and 5 of 5
    db.survey(ann[4], None)  # sent, not answered
    db.survey(bob[0], 9, scale_max=10)  # 9 and 10 of 10
    db.survey(bob[1], 8, scale_max=10)
    db.survey(bob[2], 1, kind="yes_no")
    db.survey(bob[3], 0, kind="yes_no")
    db.survey(None, 1, kind="yes_no", channel="email", sent=500)  # about a case, no interaction
    row = totals(db)
    assert row.survey_answers == 9
    assert row.csat_scale == approx(100 * 3 / 6)
    assert row.csat_yes_no == approx(100 * 2 / 3)
    assert row.csat == approx(100 * 5 / 9)
    agents = by(db, "agent")
    assert agents["ann"].csat == 50 and agents["bob"].csat == 50 and agents[None].csat == 100
    channels = by(db, "channel")
    assert channels["email"].survey_answers == 1 and channels["chat"].survey_answers == 4
    assert totals(db, (1000, 2000)).csat is None


# ---------------------------------------------------------------------- occupancy
def test_occupancy_from_the_agent_states(db: World) -> None:
    db.calls(call(0, agent="ann"), call(10, agent="bob"))
    db.state("ann", "available", 0, 600)
    db.state("ann", "on_call", 600, 300)  # talk and hold
    db.state("ann", "wrap_up", 900, 100)
    db.state("ann", "not_ready", 1000, 1000)  # neither busy nor available
    db.state("ann", "offline", 2000, 5000)
    db.state("ann", "available", 7000, None)  # still going: not counted
    db.state("ann", "available", -100, 50)  # started before the period
    db.state("bob", "not_ready", 0, 3600)
    agents = {row.key["agent"]: row for row in kpi.compute(db.engine, (at(0), at(DAY)), "agent")}
    assert agents["ann"].occupancy == approx(40) and agents["ann"].busy_seconds == approx(400)
    assert agents["ann"].available_seconds == approx(600)
    assert agents["bob"].occupancy is None
    assert totals(db, (0, DAY)).occupancy == approx(40)
    assert all(row.occupancy is None for row in by(db, "queue").values())  # a state has no queue
    assert kpi.totals(db.engine, None, filters={"channel": "phone"}).occupancy is None


# ---------------------------------------------------------------------- groups, counts, filters
def test_counts_and_calls_per_agent_per_agent_queue_and_channel(db: World) -> None:
    db.calls(
        call(0, agent="ann", queue="billing"),
        call(10, agent="ann", queue="billing", channel="chat"),
        call(20, agent="ann", queue="support", direction="outbound"),
        call(30, agent="bob", queue="billing"),
        call(40, agent=None, queue="billing", wait=None),  # abandoned in the queue
    )
    agents = by(db, "agent")
    assert list(agents) == [None, "ann", "bob"]  # sorted, no agent first
    assert (agents["ann"].handled, agents["ann"].inbound, agents["ann"].outbound) == (3, 2, 1)
    assert agents["ann"].calls_per_agent == 3 and agents[None].calls_per_agent is None
    queues = by(db, "queue")
    assert queues["billing"].calls_per_agent == approx(3 / 2) and queues["billing"].abandoned == 1
    assert queues["billing"].agents == 2
    channels = by(db, "channel")
    assert (channels["phone"].interactions, channels["chat"].interactions) == (4, 1)
    both = by(db, ("agent", "queue"))
    assert both[("ann", "support")].outbound == 1 and both[("ann", "billing")].handled == 2
    assert totals(db).calls_per_agent == approx(4 / 2)
    billing = kpi.totals(db.engine, None, filters={"queue": "billing", "agent": ["ann", "bob"]})
    assert billing.handled == 3 and billing.abandoned == 0
    assert by(db, ("direction", "day"))[("outbound", datetime(2026, 3, 2, tzinfo=UTC))].outbound == 1


def test_a_wrong_grouping_filter_or_period_is_refused(db: World) -> None:
    with pytest.raises(DataError, match="'colour'"):
        kpi.compute(db.engine, None, "colour")
    with pytest.raises(DataError, match="twice"):
        kpi.compute(db.engine, None, ("agent", "agent"))
    with pytest.raises(DataError, match="'case_id'"):
        kpi.compute(db.engine, None, (), {"case_id": "x"})
    with pytest.raises(DataError, match="before it starts"):
        kpi.compute(db.engine, (at(10), at(0)))


def test_an_engine_a_connection_or_a_repository_will_do(db: World) -> None:
    db.calls(call(0))
    with db.engine.connect() as conn:
        assert kpi.totals(conn).handled == 1
    assert kpi.totals(SimpleNamespace(engine=db.engine)).handled == 1  # what has an engine: a repository
    assert kpi.totals(db.engine, (T0.replace(tzinfo=None), None)).handled == 1  # naive: UTC


def test_sqlite_reads_a_long_period_by_a_scan_and_a_short_one_through_the_index(db: World) -> None:
    db.calls(*(call(i * DAY) for i in range(100)))
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL plans with its own statistics
    with db.engine.connect() as conn:
        def plan(start: float, end: float) -> str:
            query = kpi.statement(conn, (at(start), at(end)), "agent")
            compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
            return " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))

        assert "ix_interactions_offered_at" in plan(50 * DAY, 51 * DAY)
        assert "ix_interactions_offered_at" not in plan(0, 100 * DAY)
