"""The conformance suite as a pytest test class: subclass :class:`AdapterConformance`.

Each test runs one check of :mod:`.checks` against the ``cti_harness`` fixture's
:class:`~.harness.Harness`, in a fresh event loop, with the leak checks of :mod:`.runner`. A check
that needs an operation the adapter does not declare, or a harness method the harness does not
provide, is skipped with a reason that says which.
"""

from __future__ import annotations

from typing import Any

import pytest

from usd_desktop.testing.conformance import checks
from usd_desktop.testing.conformance.harness import Harness
from usd_desktop.testing.conformance.runner import run_check


def _harness(cti_harness: Any) -> Harness:
    if not isinstance(cti_harness, Harness):
        pytest.fail(f"the cti_harness fixture must return a usd_desktop.testing.conformance.Harness, not "
                    f"{cti_harness!r}", pytrace=False)
    return cti_harness


class AdapterConformance:
    """The CTI adapter conformance suite. Use it as::

        class TestAcmeAdapter(AdapterConformance):
            @pytest.fixture
            def cti_harness(self) -> AcmeHarness:
                return AcmeHarness()
    """

    # ------------------------------------------------------------------ the class and its settings
    def test_adapter_class_is_well_formed(self, cti_harness: Any) -> None:
        """Name, settings model, capabilities (known, and each implemented), keyring service; the
        desktop's registry accepts it."""
        cls = _harness(cti_harness).adapter_class
        problems = checks.adapter_class_problems(cls)
        assert not problems, f"{cls.__qualname__}:\n  " + "\n  ".join(problems)

    def test_registered_by_its_entry_point(self, cti_harness: Any) -> None:
        """The installed package's entry point finds the adapter, as the desktop finds it."""
        harness = _harness(cti_harness)
        if not harness.check_entry_point:
            pytest.skip("the harness turned the entry-point check off (Harness.check_entry_point)")
        problems = checks.entry_point_problems(harness.adapter_class)
        assert not problems, "\n".join(problems)

    def test_valid_settings_make_the_adapter(self, cti_harness: Any) -> None:
        """The harness's settings make the adapter through the registry, secrets from the keyring."""
        run_check(_harness(cti_harness), checks.settings_make_the_adapter)

    def test_bad_settings_are_refused_naming_the_field(self, cti_harness: Any) -> None:
        """An unknown key, a value of the wrong type and the harness's bad settings are refused, and
        the error names the adapter and the field."""
        run_check(_harness(cti_harness), checks.bad_settings_are_refused)

    def test_capabilities_match_the_backend(self, cti_harness: Any) -> None:
        """The adapter declares exactly the operations the harness says the backend supports."""
        run_check(_harness(cti_harness), checks.capabilities_match_the_backend)

    # ------------------------------------------------------------------ lifecycle
    def test_start_reports_connection_up_first(self, cti_harness: Any) -> None:
        """``start`` returns in time and the first event is ``ConnectionUp``."""
        run_check(_harness(cti_harness), checks.start_reports_connection_up)

    def test_close_is_idempotent_and_quiet(self, cti_harness: Any) -> None:
        """``close`` works unstarted, twice, and with a live call; nothing is reported after it,
        even when the backend acts; no task, socket or process is left."""
        run_check(_harness(cti_harness), checks.close_is_idempotent_and_quiet)

    # ------------------------------------------------------------------ inbound calls
    def test_an_offered_call_carries_ani_dnis_and_data(self, cti_harness: Any) -> None:
        """``CallOffered`` has the caller's ANI, the DNIS, the attached data, direction inbound, and
        the adapter's own call id (not the backend's)."""
        run_check(_harness(cti_harness), checks.offered_call_carries_its_data)

    def test_each_call_has_its_own_id(self, cti_harness: Any) -> None:
        """A second call gets another id; an ended call's id is never used again."""
        run_check(_harness(cti_harness), checks.each_call_has_its_own_id)

    def test_answer_then_hangup(self, cti_harness: Any) -> None:
        """``answer`` -> ``CallAnswered``; ``hangup`` -> ``CallEnded`` with a cause."""
        run_check(_harness(cti_harness), checks.answer_then_hangup)

    def test_hold_and_retrieve(self, cti_harness: Any) -> None:
        """``hold`` -> ``CallHeld``; ``retrieve`` -> ``CallRetrieved``."""
        run_check(_harness(cti_harness), checks.hold_and_retrieve)

    def test_reject_a_ringing_call(self, cti_harness: Any) -> None:
        """``reject`` -> ``CallEnded`` with a cause."""
        run_check(_harness(cti_harness), checks.reject_a_ringing_call)

    def test_the_caller_hangs_up_while_it_rings(self, cti_harness: Any) -> None:
        """-> ``CallMissed(abandoned=True)``."""
        run_check(_harness(cti_harness), checks.caller_hangs_up_while_ringing)

    def test_the_caller_hangs_up_mid_call(self, cti_harness: Any) -> None:
        """-> ``CallEnded`` with a cause; a later ``hangup`` of it raises ``CtiError``."""
        run_check(_harness(cti_harness), checks.caller_hangs_up_while_talking)

    # ------------------------------------------------------------------ operations and errors
    def test_undeclared_operations_raise_not_supported(self, cti_harness: Any) -> None:
        """Each operation not in ``capabilities`` raises ``NotSupported`` at once (never hangs)."""
        run_check(_harness(cti_harness), checks.unsupported_operations_raise_not_supported)

    def test_unknown_call_ids_raise_cti_error(self, cti_harness: Any) -> None:
        """Each declared call operation on an unknown id raises ``CtiError`` naming it."""
        run_check(_harness(cti_harness), checks.unknown_call_ids_raise_cti_error)

    def test_agent_state_operations(self, cti_harness: Any) -> None:
        """``login`` / ``set_agent_state`` / ``logout`` -> ``AgentStateChanged``."""
        run_check(_harness(cti_harness), checks.agent_state_operations)

    def test_mute_and_dtmf(self, cti_harness: Any) -> None:
        """``mute`` and ``send_dtmf`` work on a connected call."""
        run_check(_harness(cti_harness), checks.mute_and_dtmf)

    def test_recording(self, cti_harness: Any) -> None:
        """``start_recording`` / ``stop_recording`` -> ``RecordingStarted`` / ``RecordingStopped``."""
        run_check(_harness(cti_harness), checks.recording)

    def test_dial(self, cti_harness: Any) -> None:
        """``dial`` returns the id of the ``CallDialing`` it reports (with the data given); the far
        end answering -> ``CallAnswered``."""
        run_check(_harness(cti_harness), checks.dial)

    def test_blind_transfer(self, cti_harness: Any) -> None:
        """``blind_transfer`` -> ``CallTransferred``."""
        run_check(_harness(cti_harness), checks.blind_transfer)

    def test_consult_then_cancel(self, cti_harness: Any) -> None:
        """``consult`` -> ``CallHeld`` + ``CallDialing`` of its own id; ``cancel_transfer`` ->
        ``CallEnded`` (the consultation) + ``CallRetrieved``."""
        run_check(_harness(cti_harness), checks.consult_then_cancel)

    def test_consult_then_complete(self, cti_harness: Any) -> None:
        """``complete_transfer`` -> ``CallTransferred``, and the consultation ends."""
        run_check(_harness(cti_harness), checks.consult_then_complete)

    def test_conference(self, cti_harness: Any) -> None:
        """``conference`` -> ``CallConferenced`` naming the consultation."""
        run_check(_harness(cti_harness), checks.conference)

    # ------------------------------------------------------------------ the backend's trouble
    def test_resync_reports_valid_events(self, cti_harness: Any) -> None:
        """``resync`` returns contract events about calls it reports."""
        run_check(_harness(cti_harness), checks.resync_reports_valid_events)

    def test_a_stalled_backend_times_out(self, cti_harness: Any) -> None:
        """A command the backend never answers raises ``CommandTimeout`` (needs ``Harness.stall``)."""
        run_check(_harness(cti_harness), checks.stalled_backend_times_out)

    def test_reconnects_after_a_lost_connection(self, cti_harness: Any) -> None:
        """A dropped connection -> ``ConnectionLost``; ``connect`` -> ``ConnectionUp``, and calls
        come again (needs ``Harness.drop_connection``)."""
        run_check(_harness(cti_harness), checks.reconnects_after_a_lost_connection)

    def test_events_follow_the_contract(self, cti_harness: Any) -> None:
        """A whole call's events: contract classes and field types, each call's events in the order
        of its life (also checked in every other test)."""
        run_check(_harness(cti_harness), checks.events_follow_the_contract)
