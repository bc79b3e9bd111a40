"""The composition root: settings, configuration, runtime, plugins; then Qt and the qasync loop.

Only this module and :mod:`usd_desktop.shell` create the QApplication or the event loop.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usd_desktop.config.loader import ConfigLoadError, load_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.core.paths import resources_dir, user_config_dir, user_log_dir
from usd_desktop.core.trace import TraceJournal
from usd_desktop.hosted_controls.base import SettingsStore
from usd_desktop.hosted_controls.desktop import Desktop, JsonSettingsStore
from usd_desktop.hosted_controls.registry import Registry

log = logging.getLogger("usd_desktop")


#: What ``--restore`` accepts after a crash: ask the agent, restore without asking, or start without them.
RESTORE_MODES = ("ask", "always", "never")


@dataclass
class RunOptions:
    config: Path | None = None
    store: str | None = None
    data: str | None = None
    demo_data: bool = True
    run_action_calls: tuple[str, ...] = ()
    trace: Path | None = None
    user: str | None = None
    theme: str | None = None
    language: str | None = None
    screenshot: Path | None = None
    quit_after_ready: bool = False
    settle_seconds: float = 8.0
    remember_state: bool = True
    #: After a crash: ``ask`` the agent whether to restore the open sessions, ``always``, ``never``.
    restore: str = "ask"
    #: Journal open customer sessions so a crash loses none (tests of other things may turn it off).
    journal_sessions: bool = True
    #: Called with the runner once DesktopReady ran and the sessions were restored (embedding, tests).
    after_ready: Callable[[Any], Awaitable[None]] | None = None


def starter_configuration_path() -> Path:
    return resources_dir() / "starter"


def setup_logging(verbose: bool = False) -> Path | None:
    level = logging.DEBUG if verbose else logging.INFO
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    path: Path | None = None
    try:
        path = user_log_dir() / "usd-desktop.log"
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    except OSError:
        path = None
    logging.basicConfig(
        level=level, handlers=handlers, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return path


def os_user(name: str | None) -> dict[str, str]:
    """``$User`` for the signed-in account (the user records arrive with the central store)."""
    username = name or getpass.getuser()
    full = username
    try:
        import pwd  # POSIX only

        gecos = pwd.getpwnam(username).pw_gecos.split(",")[0].strip()
        full = gecos or username
    except (ImportError, KeyError):
        pass
    first = full.split()[0] if full.split() else username
    return {"username": username, "fullname": full, "firstname": first.capitalize()}


def os_language() -> str:
    """The user's language from the environment (``LANGUAGE``, ``LC_ALL``, ``LANG``), e.g. ``es-mx``."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").split(":")[0].split(".")[0]
        if value and value not in ("C", "POSIX"):
            return value.replace("_", "-").lower()
    return "en"


def load_config(path: Path | None) -> tuple[Configuration, list[str]]:
    """Load the configuration; on errors fall back to the starter one and return the messages."""
    target = path or starter_configuration_path()
    try:
        return load_configuration(target), []
    except ConfigLoadError as exc:
        messages = [str(issue) for issue in exc.errors] or [str(exc)]
    except OSError as exc:
        messages = [f"{target}: {exc}"]
    for message in messages:
        log.error("configuration: %s", message)
    if path is None:
        raise SystemExit("the starter configuration is broken:\n" + "\n".join(messages))
    return load_configuration(starter_configuration_path()), messages


def _prepare_qt_environment() -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "QTWEBENGINE_DISABLE_SANDBOX" not in os.environ:
        # Chromium refuses to start as root with its sandbox. Only for root, and said out loud.
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
        log.warning("running as root: the QtWebEngine sandbox is disabled for this process")


def login(options: RunOptions, user: dict[str, str]) -> tuple[Configuration, str, list[str], Any]:
    """The configuration to start with: a file given on the command line, else the store's.

    Returns the configuration, a label for the status bar, problems to show, and the store client
    (``None`` in file mode).
    """
    if options.config is not None:
        config, problems = load_config(options.config)
        return config, f"{config.name} (file {options.config})", problems, None
    from usd_desktop.config.client import ConfigClient, ConfigUnavailable

    client = ConfigClient(user["username"], url=options.store)
    try:
        loaded = client.load()
    except ConfigUnavailable as exc:
        log.error("%s", exc)
        config = load_configuration(starter_configuration_path())
        return config, f"{config.name} (built-in)", [str(exc)], client
    problems = [loaded.notice] if loaded.notice else []
    label = loaded.label
    if loaded.source == "cache":
        label += " from the local cache — the configuration store is unreachable"
    return loaded.config, label, problems, client


