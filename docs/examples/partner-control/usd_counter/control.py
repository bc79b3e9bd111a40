"""The Counter hosted control: the implementation of ``usd_counter.COUNTER``.

Settings (the hosted control's ``settings`` in the configuration):

* ``start``: the count the control starts at and ``Reset`` returns to (default 0).

UII actions:

* ``Increment``: adds ``by=<whole number>`` (default 1; negative numbers count down);
* ``Reset``: goes back to ``start``.

Both return the new count (so ``[[$Return.<action call>]]`` holds it), publish it as
``[[<control name>.count]]`` and raise ``CountChanged`` with the parameter ``count``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from usd_counter import COUNTER
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError
from usd_desktop.hosted_controls.base import HostedControl, uii_action

if TYPE_CHECKING:
    from usd_desktop.config.schema import HostedControl as HostedControlDef
    from usd_desktop.core.context import Session
    from usd_desktop.core.dispatcher import CallContext
    from usd_desktop.hosted_controls.base import ControlEnvironment


def _whole_number(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ActionError(f"{what}={text!r} is not a whole number") from None


class Counter(HostedControl):
    control_type = COUNTER

    def __init__(self, definition: HostedControlDef, env: ControlEnvironment, session: Session) -> None:
        super().__init__(definition, env, session)
        self.start = _whole_number(str(self.settings.get("start", 0)), "setting start")
        self.count = self.start
        # Published at once, so [[Counter.count]] has a value before the first action.
        self.publish({"count": self.count})

    @uii_action("Increment")
    async def increment(self, data: ActionData, call: CallContext) -> str:
        by = _whole_number(data.take("by") or "1", "by")
        return await self._set(self.count + by, call)

    @uii_action("Reset")
    async def reset(self, data: ActionData, call: CallContext) -> str:
        return await self._set(self.start, call)

    async def _set(self, count: int, call: CallContext) -> str:
        self.count = count
        self.publish({"count": count})
        # An event raised *by an action* runs in the action's chain, as the built-in FireEvent
        # does: its action calls run before this action returns, and the loop guard
        # (MaxActionCallDepth) sees a configuration in which CountChanged runs Increment again.
        await call.dispatcher.fire_event(
            self.name, "CountChanged", {"count": count}, session=call.session, chain=call.chain
        )
        return str(count)
