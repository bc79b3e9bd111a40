"""usd_desktop's pytest plugin: loaded by every pytest run where usd_desktop is installed.

Registered as the ``pytest11`` entry point ``usd_desktop``, so a partner's project gets it without a
``conftest.py`` line (turn it off with ``-p no:usd_desktop``). It

* rewrites the asserts of the CTI conformance suite (:mod:`usd_desktop.testing.conformance`), so a
  failing check shows its values;
* provides a default ``cti_harness`` fixture that fails with instructions, for a test class that
  subclasses :class:`~usd_desktop.testing.conformance.AdapterConformance` but gives no harness.

It imports nothing heavy at start-up: the suite is imported by the test module that uses it.
"""

from __future__ import annotations

import sys

import pytest

if "usd_desktop.testing.conformance" not in sys.modules:  # (already imported: too late to rewrite)
    pytest.register_assert_rewrite("usd_desktop.testing.conformance")


@pytest.fixture
def cti_harness() -> object:
    """The backend side of the CTI conformance suite: override it in your test class."""
    pytest.fail(
        "this AdapterConformance subclass has no cti_harness fixture: give it one that returns your "
        "usd_desktop.testing.conformance.Harness subclass, e.g.\n\n"
        "    class TestAcmeAdapter(AdapterConformance):\n"
        "        @pytest.fixture\n"
        "        def cti_harness(self):\n"
        "            return AcmeHarness()\n\n"
        "(docs/partners.md, 'The conformance suite')",
        pytrace=False,
    )
