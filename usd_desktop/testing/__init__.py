"""Test support for usd_desktop and its partners: a recording desktop host and a desktop factory.

The pytest plugin (``usd_desktop.testing.plugin``, entry point ``pytest11``) and the CTI adapter
conformance suite (:mod:`usd_desktop.testing.conformance`, see ``docs/partners.md``) are beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usd_desktop.testing.desktop import RecordingHost, make_data_services, make_desktop, until

__all__ = ["RecordingHost", "make_data_services", "make_desktop", "until"]


def __getattr__(name: str) -> Any:
    """The helpers load on first use: the pytest plugin imports this package in every test run of
    a project with usd_desktop installed, and should not pull in the desktop and SQLAlchemy."""
    if name in __all__:
        from usd_desktop.testing import desktop

        return getattr(desktop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
