"""Call Control: the call bar of the CtiPanel (the active line, its timer and buttons, the lines).

It drives the desktop's :class:`~usd_desktop.cti.manager.CtiManager`, found through a CTI Desktop
Manager control: the one named by the setting ``cti_manager``, else the first control of type
``CtiDesktopManager`` in the configuration. Without one (or when its adapter could not be created)
the bar says why and every button is disabled.

What it shows, for the active line: the number (in international format when the manager knows
its E.164 form) over the caller's name, the state (Ringing, Calling, Connected, On hold, Wrap-up)
and a timer: the ring time while ringing, the talk time once answered, the hold time while held,
and while in wrap-up the time left until ``agent_status.wrap_up_deadline``, with the manager's
dispositions and *Done* (``complete_wrap_up``). One 1-second timer serves every line and stops
when there is no call. With two lines or more, a switcher (one button per line, with its state)
selects the active line (``manager.select``).

The buttons follow the line's state (those that do not apply are left off the bar) and are
enabled by the adapter's capabilities: Answer and Reject while ringing, Hang up while dialling,
connected or held, Hold / Retrieve, Mute / Unmute, the dial pad (tones during a connected call,
else dialling another call), Transfer and Consult (a directory from the setting ``directory``: a
list of ``{name, number, kind: agent|queue|number}``), and while a consultation exists Complete
transfer, Cancel consult and Conference. Every command runs in the background; a
failure (:class:`~usd_desktop.cti.contract.CtiError`) is shown in the bar's status line.

Settings: ``cti_manager`` (a control name), ``directory``. Actions: ``ShowDialPad`` (``number=``
pre-fills the field), ``ShowTransfer``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import phonenumbers
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QWidget

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.cti.contract import CtiError
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import CALL_CONTROL
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.call_control_widget import BarView, CallBarWidget, LineView
from usd_desktop.hosted_controls.qt.call_dialogs import DialPad, TransferDialog, parse_directory
from usd_desktop.hosted_controls.qt.session_tabs_widget import format_elapsed

if TYPE_CHECKING:
    from usd_desktop.cti.calls import Call
    from usd_desktop.cti.manager import CtiManager
    from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager

log = logging.getLogger(__name__)

CTI_DESKTOP_TYPE = "CtiDesktopManager"
#: What each call state is called on the bar.
STATE_TEXT = {"ringing": "Ringing", "dialing": "Calling", "connected": "Connected", "held": "On hold",
              "wrap_up": "Wrap-up", "ended": "Ended"}
#: What the timer measures in each state (its tooltip).
TIMER_TEXT = {"ringing": "Ringing for", "dialing": "Calling for", "connected": "Talk time",
              "held": "On hold for", "wrap_up": "Wrap-up time left", "ended": "Ended"}
#: The adapter operation each button needs (the hold and mute buttons: see :func:`bar_view`).
NEEDS = {"answer": "answer", "reject": "reject", "hangup": "hangup", "transfer": "blind_transfer",
         "consult": "consult", "complete": "complete_transfer", "cancel": "cancel_transfer",
         "conference": "conference"}


#: The buttons each state shows besides the dial pad (those that do not apply stay off the bar;
#: a shown button is disabled when the adapter cannot do it, or not in this state: Mute on hold).
SHOWN = {"ringing": ("answer", "reject"), "dialing": ("hangup",),
         "connected": ("hangup", "hold", "mute"), "held": ("hangup", "hold", "mute")}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def format_number(call: Call) -> str:
    """The number to show: the E.164 form in international format when known, else as received."""
    e164 = getattr(call, "number_e164", "") or ""
    if e164:
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            pass
        else:
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return call.number or call.ani or call.dnis or ""


def call_state(call: Call) -> str:
    """The state the bar shows: the call's, or ``wrap_up`` for an ended call in wrap-up."""
    if call.state == "ended":
        return "wrap_up" if call.wrap_up else "ended"
    return call.state


def call_label(call: Call) -> str:
    """A short name for the call: the caller's name, else the number."""
    return call.caller_name or format_number(call) or "Unknown number"


def consultation_pair(calls: Iterable[Call], active: Call | None) -> tuple[Call, Call] | None:
    """(the original call, its consultation) when the active line takes part in a live consultation."""
    if active is None:
        return None
    live = [c for c in calls if c.state != "ended"]
    for call in live:
        original_id = call.consultation_of
        if not original_id or active.id not in (call.id, original_id):
            continue
        original = next((c for c in live if c.id == original_id), None)
        if original is not None:
            return original, call
    return None


