"""The Global Manager (and the Connection Manager): the desktop-wide actions that need no UI of their own.

Data conventions follow USD (reference §4.2): named lines are taken with ``take``; the first line or
the remainder is used where USD does (``ShowTab`` takes a control name, ``DisplayMessage`` the text).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from usd_desktop.core import replacement
from usd_desktop.core.context import Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.hosted_controls.base import HostedControl, uii_action
from usd_desktop.hosted_controls.catalog import CONNECTION_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.data_actions import DataActions

#: URL schemes LaunchURL hands to the operating system; anything else (file:, javascript:) is refused.
LAUNCH_SCHEMES = frozenset({"http", "https", "mailto", "tel", "sip"})
THEMES = ("light", "dark", "high-contrast")


def _first_line(data: ActionData, *keys: str) -> str:
    for key in keys:
        value = data.take(key)
        if value is not None and value.strip():
            return value.strip()
    rest = data.remainder().strip()
    return rest.splitlines()[0].strip() if rest else ""


def _milliseconds(data: ActionData) -> float:
    raw = _first_line(data, "milliseconds", "ms")
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        raise ActionError(f"milliseconds={raw!r} is not a number") from None
    if value < 0:
        raise ActionError("milliseconds must not be negative")
    return value


class GlobalManager(DataActions):
    control_type = GLOBAL_MANAGER

    @uii_action("CopyToContext")
    def copy_to_context(self, data: ActionData, call: CallContext) -> None:
        values = data.as_dict()
        if not values:
            raise ActionError("CopyToContext needs key=value lines")
        call.session.store.update("$Context", values)

    @uii_action("Pause")
    async def pause(self, data: ActionData, call: CallContext) -> None:
        await asyncio.sleep(_milliseconds(data) / 1000)

    @uii_action("SaveSetting")
    def save_setting(self, data: ActionData, call: CallContext) -> None:
        name = data.take("name")
        value = data.take("value")
        if not name:
            raise ActionError("SaveSetting needs name=<setting> and value=<text>")
        value = value or ""
        self.env.settings_store().save(name, value)
        call.dispatcher.sessions.global_session.store.set("$Settings", name, value)

    @uii_action("ReadSettings")
    def read_settings(self, data: ActionData, call: CallContext) -> str:
        stored = self.env.settings_store().load()
        call.dispatcher.sessions.global_session.store.update("$Settings", stored)
        return str(len(stored))

    @uii_action("DisplayMessage")
    def display_message(self, data: ActionData, call: CallContext) -> None:
        caption = data.take("caption") or "Message"
        text = data.take("text")
        if text is None:
            text = data.remainder()
        self.env.host.display_message(text, caption)

    @uii_action("ShowTab")
    def show_tab(self, data: ActionData, call: CallContext) -> None:
        name = _first_line(data, "control", "name")
        if not name:
            raise ActionError("ShowTab needs the name of a hosted control")
        if call.dispatcher.controls.is_global(name) is None:
            raise ActionError(f"ShowTab: no hosted control named {name!r}")
        call.dispatcher.controls.resolve(name, call.session)  # loads a dynamic control on demand
        self.env.host.show_control(name)

    @uii_action("CopyToClipboard")
    def copy_to_clipboard(self, data: ActionData, call: CallContext) -> None:
        self.env.host.copy_to_clipboard(data.remainder())

    @uii_action("LaunchURL")
    def launch_url(self, data: ActionData, call: CallContext) -> None:
        url = _first_line(data, "url")
        scheme = urlsplit(url).scheme.lower()
        if scheme not in LAUNCH_SCHEMES:
            raise ActionError(
                f"LaunchURL refuses {url!r}: only {', '.join(sorted(LAUNCH_SCHEMES))} URLs open "
                "outside the desktop"
            )
        self.env.host.launch_url(url)

    @uii_action("ExecuteScriptlet")
    def execute_scriptlet(self, data: ActionData, call: CallContext) -> str:
        name = _first_line(data, "name", "scriptlet")
        if name not in call.dispatcher.scriptlets:
            raise ActionError(f"ExecuteScriptlet: no scriptlet named {name!r}")
        return replacement.render(
            f"[[script.{name}]]", call.data(), scriptlets=call.dispatcher.scriptlets
        )

    @uii_action("SetTheme")
    def set_theme(self, data: ActionData, call: CallContext) -> None:
        theme = _first_line(data, "theme", "name").lower().replace(" ", "-")
        if theme in ("highcontrast", "contrast"):
            theme = "high-contrast"
        if theme not in THEMES:
            raise ActionError(f"SetTheme: unknown theme {theme!r} (choose {', '.join(THEMES)})")
        self.env.host.set_theme(theme)
        call.dispatcher.sessions.global_session.store.update(
            "$SystemParameters", {"Theme": theme, "HighContrast": theme == "high-contrast"}
        )

    @uii_action("ShowAbout")
    def show_about(self, data: ActionData, call: CallContext) -> None:
        self.env.host.show_about()

    @uii_action("CreateSession")
    async def create_session(self, data: ActionData, call: CallContext) -> str:
        """Open a customer session; ``key=value`` lines seed its ``$Context``; returns its id.

        ``BackGround=true`` opens it without switching to it; ``name=`` gives the tab a name until
        a session line names it; ``entity=`` (or a ``LogicalName`` line) says what it is about.
        """
        background = (data.take("BackGround") or data.take("background") or "").lower() == "true"
        name = data.take("name") or ""
        entity = data.take("entity") or ""
        context = data.as_dict()
        entity = entity or context.get("LogicalName", "")
        session = await self.env.create_session(
            name=name, entity=entity, context=context, background=background, chain=call.chain)
        return session.id

    def _session_named(self, data: ActionData, call: CallContext, action: str) -> Session:
        sessions = call.dispatcher.sessions
        wanted = data.take("SessionId") or data.take("sessionid") or _first_line(data)
        if wanted:
            session = sessions.get(wanted.strip())
            if session is None:
                raise ActionError(f"{action}: no session with id {wanted.strip()!r}")
            return session
        session = call.session if not call.session.is_global else sessions.active
        if session.is_global:
            raise ActionError(f"{action}: no customer session")
        return session

    @uii_action("CloseSession")
    async def close_session(self, data: ActionData, call: CallContext) -> None:
        """Close a customer session (``SessionId=``, default: the one the call runs in or the active one)."""
        session = self._session_named(data, call, "CloseSession")
        if session.is_global:
            raise ActionError("CloseSession: the global session cannot be closed")
        await self.env.close_session(session, chain=call.chain)

    @uii_action("CloseActive")
    async def close_active(self, data: ActionData, call: CallContext) -> None:
        """Close the active customer session."""
        active = call.dispatcher.sessions.active
        if active.is_global:
            raise ActionError("CloseActive: no customer session is active")
        await self.env.close_session(active, chain=call.chain)

    @uii_action("SwitchSession")
    async def switch_session(self, data: ActionData, call: CallContext) -> None:
        """Make a session active (``SessionId=``; ``[[$Session.Global]g]`` is the global session)."""
        wanted = data.take("SessionId") or data.take("sessionid") or _first_line(data)
        session = call.dispatcher.sessions.get(wanted.strip()) if wanted else None
        if session is None:
            raise ActionError(f"SwitchSession: no session with id {wanted!r}")
        await self.env.switch_session(session, chain=call.chain)

    @uii_action("RedoScreenPop")
    async def redo_screen_pop(self, data: ActionData, call: CallContext) -> str:
        """Replay the screen pop the session limit refused; ``$Return`` is true when it ran."""
        return "true" if await self.env.redo_screen_pop() else "false"


class ConnectionManager(HostedControl):
    """Stands for the connection to the stores; its actions arrive with the configuration store."""

    control_type = CONNECTION_MANAGER
