"""Loading YAML with file and line numbers; directory merge; the canonical dump."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usd_desktop.config.loader import (
    ConfigIssue,
    ConfigLoadError,
    dump_configuration,
    load_configuration,
    loads_configuration,
)
from usd_desktop.config.schema import ActionCall, Configuration, HostedControl, Location
from usd_desktop.core.errors import ConfigError

STARTER = textwrap.dedent(
    """\
    name: Starter
    description: The starter desktop
    options:
      maxNumberOfSessions: 3
      HideSessionCloseButton: yes
      DefaultZoomLevel: 0.30
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
        sort_order: 2
      - name: Contact
        type: StandardWebApplication
        is_global: false
        settings:
          url: https://crm.example.com/
          zoom: 1.5
    action_calls:
      - name: Open Contact
        control: Contact
        action: Navigate
        data: |
          url=https://crm.example.com/contact?id=[[contact.id]u]
          frame=main
        condition: '"[[contact.id]+]" != ""'
        sub_action_calls: [Focus Contact]
      - name: Focus Contact
        control: Global Manager
        action: ShowTab
        data: Contact
        order: 1
    events:
      - control: Global Manager
        name: SessionNew
        action_calls: [Open Contact]
    resources:
      no:
        Welcome: Velkommen
    """
)


def load_text(text: str, name: str = "controls.yaml") -> Configuration:
    return loads_configuration(textwrap.dedent(text), name)


def errors_of(text: str, name: str = "controls.yaml") -> list[ConfigIssue]:
    with pytest.raises(ConfigLoadError) as info:
        load_text(text, name)
    return info.value.errors


def test_loads_a_configuration() -> None:
    config = loads_configuration(STARTER)
    assert config.name == "Starter"
    assert config.control("Contact").settings == {"url": "https://crm.example.com/", "zoom": 1.5}
    assert config.action_call("Open Contact").data.splitlines()[1] == "frame=main"
    assert config.events_for("Global Manager")[0].action_calls == ["Open Contact"]


def test_option_setting_and_resource_text_is_kept_as_written() -> None:
    config = loads_configuration(STARTER)
    assert config.options == {
        "maxNumberOfSessions": "3",
        "HideSessionCloseButton": "yes",
        "DefaultZoomLevel": "0.30",
    }
    assert config.resources == {"no": {"Welcome": "Velkommen"}}  # not False


def test_a_mistake_names_file_line_record_and_field() -> None:
    [issue] = errors_of(
        """\
        name: T
        hosted_controls:
          - name: Contact
            type: StandardWebApplication
        action_calls:
          - name: Open Contact
            control: Contact
            action: Navigate
          - name: Close Contact
            control: Contact
            action: Close
            order: first
        """,
        "resources/starter/controls.yaml",
    )
    assert (issue.file, issue.line, issue.code, issue.severity) == (
        "resources/starter/controls.yaml",
        12,
        "USD003",
        "error",
    )
    assert issue.record == 'action_calls[1] "Close Contact"'
    assert issue.field == "order"
    assert str(issue).startswith(
        'resources/starter/controls.yaml:12: action_calls[1] "Close Contact" field order: '
    )
    assert "integer" in issue.message


def test_unknown_field_suggests_the_right_one() -> None:
    [issue] = errors_of(
        """\
        name: T
        action_calls:
          - name: A
            control: C
            action: Close
            conditon: "true"
        """
    )
    assert issue.line == 6 and issue.field == "conditon"
    assert "unknown field 'conditon' (did you mean 'condition'?)" in issue.message


def test_missing_field_points_at_the_record() -> None:
    [issue] = errors_of(
        """\
        name: T
        hosted_controls:
          - name: Global Manager
            type: GlobalManager
          - name: Contact
        """
    )
    assert (issue.line, issue.record, issue.field) == (5, 'hosted_controls[1] "Contact"', "type")
    assert issue.message == "required field is missing"


def test_nested_button_errors_name_the_whole_record_path() -> None:
    [issue] = errors_of(
        """\
        name: T
        toolbars:
          - name: Main
            container: Toolbars
            buttons:
              - name: More
                buttons:
                  - name: ""
        """
    )
    assert issue.line == 8
    assert issue.record == 'toolbars[0] "Main" buttons[0] "More" buttons[0]'
    assert issue.field == "name"


def test_every_error_is_reported_at_once() -> None:
    issues = errors_of(
        """\
        name: T
        hosted_controls:
          - {name: A, type: Debugger, sort_order: x}
          - {name: B, type: Debugger, panel: [1]}
        options:
          "": empty key
          Missing:
        """
    )
    assert [(i.line, i.field) for i in issues] == [
        (3, "sort_order"),
        (4, "panel"),
        (6, ""),
        (7, "Missing"),
    ]
    assert issues[2].record == "options" and "key ''" in issues[2].message


def test_duplicate_keys_are_errors() -> None:
    issues = errors_of(
        """\
        name: T
        action_calls:
          - name: A
            control: C
            action: Close
            action: Open
        name: U
        """
    )
    assert [(i.code, i.line) for i in issues] == [("USD002", 6), ("USD002", 7)]
    assert "duplicate key 'action' (first written on line 5)" in issues[0].message
    assert issues[0].record == "action_calls[0]" and issues[0].field == "action"


def test_duplicate_option_keys_are_errors_even_when_they_look_like_numbers() -> None:
    issues = errors_of("name: T\noptions:\n  '1': a\n  1: b\n")
    assert [(i.code, i.line) for i in issues] == [("USD002", 4)]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: T\nhosted_controls:\n  - name: [unclosed\n", 4, "YAML syntax"),
        ("name: T\n  bad indent: 1\n", 2, "YAML syntax"),
        ("- just\n- a list\n", 1, "top level must be a mapping"),
        ("name: !!python/object:os.system x\n", 1, "YAML syntax"),
        ("name: T\n---\nname: U\n", 2, "YAML syntax"),
    ],
)
def test_yaml_problems(text: str, line: int, words: str) -> None:
    [issue] = errors_of(text)
    assert issue.code == "USD001" and issue.line == line and words in issue.message


def test_empty_text_misses_the_name() -> None:
    [issue] = errors_of("")
    assert (issue.line, issue.field, issue.message) == (1, "name", "required field is missing")


def test_load_error_is_a_config_error_listing_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        load_text("name: T\nhosted_controls:\n  - {name: A}\n  - {type: B}\n", "x.yaml")
    text = str(info.value)
    assert text.splitlines() == [
        'x.yaml:3: hosted_controls[0] "A" field type: required field is missing',
        "x.yaml:4: hosted_controls[1] field name: required field is missing",
    ]
    assert info.value.location == 'x.yaml:3: hosted_controls[0] "A" field type'


def test_anchors_and_merge_keys() -> None:
    config = load_text(
        """\
        name: T
        hosted_controls:
          - &web {name: A, type: StandardWebApplication, is_global: false}
          - <<: *web
            name: B
        """
    )
    assert [(c.name, c.is_global) for c in config.hosted_controls] == [("A", False), ("B", False)]


def test_source_name_defaults() -> None:
    with pytest.raises(ConfigLoadError) as info:
        loads_configuration("name: [")
    assert info.value.errors[0].file == "<string>"


def test_block_scalar_positions() -> None:
    config = loads_configuration(STARTER, "s.yaml")
    data = config.action_call("Open Contact").data
    path = ("action_calls", 0, "data")
    assert config.locate(path) == Location("s.yaml", 21)
    assert config.locate(path, data.index("frame")) == Location("s.yaml", 23)
    assert config.locate(path, 0) == Location("s.yaml", 22)
    assert config.locate(("action_calls", 0, "condition"), 5) == Location("s.yaml", 24)
    assert config.locate(("action_calls", 1, "nothing")) == Location("s.yaml", 26)


# ---------------------------------------------------------------------------- directories
def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_directory_merges_sorted_recursively(tmp_path: Path) -> None:
    write(
        tmp_path / "a-main.yaml",
        """\
        name: Split
        options: {maxNumberOfSessions: 2}
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
        resources:
          en: {Hello: Hello}
        """,
    )
    write(
        tmp_path / "b" / "controls.yml",
        """\
        hosted_controls:
          - {name: Contact, type: StandardWebApplication}
        action_calls:
          - {name: Open, control: Contact, action: Navigate}
        options: {maxNumberOfSessions: 2, Other: x}
        resources:
          en: {Bye: Bye}
          fr: {Hello: Bonjour}
        """,
    )
    write(tmp_path / "c.yaml", "action_calls:\n  - {name: Close, control: Contact, action: Zap}\n")
    write(tmp_path / ".hidden" / "ignored.yaml", "name: Ignored\n")
    write(tmp_path / "notes.txt", "not yaml")
    config = load_configuration(tmp_path)
    assert config.name == "Split"
    assert [c.name for c in config.hosted_controls] == ["Global Manager", "Contact"]
    assert [c.name for c in config.action_calls] == ["Open", "Close"]
    assert config.options == {"maxNumberOfSessions": "2", "Other": "x"}
    assert config.resources == {"en": {"Hello": "Hello", "Bye": "Bye"}, "fr": {"Hello": "Bonjour"}}
    b = str(tmp_path / "b" / "controls.yml")
    assert config.locate(("hosted_controls", 1)) == Location(b, 2)
    assert config.locate(("action_calls", 1, "action")) == Location(str(tmp_path / "c.yaml"), 2)
    assert config.locate(("options", "Other")) == Location(b, 5)


def test_directory_errors_name_the_right_file(tmp_path: Path) -> None:
    write(tmp_path / "1.yaml", "name: Split\naction_calls:\n  - {name: A, control: C, action: X}\n")
    write(tmp_path / "2.yaml", "action_calls:\n  - {name: B, control: C}\n")
    with pytest.raises(ConfigLoadError) as info:
        load_configuration(tmp_path)
    [issue] = info.value.errors
    assert (issue.file, issue.line) == (str(tmp_path / "2.yaml"), 2)
    assert issue.record == 'action_calls[1] "B"' and issue.field == "action"


def test_directory_conflicts(tmp_path: Path) -> None:
    write(tmp_path / "1.yaml", "name: One\noptions: {A: '1'}\n")
    write(tmp_path / "2.yaml", "name: Two\noptions: {A: '2'}\n")
    with pytest.raises(ConfigLoadError) as info:
        load_configuration(tmp_path)
    issues = info.value.errors
    assert [(i.code, i.file, i.line, i.field) for i in issues] == [
        ("USD004", str(tmp_path / "2.yaml"), 1, "name"),
        ("USD004", str(tmp_path / "2.yaml"), 2, "A"),
    ]
    assert "'Two' here but 'One' in an earlier file" in issues[0].message


def test_directory_same_name_twice_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "1.yaml", "name: One\n")
    write(tmp_path / "2.yaml", "name: One\ndescription: d\n")
    assert load_configuration(tmp_path).description == "d"


def test_missing_and_empty_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigLoadError, match="no such file or directory"):
        load_configuration(tmp_path / "nope.yaml")
    with pytest.raises(ConfigLoadError, match=r"no \.yaml or \.yml files"):
        load_configuration(tmp_path)
    (tmp_path / "bad.yaml").write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigLoadError, match="cannot read") as info:
        load_configuration(tmp_path / "bad.yaml")
    assert info.value.errors[0].code == "USD005"


def test_load_a_single_file(tmp_path: Path) -> None:
    write(tmp_path / "starter.yaml", STARTER)
    config = load_configuration(str(tmp_path / "starter.yaml"))
    assert config == loads_configuration(STARTER)
    assert config.locate(("events", 0)) == Location(str(tmp_path / "starter.yaml"), 32)


# ---------------------------------------------------------------------------- dump
def test_dump_reads_well() -> None:
    text = dump_configuration(loads_configuration(STARTER))
    assert text.startswith("name: Starter\n\ndescription: The starter desktop\n\noptions:\n")
    assert "  maxNumberOfSessions: 3\n  HideSessionCloseButton: yes\n" in text
    assert "    data: |\n      url=https://crm.example.com/contact?id=[[contact.id]u]\n" in text
    assert "sort_order: 2" in text
    assert "panel:" not in text and "is_global: true" not in text  # defaults omitted
    assert "    is_global: false\n" in text
    assert "resources:\n  no:\n    Welcome: Velkommen\n" in text
    assert "&" not in text and "*" not in text
    assert "    sub_action_calls: [Focus Contact]\n" in text  # short lists stay on one line


def test_dump_round_trip_and_stability() -> None:
    first = loads_configuration(STARTER)
    text = dump_configuration(first)
    again = loads_configuration(text)
    assert again == first
    assert dump_configuration(again) == text


def test_dump_keeps_schema_key_order() -> None:
    config = Configuration(
        name="T",
        action_calls=[ActionCall(name="A", control="C", action="X", order=2, data="d")],
        hosted_controls=[HostedControl(name="C", type="Debugger")],
    )
    text = dump_configuration(config)
    assert text.index("hosted_controls") < text.index("action_calls")
    assert "  - name: A\n    control: C\n    action: X\n    data: d\n    order: 2\n" in text


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
keys = texts.filter(lambda s: s.strip() == s != "" and "\n" not in s and "\r" not in s)
scalars = st.one_of(texts, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.one_of(scalars, st.lists(scalars, max_size=4))
names = st.lists(keys.filter(str.isprintable), max_size=4)


def assert_round_trip(config: Configuration) -> None:
    text = dump_configuration(config)
    again = loads_configuration(text)
    assert again == config
    assert dump_configuration(again) == text
    assert "\n...\n" not in text


@pytest.mark.parametrize("text", ["\x85", "\n", "a\n\n", "\u2028x", "a\r\nb", " lead\n", "~"])
def test_awkward_text_survives_a_round_trip(text: str) -> None:
    assert_round_trip(
        Configuration(
            name="T",
            options={"k": text},
            action_calls=[ActionCall(name="A", control="C", action="X", data=text)],
        )
    )


@settings(max_examples=200, deadline=None)
@given(data=texts, option=texts, key=keys, setting=st.dictionaries(keys, values, max_size=3))
def test_any_text_survives_a_round_trip(data: str, option: str, key: str, setting: dict[str, object]) -> None:
    assert_round_trip(
        Configuration(
            name="T",
            options={key: option},
            resources={"no": {key: data}},
            hosted_controls=[HostedControl(name="C", type="D", settings=setting)],
            action_calls=[ActionCall(name="A", control="C", action="X", data=data, condition=option)],
        )
    )


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:

    from usd_desktop.config.loader import MAX_FILE_BYTES, ConfigLoadError, load_configuration

    big = tmp_path / "big.yaml"
    with big.open("w", encoding="utf-8") as handle:
        handle.write("name: Big\ndescription: |\n")
        line = "  " + "x" * 1022 + "\n"
        for _ in range(MAX_FILE_BYTES // len(line) * 3):  # about 50 MB
            handle.write(line)
    with pytest.raises(ConfigLoadError) as caught:
        load_configuration(big)
    assert "limited to 16 MB" in str(caught.value) and str(big) in str(caught.value)
