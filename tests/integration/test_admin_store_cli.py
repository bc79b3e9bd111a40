"""usd-admin against a store: bad input leaves it unchanged; export/import/export is byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli
from usd_desktop.config.store import ConfigStore
from usd_desktop.core.paths import resources_dir

runner = CliRunner()

GOOD = """\
name: Small
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
action_calls:
  - {name: Hello, control: Global Manager, action: DisplayMessage, data: Hello}
"""

BAD = {
    "malformed YAML": ("name: Small\nhosted_controls: [\n", 2),
    "wrong type": (GOOD.replace("action_calls:", "options: {a: 1}\naction_calls:").replace(
        "data: Hello", "data: Hello, order: soon"), 2),
    "unknown field": (GOOD.replace("type: GlobalManager", "type: GlobalManager, colour: red"), 2),
    "dangling reference": (GOOD + "events:\n  - {control: Global Manager, name: DesktopReady, "
                           "action_calls: [Nowhere]}\n", 1),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_clear_error_and_leaves_the_store_unchanged(store_url, tmp_path, case):
    text, code = BAD[case]
    assert runner.invoke(admin_cli.app, ["store", "init", "--store", store_url]).exit_code == 0
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert runner.invoke(admin_cli.app, ["import", str(good), "--publish", "--store", store_url]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(admin_cli.app, ["import", str(bad), "--publish", "--store", store_url])
    assert result.exit_code == code, result.output
    assert str(bad) in result.output or "Nowhere" in result.output  # names the file or the record
    with ConfigStore.open(store_url) as store:
        assert [v.number for v in store.versions("Small")] == [1]
        assert store.draft("Small") is None


def test_export_import_export_is_byte_identical(store_url, tmp_path):
    starter = resources_dir() / "starter"
    assert runner.invoke(admin_cli.app, ["store", "init", "--store", store_url]).exit_code == 0
    assert runner.invoke(admin_cli.app, ["import", str(starter), "--publish", "--store", store_url]).exit_code == 0
    first = tmp_path / "first.yaml"
    second = tmp_path / "second.yaml"
    assert runner.invoke(admin_cli.app, ["export", "Starter", "--out", str(first), "--store", store_url]).exit_code == 0
    clone = first.read_text(encoding="utf-8").replace("name: Starter", "name: Starter copy", 1)
    copy = tmp_path / "copy.yaml"
    copy.write_text(clone, encoding="utf-8")
    assert runner.invoke(admin_cli.app, ["import", str(copy), "--publish", "--store", store_url]).exit_code == 0
    assert runner.invoke(admin_cli.app, ["export", "Starter copy", "--out", str(second),
                                         "--store", store_url]).exit_code == 0
    assert second.read_bytes() == copy.read_bytes()


def test_a_missing_store_needs_init(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = runner.invoke(admin_cli.app, ["list", "--store", url])
    assert result.exit_code == 3 and "does not exist" in result.output


def test_an_unreachable_store_exits_three(tmp_path: Path):
    result = runner.invoke(admin_cli.app, ["list", "--store", "postgresql+psycopg://u@127.0.0.1:1/x"])
    assert result.exit_code == 3 and "cannot reach the store" in result.output
