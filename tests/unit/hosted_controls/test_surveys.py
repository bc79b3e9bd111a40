"""SendSurvey and RecordSurveyAnswer: the Global Manager's survey actions, Qt-free, on SQLite, and CSAT over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.core.trace import Outcome
from usd_desktop.cti.registry import AdapterRegistry
from usd_desktop.data import kpi
from usd_desktop.data.services import DataServices
from usd_desktop.data.surveys import survey_score
from usd_desktop.data.values import to_utc
from usd_desktop.hosted_controls.catalog import CTI_DESKTOP_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_data_services, make_desktop, until
from usd_desktop.testing.fake_adapter import FakeAdapter

CONFIG = r"""
name: surveys
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
action_calls:
  - name: Ask after the call
    control: Global Manager
    action: SendSurvey
    data: |
      kind=yes_no
      question=Did we solve your problem today?
      interaction_id=[[$Context.interaction]]
  - name: Ask about the case
    control: Global Manager
    action: SendSurvey
    data: |
      case_id=[[$Context.case]]
      channel=email
  - name: Answer
    control: Global Manager
    action: RecordSurveyAnswer
    data: |
      id=[[$Context.survey]]
      score=[[$Context.score]]
      comment=[[$Context.comment]+]
"""

OFFERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[DataServices]:
    made = make_data_services(f"sqlite:///{tmp_path / 'd.db'}")
    yield made
    made.close()


@pytest.fixture
async def desktop(services: DataServices) -> AsyncIterator[Desktop]:
    made = make_desktop(CONFIG, data=services)
    await made.start()
    yield made
    await made.shutdown()


async def run(desktop: Desktop, name: str, **context: str) -> Any:
    if context:
        desktop.sessions.global_session.store.update("$Context", context)
    return await desktop.dispatcher.run_action_call(name, session=desktop.sessions.global_session)


async def act(desktop: Desktop, action: str, data: str) -> Any:
    return await desktop.dispatcher.run_action("Global Manager", action, data,
                                               session=desktop.sessions.global_session)


async def a_call(services: DataServices, *, agent: str = "tracie", channel: str = "phone") -> tuple[str, str, str]:
    """An answered call of a contact about a case: (interaction, case, contact)."""
    contact = await services.create("contact", {"first_name": "Maija", "last_name": "Virtanen"})
    case = await services.create("case", {"title": "Router keeps rebooting", "contact_id": contact})
    interaction = await services.create("interaction", {
        "channel": channel, "direction": "inbound", "agent": agent, "queue": "support",
        "contact_id": contact, "case_id": case, "offered_at": OFFERED,
        "answered_at": OFFERED + timedelta(seconds=10), "ended_at": OFFERED + timedelta(seconds=200),
    })
    return interaction, case, contact


# ---------------------------------------------------------------------- sending
async def test_a_survey_after_the_call_takes_what_it_is_about_from_the_interaction(
        desktop: Desktop, services: DataServices) -> None:
    interaction, case, contact = await a_call(services)
    before = datetime.now(UTC)
    sent = await run(desktop, "Ask after the call", interaction=interaction)
    assert sent.outcome is Outcome.RAN, sent.reason
    row = await services.get("survey_response", str(sent.result))
    assert row is not None
    assert (row["kind"], row["scale_max"], row["interaction_id"], row["case_id"], row["contact_id"],
            row["channel"]) == ("yes_no", 1, interaction, case, contact, "phone")
    assert before <= to_utc(row["sent_at"]) <= datetime.now(UTC)
    assert row["score"] is None and row["answered_at"] is None
    assert row["question"] == "Did we solve your problem today?"


async def test_a_survey_about_a_case_has_the_case_customer_and_its_own_channel(
        desktop: Desktop, services: DataServices) -> None:
    _interaction, case, contact = await a_call(services)
    sent = await run(desktop, "Ask about the case", case=case)
    assert sent.outcome is Outcome.RAN, sent.reason
    row = await services.get("survey_response", str(sent.result))
    assert row is not None
    assert (row["kind"], row["scale_max"], row["interaction_id"], row["case_id"], row["contact_id"],
            row["channel"]) == ("scale", 5, None, case, contact, "email")


async def test_sending_a_wrong_survey_fails_with_a_clear_message(desktop: Desktop, services: DataServices) -> None:
    interaction, _case, _contact = await a_call(services)
    about = f"interaction_id={interaction}"
    for data, expected in [
        ("kind=stars\n" + about, "kind='stars': choose scale or yes_no"),
        ("scale_max=1\n" + about, "scale_max='1'"),
        ("scale_max=ten\n" + about, "from 2 to 100"),
        ("kind=yes_no\nscale_max=5\n" + about, "scale_max is for kind=scale"),
        ("kind=scale", "needs interaction_id=<interaction> or case_id=<case>"),
        ("interaction_id=nope", "interaction_id=nope: there is no such interaction"),
        ("case_id=nope", "case_id=nope: there is no such case"),
        ("channel=pigeon\n" + about, "channel='pigeon'"),
        ("score=5\n" + about, "RecordSurveyAnswer records the answer"),
        ("colour=blue\n" + about, "has no field 'colour'"),
    ]:
        outcome = await act(desktop, "SendSurvey", data)
        assert outcome.outcome is Outcome.FAILED, data
        assert expected in outcome.reason, (data, outcome.reason)


async def test_a_scale_of_ten(desktop: Desktop, services: DataServices) -> None:
    interaction, _case, _contact = await a_call(services)
    sent = await act(desktop, "SendSurvey", f"kind=scale\nscale_max=10\ninteraction_id={interaction}")
    assert sent.outcome is Outcome.RAN, sent.reason
    answer = await act(desktop, "RecordSurveyAnswer", f"id={sent.result}\nscore=9")
    assert answer.outcome is Outcome.RAN, answer.reason
    row = await services.get("survey_response", str(sent.result))
    assert row is not None and row["score"] == 9 and row["scale_max"] == 10


# ---------------------------------------------------------------------- answering
async def test_an_answer_sets_the_score_the_comment_and_when(desktop: Desktop, services: DataServices) -> None:
    interaction, _case, _contact = await a_call(services)
    sent = await run(desktop, "Ask after the call", interaction=interaction)
    before = datetime.now(UTC)
    answer = await run(desktop, "Answer", survey=str(sent.result), score="yes", comment="Quick and friendly.")
    assert answer.outcome is Outcome.RAN, answer.reason
    assert answer.result == sent.result
    row = await services.get("survey_response", str(sent.result))
    assert row is not None and row["score"] == 1 and row["comment"] == "Quick and friendly."
    assert before <= to_utc(row["answered_at"]) <= datetime.now(UTC)


async def test_an_answer_that_does_not_fit_the_survey_is_refused(desktop: Desktop, services: DataServices) -> None:
    interaction, case, _contact = await a_call(services)
    yes_no = (await run(desktop, "Ask after the call", interaction=interaction)).result
    scale = (await run(desktop, "Ask about the case", case=case)).result
    for survey, score, expected in [
        (yes_no, "maybe", "a yes/no survey takes yes (1) or no (0)"),
        (yes_no, "2", "a yes/no survey takes yes (1) or no (0)"),
        (scale, "6", "takes a whole number from 1 to 5"),
        (scale, "0", "takes a whole number from 1 to 5"),
        (scale, "4.5", "takes a whole number from 1 to 5"),
        ("nope", "3", "there is no survey 'nope'"),
    ]:
        outcome = await act(desktop, "RecordSurveyAnswer", f"id={survey}\nscore={score}")
        assert outcome.outcome is Outcome.FAILED and expected in outcome.reason, (score, outcome.reason)
    missing = await act(desktop, "RecordSurveyAnswer", f"id={scale}")
    assert missing.outcome is Outcome.FAILED and "needs id=<survey> and score=" in missing.reason
    row = await services.get("survey_response", str(scale))
    assert row is not None and row["score"] is None and row["answered_at"] is None


def test_survey_score() -> None:
    assert [survey_score("yes_no", 1, v) for v in ("Yes", "no", "1", "0", "TRUE", 0)] == [1, 0, 1, 0, 1, 0]
    assert [survey_score("scale", 5, v) for v in ("1", " 5 ", 3)] == [1, 5, 3]
    for kind, raw in [("scale", "6"), ("scale", ""), ("yes_no", "y e s")]:
        with pytest.raises(ValueError):
            survey_score(kind, 5, raw)


async def test_answers_feed_csat(desktop: Desktop, services: DataServices) -> None:
    first, _case, _contact = await a_call(services)
    second, case, _contact = await a_call(services)
    for interaction, score in ((first, "yes"), (second, "no")):
        sent = await run(desktop, "Ask after the call", interaction=interaction)
        await run(desktop, "Answer", survey=str(sent.result), score=score)
    await run(desktop, "Ask after the call", interaction=first)  # sent, never answered: not counted
    about_case = await run(desktop, "Ask about the case", case=case)
    await run(desktop, "Answer", survey=str(about_case.result), score="4")
    repo: Any = services.repository
    row = kpi.totals(repo)
    assert row.survey_answers == 3
    assert row.csat_yes_no == 50.0 and row.csat_scale == 100.0
    assert row.csat == pytest.approx(2 / 3 * 100)


# ---------------------------------------------------------------------- on a desktop with calls
CTI_CONFIG = """
name: surveys after calls
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: CTI, type: CtiDesktopManager, settings: {adapter: fake, wrap_up_seconds: 30}}
action_calls:
  - name: Send a survey after the call
    control: Global Manager
    action: SendSurvey
    data: |
      kind=yes_no
      question=Did we solve your problem today?
      interaction_id=[[cti.interactionid]]
