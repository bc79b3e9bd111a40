"""The call model: creation from events, the state machine, hold time, parameters and numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from usd_desktop.cti.calls import Call, dial_target, phone_of
from usd_desktop.cti.contract import (
    AgentStateChanged,
    CallAnswered,
    CallConferenced,
    CallDataUpdated,
    CallDialing,
    CallEnded,
    CallHeld,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    DtmfReceived,
    PartyAdded,
    PartyRemoved,
    RecordingStarted,
    RecordingStopped,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def offered(**kwargs: object) -> Call:
    values: dict[str, object] = {"call": "c1", "ani": "040 1234567", "dnis": "0201234", "queue": "support",
                                 "data": {"customer": "42"}, "at": T0}
    values.update(kwargs)
    return Call.from_event(CallOffered(**values), region="FI")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- creation
def test_an_offered_call_rings_with_its_details_and_normalised_number() -> None:
    call = offered(caller_name="Maija")
    assert call.state == "ringing"
    assert (call.direction, call.activity) == ("inbound", "phonecall")
    assert (call.ani, call.dnis, call.queue, call.caller_name) == ("040 1234567", "0201234", "support", "Maija")
    assert call.number == "040 1234567"
    assert call.number_e164 == "+358401234567"
    assert call.data == {"customer": "42"}
    assert call.offered_at == T0
    assert call.answered_at is None and call.ended_at is None
    assert not call.live and not call.ended


def test_an_outbound_call_offered_by_a_dialer_has_the_dnis_as_its_number() -> None:
    call = offered(direction="outbound", ani="0201234", dnis="+358 50 7654321")
    assert call.number == "+358 50 7654321"
    assert call.number_e164 == "+358507654321"


def test_a_dialled_call_is_outbound_and_dialing() -> None:
    call = Call.from_event(CallDialing(call="c2", number="0401234567", data={"campaign": "x"}, at=T0),
                           region="FI")
    assert (call.state, call.direction, call.activity) == ("dialing", "outbound", "phonecall")
    assert call.number == call.dnis == "0401234567"
    assert call.number_e164 == "+358401234567"
    assert call.data == {"campaign": "x"}
    assert call.live


def test_a_number_that_is_no_phone_number_has_no_e164() -> None:
    assert offered(ani="anonymous").number_e164 == ""
    assert offered(ani="").number_e164 == ""


def test_attached_data_becomes_text() -> None:
    call = offered(data={"n": 3, "none": None})
    assert call.data == {"n": "3", "none": ""}


# ---------------------------------------------------------------------- state machine
def test_answer_hold_retrieve_hangup_counts_the_hold_time() -> None:
    call = offered()
    assert call.apply(CallAnswered(call="c1", at=at(5)))
    assert call.state == "connected" and call.answered_at == at(5) and call.live
    assert call.apply(CallHeld(call="c1", at=at(10)))
    assert call.state == "held" and call.held_since == at(10)
    assert call.hold_total(at(13)) == 3.0
    assert call.apply(CallRetrieved(call="c1", at=at(20)))
    assert call.state == "connected" and call.hold_seconds == 10.0 and call.held_since is None
    assert call.apply(CallHeld(call="c1", at=at(30)))
    assert call.apply(CallEnded(call="c1", at=at(34)))
    assert call.state == "ended" and call.ended and call.ended_at == at(34)
    assert call.hold_seconds == 14.0 and call.held_since is None
    assert call.cause == "normal"


@pytest.mark.parametrize(
    ("state_events", "event"),
    [
        ([], CallHeld(call="c1")),  # ringing cannot be held
        ([], CallRetrieved(call="c1")),
        ([CallAnswered(call="c1")], CallAnswered(call="c1")),  # answered twice
        ([CallAnswered(call="c1"), CallHeld(call="c1")], CallHeld(call="c1")),  # the second hold
        ([CallAnswered(call="c1"), CallHeld(call="c1")], CallAnswered(call="c1")),
        ([CallAnswered(call="c1")], CallMissed(call="c1")),  # only a ringing call is missed
        ([CallEnded(call="c1")], CallEnded(call="c1")),  # anything after the end
        ([CallEnded(call="c1")], CallAnswered(call="c1")),
        ([CallEnded(call="c1")], CallDataUpdated(call="c1", data={"a": "b"})),
        ([CallEnded(call="c1")], CallOffered(call="c1", ani="1")),
        ([], CallAnswered(call="other")),  # another call's event
        ([], AgentStateChanged(state="available")),  # not a call event
        ([], CallConferenced(call="c1", other="c2")),  # a ringing call joins no conference
    ],
)
def test_events_that_make_no_sense_leave_the_call_as_it_is(state_events: list[object], event: object) -> None:
    call = offered()
    for earlier in state_events:
        assert call.apply(earlier)  # type: ignore[arg-type]
    before = (call.state, call.answered_at, call.ended_at, dict(call.data), call.hold_seconds)
    assert call.apply(event) is False  # type: ignore[arg-type]
    assert (call.state, call.answered_at, call.ended_at, dict(call.data), call.hold_seconds) == before


def test_an_ignored_event_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    call = offered()
    with caplog.at_level("DEBUG", logger="usd_desktop.cti.calls"):
        for _ in range(3):
            call.apply(CallHeld(call="c1"))
    assert len([r for r in caplog.records if "CallHeld ignored" in r.getMessage()]) == 1


@pytest.mark.parametrize(("abandoned", "cause"), [(True, "abandoned"), (False, "missed")])
def test_a_missed_call_ends_unanswered(abandoned: bool, cause: str) -> None:
    call = offered()
    assert call.apply(CallMissed(call="c1", abandoned=abandoned, at=at(12)))
    assert call.state == "ended" and call.cause == cause and call.ended_at == at(12)
    assert call.answered_at is None


def test_a_transfer_ends_the_call_for_the_agent_and_counts() -> None:
    call = offered()
    call.apply(CallAnswered(call="c1", at=at(1)))
    call.apply(CallHeld(call="c1", at=at(2)))
    assert call.apply(CallTransferred(call="c1", target="2001", at=at(6)))
    assert call.state == "ended" and call.cause == "transferred" and call.transfers == 1
    assert call.hold_seconds == 4.0 and "2001" in call.parties
    assert call.apply(CallEnded(call="c1")) is False  # the backend's end after the transfer


def test_conference_parties_dtmf_recording_and_data() -> None:
    call = offered()
    call.apply(CallAnswered(call="c1", at=at(1)))
    call.apply(CallHeld(call="c1", at=at(2)))
    assert call.apply(CallConferenced(call="c1", other="c2", at=at(5)))
    assert call.state == "connected" and call.hold_seconds == 3.0 and "c2" in call.parties
    assert call.apply(PartyAdded(call="c1", party="2001"))
    assert call.apply(PartyAdded(call="c1", party="2001")) is False
    assert call.apply(PartyRemoved(call="c1", party="2001"))
    assert "2001" not in call.parties
    assert call.apply(DtmfReceived(call="c1", digits="12"))
    assert call.apply(DtmfReceived(call="c1", digits="#"))
    assert call.dtmf == "12#"
    assert call.apply(RecordingStarted(call="c1")) and call.recording
    assert call.apply(RecordingStarted(call="c1")) is False
    assert call.apply(RecordingStopped(call="c1")) and not call.recording
    assert call.apply(CallDataUpdated(call="c1", data={"order": "7"}))
    assert call.apply(CallDataUpdated(call="c1", data={"order": "7"})) is False
    assert call.data == {"customer": "42", "order": "7"}


def test_a_repeated_offer_refreshes_the_details() -> None:
    call = offered(caller_name="")
    assert call.apply(CallOffered(call="c1", caller_name="Maija", data={"x": "1"}))
    assert call.caller_name == "Maija" and call.data["x"] == "1" and call.ani == "040 1234567"
    assert call.apply(CallOffered(call="c1", caller_name="Maija", data={"x": "1"})) is False


def test_a_negative_hold_from_skewed_clocks_counts_nothing() -> None:
    call = offered()
    call.apply(CallAnswered(call="c1", at=at(1)))
    call.apply(CallHeld(call="c1", at=at(10)))
    call.apply(CallRetrieved(call="c1", at=at(5)))
    assert call.hold_seconds == 0.0


# ---------------------------------------------------------------------- parameters
def test_parameters_name_the_call_and_built_ins_win_over_attached_data() -> None:
    call = offered(data={"customer": "42", "ani": "spoofed", "state": "x"}, caller_name="Maija")
    call.interaction_id = "i-1"
    params = call.parameters()
    assert params == {
        "customer": "42",
        "ani": "040 1234567",
        "dnis": "0201234",
        "queue": "support",
        "callid": "c1",
        "direction": "inbound",
        "type": "phonecall",
        "state": "ringing",
        "number": "040 1234567",
        "number_e164": "+358401234567",
        "callername": "Maija",
        "interactionid": "i-1",
    }


# ---------------------------------------------------------------------- numbers and URLs
@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("tel:+358 40 123 4567", "+358401234567"),
        ("tel:+358-40-123-4567;phone-context=example.com", "+358401234567"),
        ("TEL:(040) 123.4567", "0401234567"),
        ("callto:+358401234567", "+358401234567"),
        ("callto://0401234567", "0401234567"),
        ("sip:alice@pbx.example.com", "sip:alice@pbx.example.com"),
        ("sips:+358401234567@pbx;user=phone", "sips:+358401234567@pbx;user=phone"),
        ("  040 123 4567 ", "040 123 4567"),
        ("", ""),
    ],
)
def test_dial_targets(text: str, target: str) -> None:
    assert dial_target(text) == target


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("040 1234567", "+358401234567"),
        ("tel:+358 40 123 4567", "+358401234567"),
        ("sip:+358401234567@pbx.example.com", "+358401234567"),
        ("sip:0401234567@pbx;user=phone", "+358401234567"),
        ("sip:alice@pbx.example.com", ""),
        ("1001", ""),
        ("", ""),
    ],
)
def test_phone_of(number: str, e164: str) -> None:
    assert phone_of(number, "FI") == e164
