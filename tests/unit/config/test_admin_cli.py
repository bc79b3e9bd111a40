"""usd-admin: exit codes, output, plugin degradation."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli
from usd_desktop.config.loader import dump_configuration, load_configuration
from usd_desktop.config.reference import render_reference

runner = CliRunner()

CLEAN = """\
name: CLI
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Contact, type: StandardWebApplication}
action_calls:
  - name: Open
    control: Contact
    action: Navigate
    data: url=https://example.com
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(*args: str) -> Any:
    return runner.invoke(admin_cli.app, list(args))


def test_validate_clean(tmp_path: Path) -> None:
    result = run("validate", str(write(tmp_path, CLEAN)), "--types", "none")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "0 error(s), 0 warning(s)" in result.stderr


def test_validate_warnings_exit_zero(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN + "options:\n  maxNumberOfSessions: 9\n")
    result = run("validate", str(path), "--types", "none")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{path}:11: options field maxNumberOfSessions: 9 sessions; USD's best-practice "
        "analyser wants 1 to 5 [warning USD144]\n"
    )


def test_validate_errors_exit_one(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN.replace("control: Contact", "control: Contacts"))
    result = run("validate", str(path), "--types", "none")
    assert result.exit_code == 1
    assert f'{path}:7: action_calls[0] "Open" field control: no hosted control' in result.stdout
    assert "[error USD111]" in result.stdout


def test_validate_load_errors_exit_one(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN + "  - name: Broken\n    control: Contact\n")
    result = run("validate", str(path), "--types", "none")
    assert result.exit_code == 1
    assert result.stdout == (
        f'{path}:10: action_calls[1] "Broken" field action: required field is missing [error USD003]\n'
    )
    assert "Traceback" not in result.output


def test_validate_bad_input_exits_two(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr
    result = run("validate", str(write(tmp_path, CLEAN)), "--types", "everything")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)


@dataclass
class FakeType:
    name: str
    actions: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    singleton: bool = False
    all_actions: frozenset[str] = field(default_factory=frozenset)


@dataclass
class FakeEntryPoint:
    name: str
    obj: object
    value: str = "somewhere:THING"

    def load(self) -> object:
        if isinstance(self.obj, Exception):
            raise self.obj
        return self.obj


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, *eps: FakeEntryPoint) -> None:
    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        assert group == "usd_desktop.hosted_controls"
        return list(eps)

    monkeypatch.setattr(admin_cli, "entry_points", entry_points)


def test_validate_with_builtin_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        FakeEntryPoint("GlobalManager", FakeType("GlobalManager", singleton=True)),
        FakeEntryPoint(
            "StandardWebApplication",
            FakeType(
                "StandardWebApplication",
                actions=frozenset({"Navigate"}),
                all_actions=frozenset({"Navigate", "Close"}),
            ),
        ),
    )
    path = write(tmp_path, CLEAN)
    assert run("validate", str(path)).exit_code == 0
    path = write(tmp_path, CLEAN.replace("Navigate", "close"))  # a common action
    assert run("validate", str(path)).exit_code == 0
    path = write(tmp_path, CLEAN.replace("Navigate", "Navigat"))
    result = run("validate", str(path), "--types", "builtin")
    assert result.exit_code == 1
    assert "did you mean 'Navigate'?" in result.stdout and "[error USD112]" in result.stdout
    assert run("validate", str(path), "--types", "none").exit_code == 0


def test_broken_plugin_is_reported_and_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        FakeEntryPoint("GlobalManager", FakeType("GlobalManager", singleton=True)),
        FakeEntryPoint("StandardWebApplication", ImportError("no module named nowhere")),
        FakeEntryPoint("Odd", object()),  # lacks the attributes
    )
    path = write(tmp_path, CLEAN.replace("Navigate", "Anything"))
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "'StandardWebApplication'" in result.stderr and "no module named nowhere" in result.stderr
    assert "warning: hosted-control type 'Odd'" in result.stderr


def test_no_plugins_at_all_degrades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(monkeypatch)
    result = run("validate", str(write(tmp_path, CLEAN)))
    assert result.exit_code == 0
    assert "no hosted-control types are installed" in result.stderr
    fake_entry_points(monkeypatch, FakeEntryPoint("X", RuntimeError("boom")))
    result = run("validate", str(write(tmp_path, CLEAN)))
    assert result.exit_code == 0
    assert "no hosted-control types could be loaded" in result.stderr


def test_validate_a_directory(tmp_path: Path) -> None:
    write(tmp_path, CLEAN, "a.yaml")
    write(tmp_path, "name: Other\n", "b.yaml")
    result = run("validate", str(tmp_path), "--types", "none")
    assert result.exit_code == 1
    assert f"{tmp_path / 'b.yaml'}:1: field name: " in result.stdout


def test_format(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN)
    result = run("format", str(path))
    assert result.exit_code == 0
    assert result.stdout == dump_configuration(load_configuration(path))
    assert "data: url=https://example.com\n" in result.stdout


def test_format_bad_input_exits_two(tmp_path: Path) -> None:
    result = run("format", str(write(tmp_path, "name: [\n")))
    assert result.exit_code == 2
    assert "YAML syntax" in result.stderr and "[error USD001]" in result.stderr
    result = run("format", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "no such file or directory" in result.stderr


def test_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Configuration" and "HostedControl" in schema["$defs"]


def test_reference() -> None:
    result = run("reference")
    assert result.exit_code == 0
    assert result.stdout == render_reference()


def test_no_command_shows_help() -> None:
    result = run()
    assert result.exit_code == 2
    assert "validate" in result.output


def test_main_is_the_console_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["usd-admin", "schema"])
    with pytest.raises(SystemExit) as info:
        admin_cli.main()
    assert info.value.code == 0
