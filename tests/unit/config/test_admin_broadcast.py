"""usd-admin broadcast: send, list and expire broadcast messages in the data database (SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from usd_desktop import admin_cli
from usd_desktop.data.repository import SqlRepository
from usd_desktop.hosted_controls.broadcasts import active_broadcasts

runner = CliRunner()


def test_send_list_and_expire(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    sent = runner.invoke(admin_cli.app, ["broadcast", "send", "--title", "Outage", "--body", "CRM is down",
                                         "--audience", "queue:billing", "--severity", "critical",
                                         "--sender", "sam", "--data", url])
    assert sent.exit_code == 0, sent.output
    new_id = sent.stdout.strip()
    with SqlRepository(url) as repo:
        record = repo.get("broadcast", new_id)
        assert record is not None
        assert (record["title"], record["body"], record["audience"], record["severity"], record["sender"]) == (
            "Outage", "CRM is down", "queue:billing", "critical", "sam")
        assert record["expires_at"] is not None
        assert [m.id for m in active_broadcasts(repo, datetime.now(UTC), ["billing"])] == [new_id]
    listed = runner.invoke(admin_cli.app, ["broadcast", "list", "--data", url])
    assert listed.exit_code == 0 and new_id in listed.stdout and "Outage" in listed.stdout
    expired = runner.invoke(admin_cli.app, ["broadcast", "expire", new_id, "--data", url])
    assert expired.exit_code == 0, expired.output
    with SqlRepository(url) as repo:
        assert active_broadcasts(repo, datetime.now(UTC), None) == []
    missing = runner.invoke(admin_cli.app, ["broadcast", "expire", "nope", "--data", url])
    assert missing.exit_code == 1 and "no broadcast 'nope'" in missing.stderr


def test_never_expiring_and_bad_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    ok = runner.invoke(admin_cli.app, ["broadcast", "send", "--title", "Welcome", "--expires-minutes", "0",
                                       "--data", url])
    assert ok.exit_code == 0, ok.output
    with SqlRepository(url) as repo:
        assert repo.get("broadcast", ok.stdout.strip())["expires_at"] is None  # type: ignore[index]
    for args, words in [(["--title", " "], "needs a title"), (["--title", "x", "--audience", "team"], "audience"),
                        (["--title", "x", "--severity", "loud"], "severity")]:
        bad = runner.invoke(admin_cli.app, ["broadcast", "send", *args, "--data", url])
        assert bad.exit_code == 2 and words in bad.stderr
