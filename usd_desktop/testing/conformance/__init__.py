"""The CTI adapter conformance suite: what every adapter must pass (the built-in ones do).

A partner's test is a few lines::

    from usd_desktop.testing.conformance import AdapterConformance, Harness, InboundCall

    class TestAcmeAdapter(AdapterConformance):
        @pytest.fixture
        def cti_harness(self) -> AcmeHarness:
            return AcmeHarness()

where ``AcmeHarness`` (a :class:`Harness`) names the adapter class, gives valid settings, and makes
the backend do what the adapter cannot: ring a call, hang up as the caller. ``docs/partners.md``
explains it; the adapter template (``resources/templates/cti-adapter``) has a complete one. The
checks are in :mod:`.checks`, the event checks in :mod:`.events`, the leak checks in :mod:`.runner`.
"""

from usd_desktop.testing.conformance.events import EventLog, event_problems
from usd_desktop.testing.conformance.harness import BadSetting, Harness, InboundCall
from usd_desktop.testing.conformance.runner import Session, run_check
from usd_desktop.testing.conformance.suite import AdapterConformance

__all__ = [
    "AdapterConformance",
    "BadSetting",
    "EventLog",
    "Harness",
    "InboundCall",
    "Session",
    "event_problems",
    "run_check",
]
