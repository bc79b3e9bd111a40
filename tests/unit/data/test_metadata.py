"""Entity metadata made from the models; the data layer stays Qt-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import ENTITIES, MODELS, build_entities, entity


def test_every_entity_has_fields_labels_and_a_primary_name() -> None:
    assert set(ENTITIES) == set(MODELS)
    for meta in ENTITIES.values():
        assert meta.fields["id"].read_only and meta.primary_name in meta.fields
        assert all(f.label for f in meta.fields.values())


def test_types_required_options_lookups() -> None:
    case = entity("case")
    assert case.fields["title"].required and not case.fields["description"].required
    assert not case.fields["status"].required  # it has a default
    assert case.fields["status"].options == ("open", "resolved", "closed", "needs_follow_up")
    assert case.fields["due_at"].type == "datetime" and case.fields["escalation_level"].type == "integer"
    assert case.fields["contact_id"].type == "lookup" and case.fields["contact_id"].lookup == "contact"
    assert entity("interaction").fields["first_contact_resolution"].type == "boolean"
    assert entity("interaction").fields["channel"].options == ("phone", "email", "chat", "sms", "web")
    assert entity("contact").fields["birth_date"].type == "date"
    assert entity("phone").fields["e164"].read_only
    assert entity("note").fields["body"].type == "text"


def test_extra_options() -> None:
    entities = build_entities({"case": {"status": ["waiting", "open"]}})
    assert entities["case"].fields["status"].options[-1] == "waiting"
    assert ENTITIES["case"].fields["status"].options[-1] == "needs_follow_up"
    with pytest.raises(DataError, match="'casse'"):
        build_entities({"casse": {"status": ["x"]}})
    with pytest.raises(DataError, match=r"'state'.*'case'"):
        build_entities({"case": {"state": ["x"]}})


def test_unknown_names() -> None:
    with pytest.raises(DataError, match="unknown entity 'incident'"):
        entity("incident")
    with pytest.raises(DataError, match="entity 'case' has no field 'subject'"):
        entity("case").field("subject")


def test_the_data_layer_imports_no_qt() -> None:
    code = (
        "import sys, usd_desktop.data.repository, usd_desktop.data.demo, usd_desktop.data.search;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
