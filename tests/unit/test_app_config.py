"""A broken configuration: a clear message naming file, line, record and field; the desktop still starts."""

from __future__ import annotations

from usd_desktop.app import load_config, os_user


def test_broken_configuration_falls_back_to_the_starter_with_messages(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: Broken\n"
        "hosted_controls:\n"
        "  - {name: Global Manager, type: GlobalManager}\n"
        "action_calls:\n"
        "  - name: Open\n"
        "    control: Global Manager\n"
        "    action: CopyToContext\n"
        "    order: soon\n",
        encoding="utf-8",
    )
    config, messages = load_config(bad)
    assert config.name == "Starter"
    assert len(messages) == 1
    assert f"{bad}:8" in messages[0] and 'action_calls[0] "Open"' in messages[0]
    assert "order" in messages[0]


def test_missing_configuration_path_is_reported(tmp_path):
    config, messages = load_config(tmp_path / "nowhere")
    assert config.name == "Starter" and messages and "nowhere" in messages[0]


def test_user_from_the_operating_system():
    user = os_user("someone-unknown")
    assert user["username"] == "someone-unknown" and user["firstname"] == "Someone-unknown"