def bar_view(manager: CtiManager | None, unavailable: str = "",
             pending: frozenset[str] = frozenset()) -> BarView:
    """What the bar shows for ``manager`` now (``pending``: the buttons whose command is running)."""
    if manager is None:
        return BarView(unavailable=unavailable or "no CTI adapter")
    capabilities = manager.capabilities
    adapter = manager.name
    connected = manager.connection.connected
    call = manager.active
    calls = list(manager.calls.values())
    enabled: set[str] = set()
    unsupported: dict[str, str] = {}

    def offer(key: str, applies: bool, operation: str | None) -> None:
        if not applies:
            return
        if operation is not None and operation not in capabilities:
            unsupported[key] = f"The {adapter} adapter cannot {operation.replace('_', ' ')}"
        elif connected and key not in pending:
            enabled.add(key)

    lines = tuple(_line_view(n, c) for n, c in enumerate(calls, 1))
    if call is None:
        offer("dialpad", True, "dial")
        return BarView(enabled=frozenset(enabled), unsupported=unsupported, lines=lines)
    state = call_state(call)
    talking = state in ("connected", "held")
    pair = consultation_pair(calls, call)
    shown = {"dialpad", *SHOWN.get(state, ())}
    if talking:
        shown |= {"complete", "cancel", "conference"} if pair is not None else {"transfer", "consult"}
    offer("answer", state == "ringing", "answer")
    offer("reject", state == "ringing", "reject")
    offer("hangup", state in ("connected", "held", "dialing"), "hangup")
    offer("hold", talking, "retrieve" if state == "held" else "hold")
    offer("mute", state == "connected", "mute")
    # the dial pad sends tones on a connected call, else it places another call
    offer("dialpad", True, "send_dtmf" if state == "connected" else "dial")
    offer("transfer", talking and pair is None, "blind_transfer")
    offer("consult", talking and pair is None, "consult")
    for key in ("complete", "cancel", "conference"):
        offer(key, pair is not None, NEEDS[key])
    if state == "wrap_up" and "done" not in pending:
        enabled.add("done")  # wrap-up ends in the desktop even when the backend has nothing to do
    details = [f"{call.direction.capitalize()} {call.activity}"]
    if call.queue:
        details.append(f"Queue: {call.queue}")
    if call.dnis and call.direction == "inbound":
        details.append(f"Dialled: {call.dnis}")
    if call.number and call.number != format_number(call):
        details.append(f"Number: {call.number}")
    return BarView(
        state=state,
        state_text=STATE_TEXT.get(state, state.capitalize()),
        number=format_number(call),
        name=call.caller_name,
        details="\n".join(details),
        enabled=frozenset(enabled),
        unsupported=unsupported,
        shown=frozenset(shown),
        held=state == "held",
        muted=bool(call.muted),
        consulting=pair is not None,
        wrap_up=state == "wrap_up",
        dispositions=tuple(manager.dispositions),
        lines=lines,
        current=call.id,
    )


def _line_view(n: int, call: Call) -> LineView:
    state = call_state(call)
    text = STATE_TEXT.get(state, state.capitalize())
    label = call_label(call)
    tooltip = "\n".join(t for t in (call.caller_name, format_number(call), text) if t)
    return LineView(call.id, label, text, f"Line {n}: {label}, {text.lower()}",
                    ringing=state == "ringing", tooltip=tooltip)


def timer_text(call: Call, manager: CtiManager, now: datetime) -> tuple[str, str]:
    """The timer of ``call`` at ``now`` and what it measures (its tooltip)."""
    state = call_state(call)
    started: datetime | None
    if state == "wrap_up":
        deadline = manager.agent_status.wrap_up_deadline
        if deadline is not None:
            left = (deadline - now).total_seconds()
            # counts down to 00:00, which shows only once the time is over
            return f"{format_elapsed(left + 0.999)} left", TIMER_TEXT[state]
        started, state = call.ended_at, "ended"
        return format_elapsed((now - started).total_seconds()) if started else "", "Wrap-up time"
    if state == "held":
        started = call.held_since or call.answered_at
    elif state == "connected":
        started = call.answered_at or call.offered_at
    elif state in ("ringing", "dialing"):
        started = call.offered_at
    else:
        started = None
    if started is None:
        return "", TIMER_TEXT.get(state, "")
    return format_elapsed((now - started).total_seconds()), TIMER_TEXT.get(state, "")


