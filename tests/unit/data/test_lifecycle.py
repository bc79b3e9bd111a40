"""The case lifecycle rules (a pure function): status steps, escalation, the times set, the messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from usd_desktop.data import lifecycle
from usd_desktop.data.errors import DataError
from usd_desktop.data.lifecycle import Transition, check

NOW = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "utcnow", lambda: NOW)


def case(**fields: Any) -> dict[str, Any]:
    """A stored case (as ``Repository.get`` returns it)."""
    base: dict[str, Any] = {
        "id": "c-1",
        "case_number": "CAS-1",
        "title": "Router keeps rebooting",
        "contact_id": "p-1",
        "account_id": None,
        "status": "open",
        "escalation_level": 0,
        "escalation_reason": None,
        "next_steps": None,
        "promised_by": None,
        "resolution": None,
        "due_at": None,
        "escalated_at": None,
        "resolved_at": None,
        "closed_at": None,
    }
    base.update(fields)
    return base


def kinds(transitions: tuple[Transition, ...]) -> list[str]:
    return [t.kind for t in transitions]


@pytest.mark.parametrize("entity", ["contact", "account", "note", "interaction"])
def test_other_entities_pass_through(entity: str) -> None:
    values = {"status": "resolved", "escalation_level": 9}
    out, transitions = check(entity, {"status": "open"}, values)
    assert out == values and out is not values and transitions == ()


def test_a_write_that_keeps_the_status_makes_no_step() -> None:
    out, transitions = check("case", case(), {"title": "New title", "status": "open"})
    assert out == {"title": "New title", "status": "open"} and transitions == ()
    out, transitions = check("case", case(status="resolved", resolution="Done"), {"status": " resolved "})
    assert transitions == () and "resolved_at" not in out


@pytest.mark.parametrize("resolution", [None, "", "   "])
def test_resolving_needs_a_resolution(resolution: str | None) -> None:
    with pytest.raises(DataError) as caught:
        check("case", case(resolution=resolution), {"status": "resolved"})
    message = str(caught.value)
    assert "entity 'case', field 'resolution' (Resolution)" in message
    assert "'CAS-1'" in message and "'resolved'" in message


def test_resolving_with_a_resolution_given_or_stored() -> None:
    out, transitions = check("case", case(), {"status": "resolved", "resolution": "Firmware updated"})
    assert out == {
        "status": "resolved",
        "resolution": "Firmware updated",
        "resolved_at": NOW,
        "closed_at": None,
    }
    assert kinds(transitions) == ["resolved"]
    step = transitions[0].case
    assert step["case_number"] == "CAS-1" and step["title"] == "Router keeps rebooting"
    assert step["resolution"] == "Firmware updated" and step["status"] == "resolved"
    assert step["contact_id"] == "p-1" and step["resolved_at"] == NOW
    out, transitions = check("case", case(resolution="Stored answer"), {"status": "resolved"})
    assert kinds(transitions) == ["resolved"] and transitions[0].case["resolution"] == "Stored answer"


def test_a_resolution_given_as_blank_overrides_the_stored_one() -> None:
    with pytest.raises(DataError, match=r"field 'resolution' \(Resolution\)"):
        check("case", case(resolution="Stored"), {"status": "resolved", "resolution": " "})


def test_closing_an_open_case_resolves_and_closes_it() -> None:
    with pytest.raises(DataError, match=r"field 'resolution' \(Resolution\).*'closed'"):
        check("case", case(), {"status": "closed"})
    out, transitions = check("case", case(), {"status": "closed", "resolution": "Replaced"})
    assert out["resolved_at"] == NOW and out["closed_at"] == NOW
    assert kinds(transitions) == ["closed"]


def test_closing_a_resolved_case() -> None:
    resolved = case(status="resolved", resolution="Done", resolved_at=EARLIER)
    out, transitions = check("case", resolved, {"status": "closed"})
    assert out == {"status": "closed", "closed_at": NOW}  # resolved_at stays as it was
    assert kinds(transitions) == ["closed"] and transitions[0].case["resolved_at"] == EARLIER
    # a resolved case without a resolution (older data) can still be closed
    out, transitions = check("case", case(status="resolved"), {"status": "closed"})
    assert kinds(transitions) == ["closed"]


def test_a_closed_case_set_back_to_resolved() -> None:
    closed = case(status="closed", resolution="Done", resolved_at=EARLIER, closed_at=EARLIER)
    out, transitions = check("case", closed, {"status": "resolved"})
    assert kinds(transitions) == ["resolved"] and out["closed_at"] is None and out["resolved_at"] == NOW


def test_a_done_case_keeps_its_resolution() -> None:
    with pytest.raises(DataError, match=r"field 'resolution' \(Resolution\).*resolved case keeps"):
        check("case", case(status="resolved", resolution="Done"), {"resolution": ""})
    out, transitions = check("case", case(status="resolved", resolution="Done"), {"resolution": "Better"})
    assert out == {"resolution": "Better"} and transitions == ()


@pytest.mark.parametrize("was", ["resolved", "closed"])
@pytest.mark.parametrize("target", ["open", "waiting_for_customer"])
def test_reopening(was: str, target: str) -> None:
    done = case(status=was, resolution="Done", resolved_at=EARLIER, closed_at=EARLIER)
    out, transitions = check("case", done, {"status": target})
    assert out == {"status": target, "resolved_at": None, "closed_at": None}
    assert kinds(transitions) == ["reopened"]
    assert transitions[0].case["resolution"] == "Done"  # the text is kept
    assert transitions[0].case["resolved_at"] is None


def test_custom_open_like_statuses_make_no_step_between_them() -> None:
    out, transitions = check("case", case(), {"status": "waiting_for_customer"})
    assert transitions == () and out == {"status": "waiting_for_customer"}
    _, transitions = check("case", case(status="waiting_for_customer"), {"status": "open"})
    assert transitions == ()


def test_unknown_statuses_are_left_to_the_repository() -> None:
    out, transitions = check("case", case(), {"status": "lost"})
    assert out == {"status": "lost"} and transitions == ()


def test_follow_up_needs_a_due_date() -> None:
    with pytest.raises(DataError) as caught:
        check("case", case(), {"status": "needs_follow_up"})
    assert "entity 'case', field 'due_at' (Due)" in str(caught.value) and "'CAS-1'" in str(caught.value)
    out, transitions = check("case", case(), {"status": "needs_follow_up", "due_at": "2026-06-01T09:00:00Z"})
    assert kinds(transitions) == ["follow_up"] and out["due_at"] == "2026-06-01T09:00:00Z"
    _, transitions = check("case", case(due_at=EARLIER), {"status": "needs_follow_up"})
    assert kinds(transitions) == ["follow_up"]
    with pytest.raises(DataError, match="'due_at'"):
        check("case", case(due_at=EARLIER), {"status": "needs_follow_up", "due_at": ""})


def test_a_done_case_set_to_follow_up_is_reopened() -> None:
    done = case(status="resolved", resolution="Done", resolved_at=EARLIER, due_at=EARLIER)
    out, transitions = check("case", done, {"status": "needs_follow_up"})
    assert kinds(transitions) == ["reopened", "follow_up"] and out["resolved_at"] is None


ESCALATION = {
    "escalation_reason": "Outage in the region",
    "next_steps": "A technician calls back",
    "promised_by": "2026-05-05T12:00:00+02:00",
}


@pytest.mark.parametrize(
    ("missing", "label"),
    [
        ("escalation_reason", "Escalation reason"),
        ("next_steps", "Next steps given to the customer"),
        ("promised_by", "Time frame promised to the customer"),
    ],
)
def test_escalating_needs_reason_next_steps_and_time_frame(missing: str, label: str) -> None:
    values = {"escalation_level": "1", **ESCALATION}
    del values[missing]
    with pytest.raises(DataError) as caught:
        check("case", case(), values)
    message = str(caught.value)
    assert f"entity 'case', field '{missing}' ({label})" in message and "'CAS-1'" in message
    with pytest.raises(DataError, match=missing):
        check("case", case(), {**values, missing: "  "})


def test_escalating_with_the_values_given_or_stored() -> None:
    out, transitions = check("case", case(), {"escalation_level": "2", **ESCALATION})
    assert out["escalated_at"] == NOW and out["escalation_level"] == "2"
    assert kinds(transitions) == ["escalated"]
    step = transitions[0].case
    assert (
        step["next_steps"] == "A technician calls back" and step["promised_by"] == ESCALATION["promised_by"]
    )
    stored = case(escalation_level=1, **ESCALATION)
    out, transitions = check("case", stored, {"escalation_level": 2})
    assert kinds(transitions) == ["escalated"] and out == {"escalation_level": 2, "escalated_at": NOW}


def test_lowering_or_keeping_the_level_needs_nothing() -> None:
    stored = case(escalation_level=2, escalated_at=EARLIER)
    for level in (2, "2", 1, "0"):
        out, transitions = check("case", stored, {"escalation_level": level})
        assert transitions == () and out == {"escalation_level": level}


def test_a_level_that_is_not_a_number_is_left_to_the_repository() -> None:
    out, transitions = check("case", case(), {"escalation_level": "high"})
    assert out == {"escalation_level": "high"} and transitions == ()


def test_escalating_and_resolving_in_one_write() -> None:
    values = {"status": "resolved", "resolution": "Done", "escalation_level": 1, **ESCALATION}
    out, transitions = check("case", case(), values)
    assert kinds(transitions) == ["resolved", "escalated"]
    assert out["resolved_at"] == NOW and out["escalated_at"] == NOW


def test_times_given_by_the_caller_are_kept() -> None:
    out, _ = check("case", case(), {"status": "resolved", "resolution": "Done", "resolved_at": EARLIER})
    assert out["resolved_at"] == EARLIER


def test_creating_a_case_follows_the_same_rules() -> None:
    out, transitions = check("case", None, {"title": "New"})
    assert out == {"title": "New"} and transitions == ()
    with pytest.raises(DataError) as caught:
        check("case", None, {"title": "New", "status": "resolved"})
    assert "field 'resolution' (Resolution)" in str(caught.value) and "a new record" in str(caught.value)
    out, transitions = check("case", None, {"title": "New", "status": "closed", "resolution": "Done"})
    assert kinds(transitions) == ["closed"] and out["resolved_at"] == NOW and out["closed_at"] == NOW
    assert transitions[0].case == out
    with pytest.raises(DataError, match="'due_at'"):
        check("case", None, {"title": "New", "status": "needs_follow_up"})
    with pytest.raises(DataError, match="'escalation_reason'"):
        check("case", None, {"title": "New", "escalation_level": 1})
    _, transitions = check("case", None, {"title": "New", "escalation_level": "1", **ESCALATION})
    assert kinds(transitions) == ["escalated"]
