"""The acceptance configuration of usd-reference §5 (tests/unit/core/walkthrough_rules.yaml) on the
real desktop, and the same navigations through `usd-admin rules test`: the desktop routes each one
as the command explains it. A pop-up from the account search creates an account session (the Global
Manager re-evaluation routes the page into its Account tab), a tel: link is blocked and its action
call runs, search engines open outside, and the catch-all sends any other pop-up to the Web tab."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.gui.support import close_shell, open_shell
from usd_desktop.admin_cli import app as admin
from usd_desktop.core.navigation import Navigation
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.hosted_controls.qt.web_application import StandardWebApplication
from usd_desktop.shell.host import QtDesktopHost
from usd_desktop.testing import make_data_services, until

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(r"^QRhiGles2: Failed to create", r"^Failed to create RHI for backend: OpenGL",
                              r"^GPUInfo not initialized on GpuInfoUpdate", extend=True),
]
CONFIG = Path(__file__).resolve().parents[1] / "unit" / "core" / "walkthrough_rules.yaml"
PAGE = "data:text/html,<title>news</title><p>news</p>"


def explained(*args: str) -> str:
    """`usd-admin rules test` on the same configuration: its outcome line."""
    result = CliRunner().invoke(admin, ["rules", "test", str(CONFIG), *args])
    assert result.exit_code == 0, result.output
    return result.output


@asynccontextmanager
async def walkthrough(tmp_path: Path) -> AsyncIterator[tuple[Desktop, QtDesktopHost, str]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    account = services.repository.create("account", {"name": "Contoso"})
    desktop, window, host = await open_shell(CONFIG.read_text(encoding="utf-8"), data=services)
    try:
        yield desktop, host, account
    finally:
        for outside in host.outside_windows:
            outside.close()
        await close_shell(desktop, window, host)
        services.close()


async def test_the_walkthrough_rules_on_the_desktop_and_in_the_command(tmp_path: Path) -> None:
    async with walkthrough(tmp_path) as (desktop, host, account):
        glob = desktop.sessions.global_session
        url = f"https://crm.test/main.aspx?etn=account&id={{{account}}}"

        # 1. a search pop-up creates an account session, then the page goes to its Account tab
        outcome = await desktop.router.route(Navigation.of_url("Account Search", url), glob)
        first, second = (d.rule.name for d in outcome.decisions)
        assert "→ Create Session, target tab Global Manager" in explained("--from", "Account Search", "--url", url)
        assert f"✓ {first} (order 10)" in explained("--from", "Account Search", "--url", url)
        again = explained("--from", "Account Search", "--url", url, "--skip", first)
        assert f"✓ {second} (order 20)" in again and "→ Route Window, target tab Account" in again
        session = desktop.sessions.get(outcome.session_id)
        assert session is not None and desktop.sessions.active is session and session.entity == "account"
        form = desktop.instance("Account", session)
        assert isinstance(form, EntityForm)
        await until(lambda: form.record_id == account, "the account opened in its session")
        assert session.store.get("account", "name") == "Contoso"
        assert session.store.get("$Context", "OpenedFrom") == "Account Search"

        # 2. a tel: link is blocked; its action call hands the number on
        tel = await desktop.router.route(Navigation.of_url("Web", "tel:+358401234567"), session)
        assert tel.action == "none" and session.store.get("$Context", "DialNumber") == "tel:+358401234567"
        assert "→ None: the navigation is blocked" in explained("--from", "Web", "--url", "tel:+358401234567")

        # 3. search engines open outside, unless the session keeps them inside
        bing = "https://www.bing.com/search?q=usd"
        outside = await desktop.router.route(Navigation.of_url("Web", bing), session)
        assert outside.action == "show_outside" and len(host.outside_windows) == 1
        assert "→ Show Outside" in explained("--from", "Web", "--url", bing)
        session.store.set("$Context", "KeepInside", "yes")
        inside = await desktop.router.route(Navigation.of_url("Web", PAGE), session)
        assert inside.decisions[-1].rule.name == "Any other pop-up to Web", inside.problems
        assert not inside.problems and inside.target == "Web", inside.problems
        assert "✗ Search engines outside (order 50): condition false" in explained(
            "--from", "Web", "--url", bing, "--param", "$Context.KeepInside=yes")

        # 4. the catch-all: any other pop-up goes to the session's Web tab
        web = desktop.instance("Web", session)
        assert isinstance(web, StandardWebApplication)
        await until(lambda: (web.session_state() or {}).get("url", "").startswith("data:text/html"),
                    "the page in the Web tab")
        assert "→ Route Window, target tab Web" in explained("--from", "Account", "--url", PAGE)
