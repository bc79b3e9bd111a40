"""Context stores and change sets, the trace journal, URL monikers."""

from __future__ import annotations

from usd_desktop.core.context import ChangeSet, Sessions
from usd_desktop.core.monikers import (
    ActionCallMoniker,
    EventMoniker,
    UiiMoniker,
    parse_moniker,
)
from usd_desktop.core.trace import Outcome, TraceJournal, TraceRecord, read_jsonl


def test_change_sets_name_what_changed():
    sessions = Sessions()
    seen: list[ChangeSet] = []
    dispose = sessions.changed.connect(seen.append)
    store = sessions.global_session.store
    store.set("account", "name", "A")
    store.set("account", "name", "A")  # no change, no notification
    with store.batch():
        store.set("account", "id", 1)
        store.set("$Context", "x", True)
    assert [c.keys for c in seen] == [
        frozenset({("account", "name")}),
        frozenset({("account", "id"), ("$Context", "x")}),
    ]
    assert store.get("$Context", "x") == "true"
    dispose()
    store.set("account", "name", "B")
    assert len(seen) == 2


def test_replace_root_reports_removed_names():
    sessions = Sessions()
    store = sessions.global_session.store
    store.replace_root("account", {"name": "A", "city": "X"})
    seen: list[ChangeSet] = []
    sessions.changed.connect(seen.append)
    store.replace_root("account", {"name": "A", "phone": "1"})
    assert seen[-1].keys == {("account", "city"), ("account", "phone")}


def test_sessions_keep_session_section_and_active():
    sessions = Sessions()
    g = sessions.global_session
    assert g.store.get("$Session", "IsGlobal") == "true"
    c1 = sessions.create("One")
    c2 = sessions.create("Two", activate=False)
    assert sessions.active is c1
    assert c2.store.get("$Session", "ActiveSession") == c1.id
    assert g.store.get("$Session", "Count") == "2"
    view = sessions.data_for(c2, {"url": "u"})
    assert view["session"] is c2.store.data and view["active"] is c1.store.data
    assert view["global"] is g.store.data and view["event"] == {"url": "u"}
    sessions.close(c1)
    assert sessions.active is c2
    assert g.store.get("$Session", "Count") == "1"


def test_trace_writes_jsonl_line_by_line(tmp_path):
    path = tmp_path / "t" / "trace.jsonl"
    journal = TraceJournal(path=path)
    journal.record(TraceRecord(seq=journal.next_seq(), kind="event", name="DesktopReady",
                               outcome=Outcome.FIRED))
    rows = read_jsonl(path)  # readable before close: flushed per record
    assert rows[0]["name"] == "DesktopReady" and rows[0]["outcome"] == "fired"
    journal.close()


def test_monikers():
    assert parse_moniker("https://event/?EventName=Hello&who=A%20B") == EventMoniker(
        "Hello", {"who": "A B"})
    assert parse_moniker("http://EVENT/?eventname=X") == EventMoniker("X", {})
    assert parse_moniker(
        "https://uii/Contact/Open_CRM_Page?LogicalName%3Dcontact%0D%0Aid%3D%5B%5Bcontact.Id%5D%5D"
    ) == UiiMoniker("Contact", "Open_CRM_Page", "LogicalName=contact\nid=[[contact.Id]]")
    assert parse_moniker("https://actioncall/Open+Contact+Page") == ActionCallMoniker(
        "Open Contact Page")
    assert parse_moniker("https://example.com/") is None
    assert parse_moniker("https://event/?nothing=1") is None
    assert parse_moniker("tel:+15551234") is None


def test_changes_for_one_session_reach_only_its_listeners() -> None:
    from usd_desktop.core.context import Sessions

    sessions = Sessions()
    one, two = sessions.create("one"), sessions.create("two")
    seen_one: list[str] = []
    seen_all: list[str] = []
    sessions.changes_for(one).connect(lambda c: seen_one.append(c.session_id))
    sessions.changed.connect(lambda c: seen_all.append(c.session_id))
    two.store.set("$Context", "x", "1")
    one.store.set("$Context", "x", "1")
    assert seen_one == [one.id] and seen_all == [two.id, one.id]
    assert sessions.changes_for(one) is sessions.changes_for(one)
    sessions.close(one)
    assert sessions.changes_for(two) is not sessions.changes_for(one)  # a closed session's is dropped
