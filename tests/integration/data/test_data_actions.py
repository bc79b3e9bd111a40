"""The Global Manager's data actions (DoSearch, CreateEntity, UpdateEntity, DeleteEntity, ...).

Run through the dispatcher as configured action calls, on SQLite and on PostgreSQL, with the case
lifecycle events the Global Manager raises.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from usd_desktop.core.trace import Outcome
from usd_desktop.data.drafts import DraftStore
from usd_desktop.data.knowledge import KnowledgeSearch
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.services import DataServices, SearchDone
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.testing import make_desktop, until

CONFIG = r"""
name: data actions
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
entity_searches:
  - name: Contacts by last name
    entity: contact
    filters: [{field: last_name, operator: begins_with, value: "[[lastname]]"}]
    columns: [full_name, last_name]
    order_by: [{field: full_name}]
    max_count: 2
action_calls:
  - name: Find
    control: Global Manager
    action: DoSearch
    data: |
      name=Contacts by last name
      lastname=[[$Context.lastname]]
  - name: New contact
    control: Global Manager
    action: CreateEntity
    data: |
      LogicalName=contact
      first_name=[[$Context.first]]
      last_name=[[$Context.last]]
      segment=OptionSetValue(4)
  - name: New case
    control: Global Manager
    action: CreateEntity
    data: |
      LogicalName=case
      title=Router keeps rebooting
      contact_id=EntityReference("contact", "[[$Return.New contact]]")
  - name: Resolve case
    control: Global Manager
    action: UpdateEntity
    data: |
      LogicalName=case
      Id=[[$Return.New case]]
      status=resolved
      resolution=[[$Context.resolution]]
  - name: Remove case
    control: Global Manager
    action: DeleteEntity
    data: |
      LogicalName=case
      Id=[[$Return.New case]]
  - name: Note closure
    control: Global Manager
    action: CopyToContext
    data: |
      closed=[[CaseNumber]]
      survey_to=[[ContactId]]
events:
  - {control: Global Manager, name: CaseResolved, action_calls: [Note closure]}
