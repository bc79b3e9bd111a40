"""The errors the runtime raises. Each says what an administrator needs to fix it."""

from __future__ import annotations


class UsdError(Exception):
    """Base of every error usd_desktop raises on purpose."""


class ReplacementError(UsdError):
    """A template could not be rendered (syntax, depth, self-reference, expression failure)."""


class MissingParameter(ReplacementError):
    """A replacement parameter without the ``+`` modifier has no value.

    ``parameter`` is the parameter as written between the brackets (``account.name``), ``token`` the
    whole token (``[[account.name]u]``). USD aborts the whole action call in this case; so do we.
    """

    def __init__(self, parameter: str, token: str | None = None, scope: str = "session") -> None:
        self.parameter = parameter
        self.token = token or f"[[{parameter}]]"
        self.scope = scope
        where = {"global": "the global session", "active": "the active session"}.get(scope, "")
        suffix = f" in {where}" if where else ""
        super().__init__(f"replacement parameter {self.token} has no value{suffix}")


class ScriptError(UsdError):
    """A JavaScript condition, ``$Expression`` or scriptlet threw or did not compile."""


class ScriptTimeout(ScriptError):
    """A JavaScript evaluation ran past its time limit and was interrupted."""


class ActionError(UsdError):
    """An action failed: unknown control or action, bad data, or the control raised."""


class SessionLimitReached(ActionError):
    """A new customer session was refused: ``maxNumberOfSessions`` are open."""


class ChainTooDeep(ActionError):
    """Action calls triggered each other past the allowed depth (a loop in the configuration)."""


class ConfigError(UsdError):
    """A configuration is invalid. ``location`` names the file, line, record and field."""

    def __init__(self, message: str, location: str = "") -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)
