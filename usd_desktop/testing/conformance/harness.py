"""What an adapter's conformance test provides: the :class:`Harness`, its backend's side.

The suite drives the adapter through the contract, as the desktop does. What it cannot do through
the adapter (make a call ring, make the caller hang up, make the far end answer a dialled call) it
asks the harness to do on the backend. A harness for a real backend drives a test peer (a SIP
phone, a test PBX); a harness for a fake backend drives the fake.

Only :attr:`Harness.adapter_class`, :meth:`Harness.offer_call` and :meth:`Harness.remote_hangup`
are required. The rest have defaults that leave the matching checks out, each with a skip that says
which method would turn it on.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from usd_desktop.cti.contract import Adapter, CallId


@dataclass
class InboundCall:
    """A call the harness made ring for the agent, and what the adapter must report about it.

    ``ani``, ``dnis`` and ``data`` are what :class:`~usd_desktop.cti.contract.CallOffered` must
    carry (``data``: these keys and values at least). ``caller_name`` and ``queue`` are checked when
    not empty. ``backend_id`` is the backend's own id of the call when the harness knows it (the
    adapter must report its own id, mapped to it). ``handle`` is anything the harness needs to act
    on the call later. The suite sets ``call`` (the adapter's id) once the call is offered."""

    ani: str
    dnis: str = ""
    data: Mapping[str, str] = field(default_factory=dict)
    caller_name: str = ""
    queue: str = ""
    backend_id: str | None = None
    handle: Any = None
    call: CallId = ""


@dataclass(frozen=True)
class BadSetting:
    """Settings the adapter must refuse: ``settings`` go over the valid ones, and the error must
    name ``field``."""

    settings: Mapping[str, Any]
    field: str
    why: str = ""


class Harness(abc.ABC):
    """The backend side of the conformance suite. Subclass it for your adapter (see
    ``docs/partners.md``) and return an instance from a ``cti_harness`` fixture."""

    #: The adapter class under test.
    adapter_class: ClassVar[type[Adapter]]
    #: The agent name ``login`` is given.
    agent: ClassVar[str] = "agent-1"
    #: Seconds an operation may take to return, and an event to come.
    command_timeout: ClassVar[float] = 10.0
    #: Seconds the suite listens for events that must *not* come (after ``close``).
    quiet_seconds: ClassVar[float] = 0.3
    #: Check that the adapter's package declares its entry point (the package must be installed).
    check_entry_point: ClassVar[bool] = True
    #: The operations the backend, as this harness sets it up, supports: the adapter's
    #: ``capabilities`` must be exactly these. ``None``: not checked.
    operations: ClassVar[frozenset[str] | None] = None

    # ------------------------------------------------------------------ settings and secrets
    def settings(self) -> dict[str, Any]:
        """Valid settings for the backend (as a configuration gives them; called after
        :meth:`start`, so they may name its port)."""
        return {}

    def keyring(self) -> dict[tuple[str, str], str]:
        """Keyring entries the settings read: ``(service, username) -> secret``. The suite puts them
        in an in-memory keyring (the real one is never touched) and creates the adapter the way the
        desktop does, through :class:`~usd_desktop.cti.registry.AdapterRegistry`."""
        return {}

    def bad_settings(self) -> list[BadSetting]:
        """Settings the adapter must refuse, each with the field the error must name. The suite
        adds its own: an unknown key, and a value of the wrong type for each field."""
        return []

    # ------------------------------------------------------------------ the backend
    async def start(self) -> None:  # noqa: B027
        """Start the backend (a fake server, a test peer) before each check."""

    async def stop(self) -> None:  # noqa: B027
        """Stop what :meth:`start` started, after the adapters are closed (always called)."""

    @abc.abstractmethod
    async def offer_call(self, adapter: Adapter, *, ani: str, dnis: str,
                         data: Mapping[str, str]) -> InboundCall:
        """Make an inbound call ring for the agent, with this ANI, DNIS and attached data when the
        backend can carry them; return what the adapter must report."""

    @abc.abstractmethod
    async def remote_hangup(self, adapter: Adapter, call: InboundCall) -> None:
        """The caller hangs up (while it rings, or while it is connected)."""

    def dial_target(self) -> str | None:
        """A number the adapter can dial (also the consultation target); ``None``: the dial and
        consultation checks are left out."""
        return None

    async def answer_dialled(self, adapter: Adapter, call: CallId, number: str) -> None:  # noqa: B027
        """The far end of a call the adapter dialled answers (default: the backend answers by
        itself; the suite waits for ``CallAnswered``)."""

    def transfer_target(self) -> str | None:
        """A number calls can be transferred to (default: :meth:`dial_target`)."""
        return self.dial_target()

    async def transfer_accepted(self, adapter: Adapter, call: InboundCall,  # noqa: B027
                                target: str) -> None:
        """The transfer target accepts the transferred call, when the backend needs that before the
        transfer completes (default: nothing)."""

    async def stall(self, adapter: Adapter) -> bool:
        """Make the backend stop answering commands (it stays connected); ``False`` (the
        default): the harness cannot, and the timeout check is left out."""
        return False

    async def drop_connection(self, adapter: Adapter) -> bool:
        """Drop the adapter's connection from the backend's side; ``False`` (the default): the
        harness cannot, and the reconnection check is left out."""
        return False