"""


@pytest.fixture
def services(data_url: str, tmp_path) -> Iterator[DataServices]:  # type: ignore[no-untyped-def]
    repo = SqlRepository(data_url)
    made = DataServices(repo, knowledge=KnowledgeSearch(repo), drafts=DraftStore(tmp_path / "d.db"))
    yield made
    made.close()


@pytest.fixture
async def desktop(services: DataServices):  # type: ignore[no-untyped-def]
    made: Desktop = make_desktop(CONFIG, data=services)
    await made.start()
    yield made
    await made.shutdown()


async def run(desktop: Desktop, name: str, **context: str):  # type: ignore[no-untyped-def]
    store = desktop.sessions.global_session.store
    if context:
        store.update("$Context", context)
    return await desktop.dispatcher.run_action_call(name, session=desktop.sessions.global_session)


async def test_create_search_update_and_delete_records(desktop: Desktop, services: DataServices):
    store = desktop.sessions.global_session.store
    names = [("Aino", "O'Brien"), ("Wei", "O'Brien-Zhang"), ("Ioana", "Obreja"), ("Mary", "Smith")]
    for first, last in names:
        outcome = await run(desktop, "New contact", first=first, last=last)
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert outcome.result and len(outcome.result) == 36
    created = await services.get("contact", str(outcome.result))
    assert created is not None and created["segment"] == "vip"  # OptionSetValue(4): the 5th option

    seen: list[SearchDone] = []
    dispose = services.searched.connect(seen.append)
    found = await run(desktop, "Find", lastname="O'Brien")
    dispose()
    assert found.outcome is Outcome.RAN and found.result == "2"  # the count, not the page
    assert store.get("$Search", "Count") == "2"
    assert store.get("$Search", "LogicalName") == "contact"
    assert seen and [r["full_name"] for r in seen[0].result.rows] == ["Aino O'Brien", "Wei O'Brien-Zhang"]
    # a quote, wildcards or SQL in the value match literally and change nothing
    for text in ("%", "_", "' OR '1'='1", "O'Brien'; DELETE FROM contacts; --"):
        assert (await run(desktop, "Find", lastname=text)).result == "0"
    assert (await run(desktop, "Find", lastname="")).result == "4"

    case = await run(desktop, "New case")
    assert case.outcome is Outcome.RAN, case.reason
    stored = await services.get("case", str(case.result))
    assert stored is not None and stored["contact_id"] == outcome.result and stored["status"] == "open"


async def test_typed_values_and_unknown_names_fail_with_clear_messages(desktop: Desktop):
    gm = "Global Manager"
    session = desktop.sessions.global_session
    d = desktop.dispatcher
    bad_entity = await d.run_action(gm, "CreateEntity", "LogicalName=contct\nlast_name=X", session=session)
    assert bad_entity.outcome is Outcome.FAILED and "contct" in bad_entity.reason
    bad_field = await d.run_action(gm, "CreateEntity", "LogicalName=contact\nlastname=X", session=session)
    assert bad_field.outcome is Outcome.FAILED and "'lastname'" in bad_field.reason
    missing = await d.run_action(gm, "CreateEntity", "LogicalName=contact\nfirst_name=X", session=session)
    assert missing.outcome is Outcome.FAILED and "last_name" in missing.reason
    wrong_ref = await d.run_action(
        gm, "CreateEntity", 'LogicalName=case\ntitle=T\ncontact_id=EntityReference("account", "x")',
        session=session,
    )
    assert wrong_ref.outcome is Outcome.FAILED and "refers to contact" in wrong_ref.reason
    option = await d.run_action(gm, "CreateEntity", "LogicalName=contact\nlast_name=X\nsegment=OptionSetValue(9)",
                                session=session)
    assert option.outcome is Outcome.FAILED and "OptionSetValue(9)" in option.reason
    no_search = await d.run_action(gm, "DoSearch", "name=Nope", session=session)
    assert no_search.outcome is Outcome.FAILED and "Contacts by last name" in no_search.reason
    no_id = await d.run_action(gm, "UpdateEntity", "LogicalName=contact\nIdx=1", session=session)
    assert no_id.outcome is Outcome.FAILED and "Id=" in no_id.reason
    gone = await d.run_action(gm, "DeleteEntity", "LogicalName=contact\nId=nobody", session=session)
    assert gone.outcome is Outcome.FAILED and "nobody" in gone.reason


async def test_resolving_a_case_raises_the_global_managers_event(desktop: Desktop, services: DataServices):
    store = desktop.sessions.global_session.store
    contact = await run(desktop, "New contact", first="Maria", last="Popescu")
    case = await run(desktop, "New case")
    assert case.outcome is Outcome.RAN
    resolved = await run(desktop, "Resolve case", resolution="Firmware updated")
    assert resolved.outcome is Outcome.RAN, resolved.reason
    stored = await services.get("case", str(case.result))
    assert stored is not None and stored["status"] == "resolved"
    await until(lambda: store.get("$Context", "closed"), "the CaseResolved event")
    assert store.get("$Context", "closed") == stored["case_number"]
    assert store.get("$Context", "survey_to") == contact.result
    removed = await run(desktop, "Remove case")
    assert removed.outcome is Outcome.RAN and await services.get("case", str(case.result)) is None


async def test_clear_entity_list_forgets_the_last_search(desktop: Desktop, services: DataServices):
    store = desktop.sessions.global_session.store
    await run(desktop, "New contact", first="Aino", last="Virtanen")
    assert (await run(desktop, "Find", lastname="Vir")).result == "1"
    seen: list[SearchDone] = []
    services.searched.connect(seen.append)
    cleared = await desktop.dispatcher.run_action(
        "Global Manager", "ClearEntityList", session=desktop.sessions.global_session
    )
    assert cleared.outcome is Outcome.RAN
    assert store.get("$Search", "Count") is None
    assert seen and seen[0].result.total == 0 and seen[0].search == ""