events:
  - {control: CTI, name: WrapUpCompleted, action_calls: [Send a survey after the call]}
"""


async def test_the_wrap_up_of_a_call_sends_a_survey_and_the_agent_states_are_written(
        services: DataServices, monkeypatch: pytest.MonkeyPatch) -> None:
    adapters = AdapterRegistry()
    adapters.register(FakeAdapter)
    monkeypatch.setattr(AdapterRegistry, "discover", classmethod(lambda cls, group="": adapters))
    desktop = make_desktop(CTI_CONFIG, registry=Registry([GLOBAL_MANAGER, CTI_DESKTOP_MANAGER]), data=services,
                           user={"username": "tracie", "firstname": "Tracie"})
    await desktop.start()
    try:
        control = desktop.instance("CTI")
        assert isinstance(control, CtiDesktopManager) and control.manager is not None
        manager = control.manager
        went = await desktop.dispatcher.run_action("CTI", "SetAgentState", "state=available")
        assert went.outcome is Outcome.RAN, went.reason
        adapter = manager.adapter
        assert isinstance(adapter, FakeAdapter)
        cid = adapter.offer(ani="040 1234567")
        await manager.answer(cid)
        await manager.hangup(cid)
        await manager.complete_wrap_up("Resolved", cid)
        await control.recorder.flush()
        interaction = control.recorder.interaction_id(cid)
        table: Any = services.entities["survey_response"].table
        repo: Any = services.repository

        def surveys() -> list[Any]:
            with repo.engine.connect() as conn:
                return list(conn.execute(table.select()).all())

        (survey,) = await until(surveys, "the survey sent after the wrap-up")
        assert (survey.kind, survey.interaction_id, survey.channel) == ("yes_no", interaction, "phone")
        assert survey.sent_at is not None and survey.score is None
    finally:
        await desktop.shutdown()
    with repo.engine.connect() as conn:
        states = conn.execute(sa.text("SELECT agent, state, ended_at FROM agent_state_periods")).all()
    assert {s.state for s in states} >= {"available", "on_call", "wrap_up"}
    assert all(s.agent == "tracie" and s.ended_at is not None for s in states)  # closed with the desktop
    assert services.drafts.pending("agent_state:") == []
