"""Shared test setup: no test touches the real user's files; GUI tests are marked automatically."""

from __future__ import annotations

import os

import pytest

# Never read or write the real user's configuration or data.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser: pytest.Parser) -> None:
    # tests/unit also runs where PySide6 and pytest-qt are not installed; the pytest-qt settings
    # in pyproject.toml must not make --strict-config fail there.
    try:
        import pytestqt  # noqa: F401
    except ImportError:
        for name in ("qt_api", "qt_log_level_fail", "qt_log_ignore"):
            parser.addini(name, "pytest-qt setting (pytest-qt is not installed here)", type="linelist")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("home")
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(base / var.lower()))


@pytest.fixture(autouse=True)
def _memory_keyring() -> object:
    """Every test gets an empty in-memory keyring; the real one is never read or written."""
    import keyring

    from usd_desktop.testing.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures:
            item.add_marker(pytest.mark.gui)


def needs_service(available: bool, reason: str) -> pytest.MarkDecorator:
    """Skip when a real service is missing, except under CI=true, where it must run (and fail)."""
    if available or os.environ.get("CI", "").lower() == "true":
        return pytest.mark.usefixtures()
    return pytest.mark.skip(reason=reason)
