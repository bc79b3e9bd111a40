"""Drafts, publication, immutable versions, rollback, diff, clone; refusals leave the store as it was."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.config.lint import ControlType
from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.schema import Configuration, Scriptlet
from usd_desktop.config.store import ConfigStore, StoreError, audit
from usd_desktop.config.store import content as store_content
from usd_desktop.config.store.content import content_hash
from usd_desktop.config.store.diff import format_diff
from usd_desktop.config.store.tables import metadata

BASE = """
name: Sales
description: the sales desk
options: {maxNumberOfSessions: "3", Theme: light}
resources:
  en: {Hello: Hello}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Contact, type: StandardWebApplication, settings: {url: "https://example.com"}}
  - {name: Toolbars, type: ToolbarContainer}
action_calls:
  - {name: Open Contact, control: Contact, action: Navigate, data: url=https://a.example}
  - {name: Greet, control: Global Manager, action: CopyToContext, data: greeting=hi}
events:
  - {control: Global Manager, name: DesktopReady, action_calls: [Open Contact]}
toolbars:
  - name: Main
    container: Toolbars
    buttons:
      - {name: Find, text: Find, action_calls: [Greet]}
"""


def base() -> Configuration:
    return loads_configuration(BASE)


def changed() -> Configuration:
    config = base()
    calls = [
        c.model_copy(update={"data": "url=https://b.example"}) if c.name == "Open Contact" else c
        for c in config.action_calls
    ]
    calls.append(calls[1].model_copy(update={"name": "Wave"}))
    buttons = [config.toolbars[0].buttons[0].model_copy(update={"text": "Search"})]
    return config.model_copy(
        update={
            "action_calls": calls,
            "events": [],
            "options": {"maxNumberOfSessions": "4", "Theme": "light", "Extra": "1"},
            "toolbars": [config.toolbars[0].model_copy(update={"buttons": buttons})],
        }
    )


def snapshot(store: ConfigStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for 'nothing changed' checks."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store._engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


def content_rows_of(store: ConfigStore, name: str, number: int) -> dict[str, list[tuple[Any, ...]]]:
    from usd_desktop.config.store.tables import CONTENT_TABLES, configuration_versions, configurations

    with store._engine.connect() as conn:
        version_id = conn.execute(
            sa.select(configuration_versions.c.id)
            .join(configurations)
            .where(configurations.c.name == name, configuration_versions.c.number == number)
        ).scalar_one()
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).where(t.c.version_id == version_id))]
            for t in CONTENT_TABLES
        }


def test_import_publish_and_versions(store: ConfigStore) -> None:
    draft = store.import_configuration(base(), actor="ann")
    assert (draft.state, draft.number, draft.created_by) == ("draft", 0, "ann")
    assert store.versions("Sales") == [draft]
    with pytest.raises(StoreError, match="has no published version"):
        store.load("Sales")
    v1 = store.publish("Sales", actor="bob", message="first")
    assert (v1.number, v1.state, v1.published_by, v1.message) == (1, "published", "bob", "first")
    assert v1.content_hash == content_hash(base()) and v1.published_at is not None
    assert store.draft("Sales") is None
    with pytest.raises(StoreError, match="has no draft to publish"):
        store.publish("Sales", actor="bob")
    store.import_configuration(base(), actor="ann")
    with pytest.raises(StoreError, match="nothing to publish: the draft of Sales is identical to version 1"):
        store.publish("Sales", actor="bob")
    store.import_configuration(changed(), actor="ann")
    v2 = store.publish("Sales", actor="bob")
    assert [v.number for v in store.versions("Sales")] == [1, 2]
    assert store.load("Sales") == (changed(), v2)
    assert content_hash(store.load("Sales")[0]) == v2.content_hash
    assert store.load("Sales", 1) == (base(), v1)
    with pytest.raises(StoreError, match="has no version 7"):
        store.load("Sales", 7)
    with pytest.raises(StoreError, match="no configuration named 'Nope'"):
        store.load("Nope")
    infos = store.configurations()
    assert [(c.name, c.latest, c.has_draft, c.description) for c in infos] == [
        ("Sales", 2, False, "the sales desk")
    ]


def test_an_unvalidated_copy_is_checked_again(store: ConfigStore) -> None:
    bad = base().model_copy(update={"name": " Sales "})
    with pytest.raises(StoreError, match="not a valid configuration: name: "):
        store.import_configuration(bad, actor="ann")
    coerced = base().model_copy(update={"options": {"maxNumberOfSessions": 4}})
    store.import_configuration(coerced, actor="ann")
    draft = store.draft("Sales")
    assert draft is not None and draft.options == {"maxNumberOfSessions": "4"}


def test_a_draft_is_replaced_only_when_allowed(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    with pytest.raises(StoreError, match="already has a draft"):
        store.import_configuration(changed(), actor="bob", replace_draft=False)
    assert store.draft("Sales") == base()
    store.import_configuration(changed(), actor="bob")
    assert store.draft("Sales") == changed()
    store.delete_draft("Sales", actor="bob")
    assert store.draft("Sales") is None and store.versions("Sales") == []
    with pytest.raises(StoreError, match="has no draft"):
        store.delete_draft("Sales", actor="bob")


def test_published_versions_never_change(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    store.publish("Sales", actor="ann")
    before = content_rows_of(store, "Sales", 1)
    info_before = store.versions("Sales")[0]
    store.import_configuration(changed(), actor="ann")
    store.publish("Sales", actor="ann")
    store.import_configuration(base().model_copy(update={"description": "again"}), actor="ann")
    store.rollback("Sales", 1, actor="ann")
    store.clone("Sales", "Copy", actor="ann")
    store.delete_draft("Sales", actor="ann")
    assert content_rows_of(store, "Sales", 1) == before
    assert store.versions("Sales")[0] == info_before


def test_rollback_publishes_the_old_content_again(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    v1 = store.publish("Sales", actor="ann")
    store.import_configuration(changed(), actor="ann")
    store.publish("Sales", actor="ann")
    v3 = store.rollback("Sales", 1, actor="carl")
    assert (v3.number, v3.content_hash, v3.published_by) == (3, v1.content_hash, "carl")
    assert v3.message == "rollback to version 1"
    assert store.load("Sales") == (base(), v3)
    assert store.configurations()[0].description == "the sales desk"
    with pytest.raises(StoreError, match="nothing to roll back"):
        store.rollback("Sales", 1, actor="carl")
    with pytest.raises(StoreError, match="has no version 9"):
        store.rollback("Sales", 9, actor="carl")


def test_diff_per_record_and_field(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    store.publish("Sales", actor="ann")
    store.import_configuration(changed(), actor="ann")
    changes = store.diff("Sales", 1, "draft")
    assert {(c.kind, c.entity, c.record, c.field) for c in changes} == {
        ("changed", "options", "maxNumberOfSessions", "value"),
        ("added", "options", "Extra", None),
        ("changed", "action_calls", "Open Contact", "data"),
        ("added", "action_calls", "Wave", None),
        ("removed", "events", "Global Manager: DesktopReady", None),
        ("changed", "toolbars", "Main", "buttons[Find].text"),
    }
    assert format_diff(changes).splitlines() == [
        '~ options "maxNumberOfSessions": "3" -> "4"',
        '+ options "Extra": "1"',
        '~ action_calls "Open Contact" data: "url=https://a.example" -> "url=https://b.example"',
        '+ action_calls "Wave"',
        '- events "Global Manager: DesktopReady"',
        '~ toolbars "Main" buttons[Find].text: "Find" -> "Search"',
    ]
    assert store.diff("Sales", "draft", "draft") == []
    reverse = store.diff("Sales", "draft", 1)
    assert {(c.kind, c.record) for c in reverse if c.entity == "action_calls" and c.field is None} == {
        ("removed", "Wave")
    }
    with pytest.raises(StoreError, match="not a version"):
        store.diff("Sales", 0, 1)


def test_a_moved_record_is_reported(store: ConfigStore) -> None:
    config = base()
    store.import_configuration(config, actor="ann")
    store.publish("Sales", actor="ann")
    moved = config.model_copy(update={"action_calls": list(reversed(config.action_calls))})
    store.import_configuration(moved, actor="ann")
    lines = format_diff(store.diff("Sales", 1, "draft")).splitlines()
    assert len(lines) == 1 and lines[0].startswith("~ action_calls ") and " position: " in lines[0]


def test_clone_copies_content_but_not_assignments(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    store.publish("Sales", actor="ann")
    store.add_user("dan", actor="ann")
    store.assign("Sales", user="dan", actor="ann")
    store.import_configuration(changed(), actor="ann")  # a draft: the clone takes the published one
    info = store.clone("Sales", "Sales EU", actor="eve")
    assert (info.configuration, info.state, info.created_by) == ("Sales EU", "draft", "eve")
    draft = store.draft("Sales EU")
    assert draft == base().model_copy(update={"name": "Sales EU"})
    assert info.content_hash == content_hash(draft)
    assert [a.configuration for a in store.assignments()] == ["Sales"]
    with pytest.raises(StoreError, match="already exists"):
        store.clone("Sales", "Sales EU", actor="eve")
    store.clone("Sales EU", "Sales EU 2", actor="eve")  # only a draft: the draft is copied
    assert store.draft("Sales EU 2") == base().model_copy(update={"name": "Sales EU 2"})


def test_lint_errors_refuse_an_import_and_leave_the_store_unchanged(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    store.publish("Sales", actor="ann")
    before = snapshot(store)
    broken = base().model_copy(update={"events": [*base().events, base().events[0]]})
    broken = broken.model_copy(update={"action_calls": [*broken.action_calls, broken.action_calls[0]]})
    with pytest.raises(StoreError) as info:
        store.import_configuration(broken, actor="ann")
    assert {i.code for i in info.value.issues} == {"USD102", "USD106"}
    assert "import of 'Sales' refused: 2 error(s)" in str(info.value)
    assert "USD102" in str(info.value)
    assert snapshot(store) == before


def test_lint_errors_refuse_a_publication(store: ConfigStore, store_url: str) -> None:
    config = base().model_copy(
        update={
            "action_calls": [
                *base().action_calls,
                base().action_calls[0].model_copy(update={"name": "Odd", "action": "Fly"}),
            ]
        }
    )
    store.import_configuration(config, actor="ann")  # no type metadata: actions are not checked
    types = {
        "GlobalManager": ControlType(frozenset({"CopyToContext"}), singleton=True),
        "StandardWebApplication": ControlType(frozenset({"Navigate"})),
        "ToolbarContainer": ControlType(),
    }
    with ConfigStore.open(store_url, control_types=types) as checked:
        before = snapshot(checked)
        with pytest.raises(StoreError, match="publication of 'Sales' refused") as info:
            checked.publish("Sales", actor="ann")
        assert [i.code for i in info.value.issues] == ["USD112"]
        assert snapshot(checked) == before


def test_an_interrupted_publication_leaves_nothing(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_configuration(base(), actor="ann")
    seq = store.change_seq()
    before = snapshot(store)

    def fail(*_: object, **__: object) -> int:
        raise RuntimeError("power cut")

    monkeypatch.setattr(audit, "record_change", fail)
    with pytest.raises(RuntimeError, match="power cut"):
        store.publish("Sales", actor="ann")
    assert snapshot(store) == before
    assert [v.state for v in store.versions("Sales")] == ["draft"]
    assert store.change_seq() == seq and "publish" not in [e.action for e in store.audit()]
    monkeypatch.undo()
    assert store.publish("Sales", actor="ann").number == 1


def test_an_interrupted_rollback_or_clone_leaves_nothing(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_configuration(base(), actor="ann")
    store.publish("Sales", actor="ann")
    store.import_configuration(changed(), actor="ann")
    store.publish("Sales", actor="ann")
    before = snapshot(store)

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record_audit", fail)
    with pytest.raises(RuntimeError):
        store.rollback("Sales", 1, actor="ann")
    with pytest.raises(RuntimeError):
        store.clone("Sales", "Other", actor="ann")
    monkeypatch.setattr(store_content, "write_content", fail)
    with pytest.raises(RuntimeError):
        store.import_configuration(changed().model_copy(update={"name": "New"}), actor="ann")
    assert snapshot(store) == before


def test_an_oversized_configuration_is_refused_before_anything_is_written(store: ConfigStore) -> None:
    store.import_configuration(base(), actor="ann")
    before = snapshot(store)
    huge = base().model_copy(update={"scriptlets": [Scriptlet(name="Huge", script="x" * 50_000_000)]})
    with pytest.raises(StoreError, match=r"is 50\.\d MB; the store takes up to \d+ MB"):
        store.import_configuration(huge, actor="ann")
    store.max_content_bytes = 1000
    with pytest.raises(StoreError, match="the store takes up to"):
        store.import_configuration(changed(), actor="ann")
    assert snapshot(store) == before
