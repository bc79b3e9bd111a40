"""A partner's data source: any object with the Repository interface serves the desktop's actions.

Here a dictionary stands for an external CRM. The Global Manager's data actions, the case lifecycle
and the change notifications work on it exactly as on the SQL default.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from usd_desktop.config.schema import EntitySearch
from usd_desktop.core.trace import Outcome
from usd_desktop.data.metadata import ENTITIES, EntityMeta
from usd_desktop.data.repository import CustomerMatch, Repository, SearchResult
from usd_desktop.data.services import DataServices, RecordChange
from usd_desktop.testing import until


class DictCrm:
    """An external CRM stand-in: records in dictionaries, equality filters only."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}

    @property
    def entities(self) -> Mapping[str, EntityMeta]:
        return ENTITIES

    def get(self, entity: str, id: str) -> dict[str, Any] | None:
        found = self.records.get(entity, {}).get(id)
        return None if found is None else dict(found)

    def search(
        self, search: EntitySearch, params: Mapping[str, Any] | None = None, *, page: int = 1
    ) -> SearchResult:
        rows = [r for r in self.records.get(search.entity, {}).values()
                if all(str(r.get(f.field)) == f.value for f in search.filters)]
        return SearchResult([dict(r) for r in rows[: search.max_count]], len(rows))

    def create(self, entity: str, values: Mapping[str, Any]) -> str:
        new_id = str(values.get("id") or uuid.uuid4())
        self.records.setdefault(entity, {})[new_id] = {**values, "id": new_id}
        return new_id

    def update(self, entity: str, id: str, values: Mapping[str, Any]) -> None:
        self.records[entity][id].update(values)

    def delete(self, entity: str, id: str) -> None:
        del self.records[entity][id]

    def find_customers_by_phone(self, number: str) -> list[CustomerMatch]:
        return []


CONFIG = """
name: partner data
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
entity_searches:
  - {name: Open cases, entity: case, filters: [{field: status, value: open}]}
action_calls:
  - name: New case
    control: Global Manager
    action: CreateEntity
    data: |
      LogicalName=case
      title=Parcel lost
      status=open
  - name: Resolve without resolution
    control: Global Manager
    action: UpdateEntity
    data: |
      LogicalName=case
      Id=[[$Return.New case]]
      status=resolved
  - name: Resolve
    control: Global Manager
    action: UpdateEntity
    data: |
      LogicalName=case
      Id=[[$Return.New case]]
      status=resolved
      resolution=Sent a replacement
  - name: Count open
    control: Global Manager
    action: DoSearch
    data: name=Open cases
  - name: Remember
    control: Global Manager
    action: CopyToContext
    data: resolved=[[Id]]
events:
  - {control: Global Manager, name: CaseResolved, action_calls: [Remember]}
"""


async def test_the_global_manager_works_on_a_partners_repository(desktop_factory) -> None:  # type: ignore[no-untyped-def]
    crm = DictCrm()
    assert isinstance(crm, Repository)
    services = DataServices(crm)
    changes: list[RecordChange] = []
    services.changed.connect(changes.append)
    desktop = desktop_factory(CONFIG, data=services)
    await desktop.start()
    run = desktop.dispatcher.run_action_call
    created = await run("New case")
    assert created.outcome is Outcome.RAN, created.reason
    assert crm.records["case"][str(created.result)]["title"] == "Parcel lost"
    assert (await run("Count open")).result == "1"
    refused = await run("Resolve without resolution")
    assert refused.outcome is Outcome.FAILED and "resolution" in refused.reason
    assert crm.records["case"][str(created.result)]["status"] == "open"  # nothing written
    resolved = await run("Resolve")
    assert resolved.outcome is Outcome.RAN, resolved.reason
    assert crm.records["case"][str(created.result)]["status"] == "resolved"
    store = desktop.sessions.global_session.store
    await until(lambda: store.get("$Context", "resolved"), "the CaseResolved event")
    assert store.get("$Context", "resolved") == created.result
    assert [c.kind for c in changes] == ["created", "updated"]
    assert (await run("Count open")).result == "0"
    await desktop.shutdown()