class CtiClientControl(QtHostedControl):
    """Base of the controls that drive the desktop's CTI manager: finding it, following it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The clock the timers read (tests replace it).
        self.clock: Callable[[], datetime] = _utcnow
        self.cti_control: CtiDesktopManager | None = None
        self.manager: CtiManager | None = None
        self.unavailable = ""  # why there is no manager
        self._manager_disposers: list[Callable[[], None]] = []
        self._pending: set[str] = set()  # the commands (their keys) under way
        self.timer: QTimer | None = None

    # ------------------------------------------------------------------ the manager
    def find_cti_control(self) -> CtiDesktopManager | None:
        """The CTI Desktop Manager control this control follows (``unavailable`` says why not)."""
        from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager

        wanted = str(self.settings.get("cti_manager") or "").strip()
        if not wanted:
            wanted = next((d.name for d in self.env.config.hosted_controls
                           if d.type == CTI_DESKTOP_TYPE), "")
        if not wanted:
            self.unavailable = "no CTI Desktop Manager in this configuration"
            return None
        resolve = getattr(self.env, "resolve", None)
        if resolve is None:
            self.unavailable = "this desktop cannot reach other controls"
            return None
        try:
            control = resolve(wanted, self.env.dispatcher.sessions.global_session)
        except ActionError as exc:
            self.unavailable = str(exc)
            return None
        if not isinstance(control, CtiDesktopManager):
            self.unavailable = f"{wanted} is not a CTI Desktop Manager"
            return None
        return control

    def bind(self) -> None:
        """Follow the CTI manager of the CTI Desktop Manager control (again: it may have changed)."""
        for dispose in self._manager_disposers:
            dispose()
        self._manager_disposers = []
        self.manager = None
        self.unavailable = ""
        control = self.cti_control = self.find_cti_control()
        if control is not None:
            self.manager = control.manager
            if self.manager is None:
                self.unavailable = control.problem or f"{control.name} has no CTI adapter"
        if self.manager is not None:
            self.connect_manager(self.manager, self._manager_disposers.append)
        self.refresh()

    def current_manager(self) -> CtiManager | None:
        """The manager, rebinding first when the CTI Desktop Manager's changed (restarted, closed)."""
        control = self.cti_control
        if control is not None and control.manager is not self.manager:
            self.bind()
        return self.manager

    def connect_manager(self, manager: CtiManager, keep: Callable[[Callable[[], None]], None]) -> None:
        """Connect to ``manager``'s signals; pass each disposer to ``keep``."""

    def refresh(self) -> None:
        """Show the manager's state as it is now."""

    # ------------------------------------------------------------------ commands
    def run_command(self, what: str, key: str, make: Callable[[CtiManager], Awaitable[Any]]) -> None:
        """Run ``make(manager)`` in the background; ``what`` names it in the status line on failure."""
        manager = self.current_manager()
        if manager is None:
            self.show_status(f"{what}: {self.unavailable or 'no CTI adapter'}", error=True)
            return
        self.start_task(self._command(what, key, manager.name, make(manager)))

    async def _command(self, what: str, key: str, adapter: str, coro: Awaitable[Any]) -> Any:
        pending = self._pending
        pending.add(key)
        self.refresh()
        try:
            result = await coro
        except CtiError as exc:
            message = str(exc)  # the manager's "<adapter> <operation>: <reason>": the bar says what
            if message.startswith(f"{adapter} ") and ": " in message:
                message = message.split(": ", 1)[1]
            self.show_status(f"{what} failed: {message}", error=True)
            return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s: %s failed", self.name, what, exc_info=exc)
            self.show_status(f"{what} failed: {type(exc).__name__}: {exc}", error=True)
            return None
        else:
            self.show_status("")
            return result
        finally:
            pending.discard(key)
            if not self.closed:
                self.refresh()

    def show_status(self, text: str, *, error: bool = False) -> None:
        """The status line (override)."""

    # ------------------------------------------------------------------ the timer
    def make_timer(self, parent: QWidget, interval_ms: int = 1000) -> QTimer:
        timer = QTimer(parent)
        timer.setObjectName(f"{type(self).__name__}Timer")
        timer.setInterval(interval_ms)
        timer.timeout.connect(self.tick)
        parent.destroyed.connect(lambda *_: self._widget_destroyed(parent))
        self.timer = timer
        return timer

    def _widget_destroyed(self, widget: QWidget) -> None:
        if self._widget is widget:
            self._widget = None
            self.timer = None

    def run_timer(self, needed: bool) -> None:
        timer = self.timer
        if timer is None:
            return
        if needed and not timer.isActive():
            timer.start()
        elif not needed and timer.isActive():
            timer.stop()

    def tick(self) -> None:
        """Once a second (override)."""

    def close(self) -> None:
        if self.timer is not None:
            self.timer.stop()
        for dispose in self._manager_disposers:
            dispose()
        self._manager_disposers = []
        super().close()