def run(options: RunOptions) -> int:
    """Start the agent desktop; returns the process exit code."""
    started = time.perf_counter()
    setup_logging()
    user = os_user(options.user)
    config, label, problems, client = login(options, user)
    from usd_desktop.app_data import open_data

    opened = open_data(options.data, user["username"], demo=options.demo_data)
    problems = [*problems, *opened.problems]
    _prepare_qt_environment()

    import PySide6.QtWebEngineWidgets  # noqa: F401  (before the QApplication exists)
    import qasync
    from PySide6.QtWidgets import QApplication

    from usd_desktop.shell import gc_guard, themes
    from usd_desktop.shell.runner import DesktopRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    gc_guard.install(app)  # garbage holding Qt objects is freed on this thread, never a worker's
    app.setQuitOnLastWindowClosed(False)  # main() below ends the loop once everything is closed
    app.setApplicationName("usd-desktop")
    app.setApplicationDisplayName("usd_desktop")
    local = JsonSettingsStore(user_config_dir() / f"settings.{user['username']}.json")
    settings: SettingsStore = local
    if client is not None:
        from usd_desktop.config.client import ClientSettings

        settings = ClientSettings(client, local)
    journal = TraceJournal(path=options.trace)
    session_journal = None
    if options.journal_sessions:
        from usd_desktop.core.session_journal import SessionJournal, default_journal_path

        session_journal = SessionJournal(default_journal_path(user["username"]))
    runner = DesktopRunner(
        registry=Registry.discover(), journal=journal, settings=settings, user=user,
        language=options.language or os_language(),
        state_file=(user_config_dir() / f"window.{user['username']}.json"
                    if options.remember_state else None),
        data=opened.services,
        session_journal=session_journal,
    )
    window = runner.build(config, label, problems)
    desktop = runner.desktop
    assert desktop is not None
    theme = options.theme or desktop.sessions.global_session.store.get("$Settings", "Theme") or "light"
    themes.apply(app, theme if theme in themes.THEMES else "light")
    window.show()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = loop.create_future()
    app.lastWindowClosed.connect(lambda: closed.done() or closed.set_result(None))
    stop = asyncio.Event()

    async def main() -> int:
        # Sessions a crash left come back before the global controls start, so nothing treats
        # their unsaved text as orphaned.
        await runner.restore_crashed_sessions(options.restore)
        await desktop.start()
        ready = time.perf_counter() - started
        window.set_status(f"Ready — {label} — {user['fullname']} — DesktopReady in {ready:.2f} s")
        window.refresh_problems()
        log.info("DesktopReady after %.3f s (at epoch %.6f)", ready, time.time())
        watcher = None
        if client is not None and not (options.screenshot or options.quit_after_ready):
            watcher = asyncio.ensure_future(
                client.watch(lambda loaded: runner.offer(loaded.config, loaded.label), stop)
            )
        for name in options.run_action_calls:
            outcome = await desktop.dispatcher.run_action_call(name)
            log.info("--run %s: %s %s", name, outcome.outcome.value, outcome.reason)
        if options.after_ready is not None:
            await options.after_ready(runner)
        if options.screenshot is not None:
            await _settle(desktop, options.settle_seconds)
            window.grab().save(str(options.screenshot))
            log.info("screenshot saved to %s", options.screenshot)
            window.close()
        elif options.quit_after_ready:
            window.close()
        else:
            await closed
        stop.set()
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await runner.close()
        if client is not None:
            client.close()
        if opened.services is not None:
            opened.services.close()
        journal.close()
        if session_journal is not None:
            session_journal.close()
        return 0

    with loop:
        code: int = loop.run_until_complete(main())
    return code


async def _settle(desktop: Desktop, limit: float) -> None:
    """Wait until web pages and records finished loading (or ``limit`` seconds), for screenshots."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        loading = [c for c in desktop.all_controls()
                   if getattr(c, "is_loading", False) or getattr(c, "loading", False)]
        if not loading:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
