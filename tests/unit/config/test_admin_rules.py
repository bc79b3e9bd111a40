"""usd-admin rules test / rules list: the walkthrough configuration's decisions, from a file and from
the store, --param, --json, warnings and exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli

runner = CliRunner()

WALKTHROUGH = Path(__file__).resolve().parents[1] / "core" / "walkthrough_rules.yaml"
ACCOUNT_URL = "https://crm.test/main.aspx?etn=account&id={0A1B2C3D-0000-4000-8000-000000000001}&pagetype=entityrecord"
CONTACT_URL = "https://crm.test/main.aspx?etn=contact&id={0A1B2C3D-0000-4000-8000-000000000002}"
SESSION_RULE = "Account from search starts a session"


def run(*args: str) -> Any:
    return runner.invoke(admin_cli.app, ["rules", *args])


def walkthrough(*args: str) -> Any:
    """``rules test`` on the walkthrough configuration."""
    return run("test", str(WALKTHROUGH), *args)


def outcome(result: Any) -> str:
    return str(result.stdout.splitlines()[-1])


# The same navigations as tests/unit/core/test_navigation_walkthrough.py, through the command.
CASES = {
    "account from the search": (
        ["--from", "Account Search", "--url", ACCOUNT_URL],
        "→ Create Session, target tab Global Manager (the Global Manager as target: the session is "
        f"created, then the rules are evaluated again without '{SESSION_RULE}'); action calls: Note the new session",
    ),
    "the second evaluation": (
        ["--from", "Account Search", "--url", ACCOUNT_URL, "--skip", SESSION_RULE],
        "→ Route Window, target tab Account, show tab Account, hide the navigation bar",
    ),
    "account inside the session": (
        ["--from", "Web", "--url", ACCOUNT_URL],
        "→ Route Window, target tab Account, show tab Account, hide the navigation bar",
    ),
    "a tel: link": (
        ["--from", "Account", "--url", "tel:+358401234567"],
        "→ None: the navigation is blocked; action calls: Dial the number",
    ),
    "bing": (
        ["--from", "Web", "--url", "https://www.bing.com/search?q=usd"],
        "→ Show Outside: the page opens in an unmanaged window",
    ),
    "bing kept inside": (
        ["--from", "Web", "--url", "https://www.bing.com/search?q=usd", "--param", "$Context.KeepInside=yes"],
        "→ Route Window, target tab Web, show tab Web",
    ),
    "a contact": (
        ["--from", "Account Search", "--url", CONTACT_URL],
        "→ Route Window, target tab Web, show tab Web",
    ),
    "in place": (
        ["--from", "Account", "--url", ACCOUNT_URL, "--route-type", "in_place"],
        "→ no rule matched: the page opens where it was requested",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rules_test_prints_the_decision(case: str) -> None:
    args, expected = CASES[case]
    result = walkthrough(*args)
    assert result.exit_code == 0, result.output
    assert outcome(result) == expected
    assert result.stdout.startswith("Navigation: ")
    assert result.stderr == ""


def test_rules_test_explains_every_rule_tried() -> None:
    result = walkthrough("--from", "Account Search", "--url", ACCOUNT_URL, "--skip", SESSION_RULE)
    assert result.stdout.splitlines() == [
        f"Navigation: popup from Account Search to {ACCOUNT_URL} (entity account, "
        "record 0A1B2C3D-0000-4000-8000-000000000001)",
        f"✗ Phone links dial (order 5): url: {ACCOUNT_URL} does not match tel:*",
        f"✗ {SESSION_RULE} (order 10): skip: left out of this evaluation (the rule that just created "
        "the session)",
        "✓ Account pages to the Account tab (order 20): route_type: popup; entity: account",
        "→ Route Window, target tab Account, show tab Account, hide the navigation bar",
    ]


def test_entity_and_id_options_override_the_url() -> None:
    result = walkthrough("--from", "Account Search", "--url", "https://crm.test/custom", "--entity", "Account",
                  "--id", "42", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["navigation"]["entity"], out["navigation"]["record_id"]) == ("Account", "42")
    assert (out["rule"], out["action"], out["target_tab"]) == (SESSION_RULE, "create_session", "Global Manager")
    cleared = json.loads(walkthrough("--from", "Account Search", "--url", ACCOUNT_URL, "--entity", "", "--json").stdout)
    assert cleared["navigation"]["entity"] is None and cleared["rule"] == "Any other pop-up to Web"


def test_json_output() -> None:
    result = walkthrough("--from", "Account", "--url", "tel:+358401234567", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rule"] == "Phone links dial" and out["action"] == "none"
    assert out["action_calls"] == ["Dial the number"]
    assert out["checks"] == [{"rule": "Phone links dial", "order": 5, "matched": True, "field": "",
                              "reason": "route_type: popup; url: tel:+358401234567 matches tel:*"}]


def test_params_reach_global_sections_too(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""\
        name: Params
        options: {Routing: "on"}
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
          - {name: Web, type: StandardWebApplication}
        window_navigation_rules:
          - name: Guarded
            condition: '"[[$Global.Routing]]" == "on" && "[[$Global.Extra]]" == "x" && [[$Context.n]] == 3'
            target_tab: Web
        """), encoding="utf-8")
    base = ["test", str(path), "--from", "Web", "--url", "https://x.test"]
    result = run(*base, "--param", "$Context.n=3", "--param", "$Global.Extra=x")
    assert result.exit_code == 0, result.output
    assert outcome(result) == "→ Route Window, target tab Web"
    result = run(*base, "--param", "$Context.n=3")
    assert "[[$Global.Extra]] has no value" in result.stdout
    assert outcome(result).startswith("→ no rule matched")