class CallControl(CtiClientControl):
    """The call bar (see the module doc)."""

    control_type = CALL_CONTROL
    task_failure = "a call command failed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = parse_directory(self.settings.get("directory"), owner=self.name)
        self.dial_pad: DialPad | None = None
        self.transfer_dialog: TransferDialog | None = None
        self._status: tuple[str, bool] = ("", False)
        self._status_call: str | None = None  # the active line the status line is about

    @property
    def bar(self) -> CallBarWidget | None:
        widget = self._widget
        return widget if isinstance(widget, CallBarWidget) else None

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = CallBarWidget()
        widget.command_requested.connect(self.command)
        widget.line_chosen.connect(self.select_line)
        self.make_timer(widget)
        self._widget = widget
        self.bind()
        return widget

    def connect_manager(self, manager: CtiManager, keep: Callable[[Callable[[], None]], None]) -> None:
        keep(manager.call_changed.connect(lambda _call: self.refresh()))
        keep(manager.call_removed.connect(lambda _call: self.refresh()))
        keep(manager.agent_changed.connect(lambda _status: self.refresh()))
        keep(manager.connection_changed.connect(lambda _status: self.refresh()))

    def view(self) -> BarView:
        return bar_view(self.manager, self.unavailable, frozenset(self._pending))

    def refresh(self) -> None:
        bar = self.bar
        if bar is None:
            return
        view = self.view()
        if view.current != self._status_call:  # the status line speaks of the line it was about
            self._status_call = view.current
            if self._status[1]:
                self.show_status("")
        bar.show_view(view)
        if self._status[1] or (self.manager is not None and self.manager.connection.connected):
            bar.set_status(self._status[0], error=self._status[1])
        elif self.manager is None:
            bar.set_status(f"No CTI: {self.unavailable}" if self.unavailable else "No CTI")
        else:
            detail = self.manager.connection.detail
            bar.set_status(f"Disconnected{': ' + detail if detail else ''}")
        self._update_dialogs()
        self.tick()

    def show_status(self, text: str, *, error: bool = False) -> None:
        self._status = (text, error)
        bar = self.bar
        if bar is not None:
            bar.set_status(text, error=error)

    def tick(self) -> None:
        """Once a second: the active line's timer (and the timer stops when there is no call)."""
        bar = self.bar
        manager = self.manager
        if bar is None:
            return
        call = manager.active if manager is not None else None
        if manager is None or call is None:
            bar.set_timer("")
        else:
            bar.set_timer(*timer_text(call, manager, self.clock()))
        self.run_timer(manager is not None and bool(manager.calls))

    # ------------------------------------------------------------------ the agent's requests
    def command(self, key: str) -> None:
        """A button of the bar (a key of ``call_control_widget.COMMANDS``)."""
        manager = self.current_manager()
        call = manager.active if manager is not None else None
        cid = call.id if call is not None else None
        if key == "dialpad":
            self.show_dial_pad()
            return
        if key in ("transfer", "consult"):
            self.show_transfer()
            return
        if key == "hold":
            if call is not None and call.state == "held":
                self.run_command("Retrieve", key, lambda m: m.retrieve(cid))
            else:
                self.run_command("Hold", key, lambda m: m.hold(cid))
            return
        if key == "mute":
            muted = bool(call.muted) if call is not None else False
            self.run_command("Unmute" if muted else "Mute", key, lambda m: m.mute(not muted, cid))
            return
        if key == "done":
            bar = self.bar
            disposition = bar.chosen_disposition() if bar is not None else ""
            self.run_command("Done", key, lambda m: m.complete_wrap_up(disposition, cid))
            return
        simple: dict[str, tuple[str, Callable[[CtiManager], Awaitable[Any]]]] = {
            "answer": ("Answer", lambda m: m.answer(cid)),
            "reject": ("Reject", lambda m: m.reject(cid)),
            "hangup": ("Hang up", lambda m: m.hangup(cid)),
        }
        if key in simple:
            what, make = simple[key]
            self.run_command(what, key, make)
            return
        if key in ("complete", "cancel", "conference"):
            pair = consultation_pair(manager.calls.values(), call) if manager is not None else None
            if pair is None:
                self.show_status("There is no consultation", error=True)
                return
            original = pair[0].id
            consult_ops: dict[str, tuple[str, Callable[[CtiManager], Awaitable[Any]]]] = {
                "complete": ("Complete transfer", lambda m: m.complete_transfer(original)),
                "cancel": ("Cancel consult", lambda m: m.cancel_transfer(original)),
                "conference": ("Conference", lambda m: m.conference(original)),
            }
            what, make = consult_ops[key]
            self.run_command(what, key, make)
            return
        log.warning("%s: unknown call bar command %r", self.name, key)

    def select_line(self, call_id: str) -> None:
        manager = self.current_manager()
        if manager is None or call_id not in manager.calls:
            self.refresh()
            return
        try:
            manager.select(call_id)
        except CtiError as exc:
            self.show_status(f"Switch line: {exc}", error=True)
        self.refresh()

    # ------------------------------------------------------------------ the dial pad
    def show_dial_pad(self, number: str = "") -> DialPad:
        """Open the dial pad under the bar (tones for a connected call, else dialling)."""
        pad = self.dial_pad
        if pad is None:
            pad = self.dial_pad = DialPad(self.bar)
            pad.dial_requested.connect(self.dial)
            pad.tones_requested.connect(self.send_tones)
        self._update_dialogs()
        if number and not pad.tones:
            pad.field.setText(number)
        self._place(pad, "dialpad")
        pad.show()
        pad.raise_()
        pad.activateWindow()
        if not pad.tones:
            pad.field.setFocus()
        return pad

    def dial(self, number: str) -> None:
        self.run_command(f"Call {number}", "dial", lambda m: m.dial(number))

    def send_tones(self, digits: str) -> None:
        manager = self.manager
        call = manager.active if manager is not None else None
        cid = call.id if call is not None else None
        self.run_command("Tones", "tones", lambda m: m.send_dtmf(digits, cid))

    # ------------------------------------------------------------------ transfer and consult
    def show_transfer(self) -> TransferDialog:
        dialog = self.transfer_dialog
        if dialog is None:
            dialog = self.transfer_dialog = TransferDialog(self.directory, self.bar)
            dialog.transfer_requested.connect(self.transfer)
            dialog.consult_requested.connect(self.consult)
        manager = self.current_manager()
        call = manager.active if manager is not None else None
        caps = manager.capabilities if manager is not None else frozenset()
        dialog.prepare(target=call_label(call) if call is not None else "",
                       can_transfer=call is not None and "blind_transfer" in caps,
                       can_consult=call is not None and "consult" in caps)
        self._place(dialog, "transfer")
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        dialog.search.setFocus()
        return dialog

    def transfer(self, target: str) -> None:
        cid = self._active_id()
        self.run_command(f"Transfer to {target}", "transfer", lambda m: m.blind_transfer(target, cid))

    def consult(self, target: str) -> None:
        cid = self._active_id()
        self.run_command(f"Consult {target}", "consult", lambda m: m.consult(target, cid))

    def _active_id(self) -> str | None:
        manager = self.manager
        call = manager.active if manager is not None else None
        return call.id if call is not None else None

    # ------------------------------------------------------------------ dialog helpers
    def _update_dialogs(self) -> None:
        pad = self.dial_pad
        if pad is None:
            return
        manager = self.manager
        call = manager.active if manager is not None else None
        caps = manager.capabilities if manager is not None else frozenset()
        connected = call is not None and call.state == "connected"
        pad.set_mode(tones=connected, target=call_label(call) if call is not None else "",
                     can_dial=manager is not None and "dial" in caps,
                     can_tone="send_dtmf" in caps)

    def _place(self, dialog: QWidget, key: str) -> None:
        """Put ``dialog`` just under its button on the bar (the first time it opens)."""
        bar = self.bar
        if bar is None or dialog.isVisible():
            return
        button = bar.buttons.get(key)
        anchor = button if button is not None and button.isVisible() else bar
        dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSize()))
        dialog.move(anchor.mapToGlobal(QPoint(0, anchor.height() + 2)))

    # ------------------------------------------------------------------ UII actions
    @uii_action("ShowDialPad")
    def show_dial_pad_action(self, data: ActionData, call: CallContext) -> None:
        number = (data.take("number") or "").strip()
        self.widget()
        self.show_dial_pad(number)

    @uii_action("ShowTransfer")
    def show_transfer_action(self, data: ActionData, call: CallContext) -> None:
        self.widget()
        manager = self.current_manager()
        if manager is None or manager.active is None:
            raise ActionError(f"{self.name} ShowTransfer: there is no call to transfer")
        self.show_transfer()

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        for dialog in (self.dial_pad, self.transfer_dialog):
            if dialog is not None:
                dialog.hide()
                dialog.deleteLater()
        self.dial_pad = self.transfer_dialog = None
        super().close()
