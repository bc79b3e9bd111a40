"""The case lifecycle through DataServices over the SQL repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from usd_desktop.config.schema import Configuration
from usd_desktop.data.errors import DataError
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.services import DataServices, RecordChange

CONFIG = Configuration.model_validate(
    {
        "name": "lifecycle",
        "custom_fields": [{"entity": "case", "name": "product", "label": "Product"}],
        "option_values": [{"entity": "case", "field": "status", "values": ["awaiting_parts"]}],
    }
)
PROMISED = "2026-05-05T12:00:00+02:00"


@pytest.fixture
def services(data_url: str) -> Iterator[DataServices]:
    opened = DataServices(SqlRepository(data_url), user="agent1")
    assert opened.configure(CONFIG) == []
    yield opened
    opened.close()


@pytest.fixture
def changes(services: DataServices) -> list[RecordChange]:
    seen: list[RecordChange] = []
    services.changed.connect(seen.append)
    return seen


async def _new_case(services: DataServices, **values: object) -> str:
    contact = await services.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    return await services.create(
        "case", {"title": "Router keeps rebooting", "contact_id": contact, "product": "R-100", **values}
    )


def _kinds(change: RecordChange) -> list[str]:
    return [t.kind for t in change.transitions]


async def test_resolve_close_and_reopen(services: DataServices, changes: list[RecordChange]) -> None:
    case = await _new_case(services)
    assert _kinds(changes[-1]) == [] and changes[-1].kind == "created"
    before = len(changes)
    with pytest.raises(DataError) as caught:
        await services.update("case", case, {"status": "resolved"})
    assert "entity 'case', field 'resolution' (Resolution)" in str(caught.value)
    assert len(changes) == before  # nothing written, nothing announced
    stored = await services.get("case", case)
    assert stored is not None and stored["status"] == "open" and stored["resolved_at"] is None

    saved = await services.update("case", case, {"status": "resolved", "resolution": "Firmware updated"})
    change = changes[-1]
    assert change.kind == "updated" and change.id == case and _kinds(change) == ["resolved"]
    step = change.transitions[0].case
    assert step["case_number"] == saved["case_number"] and step["case_number"].startswith("CAS-")
    assert step["title"] == "Router keeps rebooting" and step["contact_id"] == saved["contact_id"]
    assert step["resolution"] == "Firmware updated" and step["product"] == "R-100"
    assert change.before is not None and change.before["status"] == "open"
    resolved_at = saved["resolved_at"]
    assert isinstance(resolved_at, datetime) and resolved_at.tzinfo is not None
    assert saved["status"] == "resolved" and saved["closed_at"] is None and saved["product"] == "R-100"

    saved = await services.update("case", case, {"status": "closed"})
    assert _kinds(changes[-1]) == ["closed"]
    assert saved["closed_at"] is not None and saved["resolved_at"] == resolved_at

    saved = await services.update("case", case, {"status": "open"})
    assert _kinds(changes[-1]) == ["reopened"]
    assert saved["resolved_at"] is None and saved["closed_at"] is None
    assert saved["resolution"] == "Firmware updated"  # the text is kept

    await services.update("case", case, {"title": "Router reboots at night"})
    assert _kinds(changes[-1]) == []


async def test_closing_an_open_case_needs_a_resolution(
    services: DataServices, changes: list[RecordChange]
) -> None:
    case = await _new_case(services)
    with pytest.raises(DataError, match=r"field 'resolution' \(Resolution\)"):
        await services.update("case", case, {"status": "closed", "resolution": "  "})
    saved = await services.update("case", case, {"status": "closed", "resolution": "Replaced the unit"})
    assert _kinds(changes[-1]) == ["closed"]
    assert saved["resolved_at"] is not None and saved["closed_at"] is not None


async def test_escalation(services: DataServices, changes: list[RecordChange]) -> None:
    case = await _new_case(services)
    with pytest.raises(DataError) as caught:
        await services.update("case", case, {"escalation_level": "1", "escalation_reason": "Outage"})
    assert "entity 'case', field 'next_steps' (Next steps given to the customer)" in str(caught.value)
    with pytest.raises(DataError, match=r"'promised_by' \(Time frame promised to the customer\)"):
        await services.update(
            "case", case, {"escalation_level": "1", "escalation_reason": "Outage", "next_steps": "Callback"}
        )
    saved = await services.update(
        "case",
        case,
        {
            "escalation_level": "2",
            "escalation_reason": "Regional outage",
            "next_steps": "A technician calls back",
            "promised_by": PROMISED,
        },
    )
    change = changes[-1]
    assert _kinds(change) == ["escalated"]
    assert change.transitions[0].case["next_steps"] == "A technician calls back"
    assert change.transitions[0].case["promised_by"] == PROMISED
    assert saved["escalation_level"] == 2 and saved["escalated_at"] is not None
    assert saved["promised_by"] == datetime(2026, 5, 5, 10, 0, tzinfo=UTC)
    escalated_at = saved["escalated_at"]

    saved = await services.update("case", case, {"escalation_level": 3})  # the rest is stored
    assert _kinds(changes[-1]) == ["escalated"] and saved["escalated_at"] >= escalated_at

    saved = await services.update("case", case, {"escalation_level": "0"})  # lowering needs nothing
    assert _kinds(changes[-1]) == [] and saved["escalation_level"] == 0
    with pytest.raises(DataError, match="'escalation_level'"):
        await services.update("case", case, {"escalation_level": "high"})  # the repository names it


async def test_follow_up(services: DataServices, changes: list[RecordChange]) -> None:
    case = await _new_case(services)
    with pytest.raises(DataError, match=r"entity 'case', field 'due_at' \(Due\)"):
        await services.update("case", case, {"status": "needs_follow_up"})
    saved = await services.update(
        "case", case, {"status": "needs_follow_up", "due_at": "2026-06-01T09:00:00Z"}
    )
    assert _kinds(changes[-1]) == ["follow_up"]
    assert saved["due_at"] == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    await services.update("case", case, {"status": "open"})
    assert _kinds(changes[-1]) == []


async def test_a_configured_status(services: DataServices, changes: list[RecordChange]) -> None:
    case = await _new_case(services)
    saved = await services.update("case", case, {"status": "awaiting_parts"})
    assert _kinds(changes[-1]) == [] and saved["status"] == "awaiting_parts"
    await services.update("case", case, {"status": "resolved", "resolution": "Part fitted"})
    saved = await services.update("case", case, {"status": "awaiting_parts"})
    assert _kinds(changes[-1]) == ["reopened"] and saved["resolved_at"] is None
    before = len(changes)
    with pytest.raises(DataError, match=r"'case', field 'status'.*'lost'"):
        await services.update("case", case, {"status": "lost"})
    assert len(changes) == before


async def test_creating_a_case_already_resolved(services: DataServices, changes: list[RecordChange]) -> None:
    with pytest.raises(DataError, match=r"field 'resolution' \(Resolution\).*a new record"):
        await _new_case(services, status="resolved")
    case = await _new_case(services, status="resolved", resolution="Answered on the call")
    change = changes[-1]
    assert change.kind == "created" and change.id == case and _kinds(change) == ["resolved"]
    assert change.transitions[0].case["resolution"] == "Answered on the call"
    assert change.values["resolved_at"] is not None and change.values["product"] == "R-100"