def test_an_unknown_from_control_is_only_a_warning() -> None:
    result = walkthrough("--from", "Softphone", "--url", "tel:+1")
    assert result.exit_code == 0
    assert "warning: Walkthrough rules has no hosted control 'Softphone'" in result.stderr
    assert outcome(result) == "→ None: the navigation is blocked; action calls: Dial the number"


def test_skipping_an_unknown_rule_is_a_warning() -> None:
    result = walkthrough("--from", "Account", "--url", "tel:+1", "--skip", "Phone links")
    assert result.exit_code == 0
    assert "--skip 'Phone links': Walkthrough rules has no window navigation rule of that name" in result.stderr
    assert outcome(result) == "→ None: the navigation is blocked; action calls: Dial the number"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "Web", "--param", "nodot=1"], "--param wants root.name=value"),
        (["--from", "Web", "--param", "$Context.a"], "--param wants root.name=value"),
        (["--from", "Web", "--param", ".a=1"], "--param wants root.name=value"),
        (["--from", "Web", "--param", "$Context.=1"], "--param wants root.name=value"),
        (["--url", "https://x.test"], "--from CONTROL is required"),
        (["--from", "Web", "--route-type", "popups"], "--route-type"),
        (["--from", "Web", "--config", "Other"], "not both"),
        (["--from", "Web", "--store", "sqlite:///x.db"], "--store goes with --config"),
    ],
)
def test_bad_input_exits_two(args: list[str], message: str) -> None:
    result = walkthrough(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_configuration_is_required() -> None:
    result = run("test", "--from", "Web")
    assert result.exit_code == 2 and "a PATH or --config NAME" in result.output


def test_a_missing_or_broken_path_exits_two(tmp_path: Path) -> None:
    result = run("test", str(tmp_path / "none.yaml"), "--from", "Web")
    assert result.exit_code == 2 and "no such file or directory" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: B\nhosted_controls: [\n", encoding="utf-8")
    result = run("test", str(broken), "--from", "Web")
    assert result.exit_code == 2 and str(broken) in result.output


# ---------------------------------------------------------------------- from the store
@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(admin_cli.app, ["store", "init", "--store", url]).exit_code == 0
    return url


def test_rules_test_reads_the_latest_version_from_the_store(store_url: str, tmp_path: Path) -> None:
    imported = runner.invoke(admin_cli.app, ["import", str(WALKTHROUGH), "--publish", "--store", store_url])
    assert imported.exit_code == 0, imported.output
    # v2 moves the tel: rule after the catch-all, so the catch-all takes phone links.
    text = WALKTHROUGH.read_text(encoding="utf-8").replace("order: 5\n", "order: 5000\n")
    v2 = tmp_path / "v2.yaml"
    v2.write_text(text, encoding="utf-8")
    assert runner.invoke(admin_cli.app, ["import", str(v2), "--publish", "--store", store_url]).exit_code == 0
    result = run("test", "--config", "Walkthrough rules", "--store", store_url, "--from", "Account",
                 "--url", "tel:+358401234567")
    assert result.exit_code == 0, result.output
    assert "configuration Walkthrough rules v2" in result.stderr
    assert outcome(result) == "→ Route Window, target tab Web, show tab Web"
    for args, expected in CASES.values():
        if "tel:" not in " ".join(args):
            same = run("test", "--config", "Walkthrough rules", "--store", store_url, *args)
            assert outcome(same) == expected


def test_a_draft_only_configuration_is_tried_with_a_warning(store_url: str) -> None:
    assert runner.invoke(admin_cli.app, ["import", str(WALKTHROUGH), "--store", store_url]).exit_code == 0
    result = run("test", "--config", "Walkthrough rules", "--store", store_url, "--from", "Account",
                 "--url", "tel:1")
    assert result.exit_code == 0, result.output
    assert "has no published version; trying the rules of its draft" in result.stderr
    assert outcome(result) == "→ None: the navigation is blocked; action calls: Dial the number"


def test_an_unknown_configuration_exits_two(store_url: str) -> None:
    result = run("test", "--config", "Nope", "--store", store_url, "--from", "Web")
    assert result.exit_code == 2
    assert "no configuration named 'Nope'" in result.output


# ---------------------------------------------------------------------- rules list
def test_rules_list_in_evaluation_order() -> None:
    result = run("list", str(WALKTHROUGH))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "   5  popup       Phone links dial: url=tel:* → none action_calls=Dial the number",
        f"  10  popup       {SESSION_RULE}: from_control=Account Search entity=account → create_session "
        "target_tab=Global Manager action_calls=Note the new session",
        "  20  popup       Account pages to the Account tab: entity=account → route_window "
        "target_tab=Account show_tab=Account",
        '  50  popup       Search engines outside: url=*bing.com* condition="[[$Context.KeepInside]+]" != "yes" '
        "→ show_outside",
        "1000  popup       Any other pop-up to Web: url=* → route_window target_tab=Web show_tab=Web",
    ]


def test_rules_list_warns_under_shadowed_rules(tmp_path: Path) -> None:
    path = tmp_path / "shadowed.yaml"
    path.write_text(textwrap.dedent("""\
        name: Shadowed
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
          - {name: Web, type: StandardWebApplication}
        window_navigation_rules:
          - {name: Bing, order: 10, url: bing.com, target_tab: Web}
          - {name: Everything, order: 1, url: '*', target_tab: Web}
          - {name: Guarded, order: 0, condition: 'false', target_tab: Web}
          - {name: In place, order: 20, route_type: in_place, target_tab: Web}
          - name: Calls
            from_control: Global Manager
            cti: {initiating_activity: phonecall}
        """), encoding="utf-8")
    result = run("list", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(" 0  popup       Guarded: condition=false → route_window")
    assert lines[1].startswith(" 0  cti         Calls: from_control=Global Manager → CTI rule for phonecall")
    assert lines[2].startswith(" 1  popup       Everything: url=*")
    assert lines[3].startswith("10  popup       Bing: url=bing.com")
    assert lines[4] == "    warning: unreachable: rule 'Everything' (order 1) always matches first"
    assert lines[5].startswith("20  in_place    In place:")
    assert len(lines) == 6  # the guarded rule has a condition, so it shadows nothing


def test_rules_list_of_a_configuration_without_rules(tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    path.write_text("name: Empty\nhosted_controls:\n  - {name: Global Manager, type: GlobalManager}\n",
                    encoding="utf-8")
    result = run("list", str(path))
    assert result.exit_code == 0 and result.stdout == "Empty has no window navigation rules\n"


def test_rules_list_reads_the_store(store_url: str) -> None:
    assert runner.invoke(admin_cli.app, ["import", str(WALKTHROUGH), "--publish", "--store", store_url]).exit_code == 0
    result = run("list", "--config", "Walkthrough rules", "--store", store_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith("Phone links dial: url=tel:* → none action_calls=Dial the number")
