"""USD's URL monikers: how web pages, XAML-like markup and links drive the desktop.

* ``https://event/?EventName=<Event>&k=v`` raises a user-defined event with parameters;
* ``https://uii/<Control>/<Action>?<url-encoded Data>`` runs a UII action (data lines joined by CRLF);
* ``https://actioncall/<Name>`` runs a configured action call (``+`` or ``%20`` for spaces).

``http://`` works the same (older USD pages use it). Hosts compare case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit


@dataclass(frozen=True, slots=True)
class EventMoniker:
    event: str
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UiiMoniker:
    control: str
    action: str
    data: str = ""


@dataclass(frozen=True, slots=True)
class ActionCallMoniker:
    name: str


Moniker = EventMoniker | UiiMoniker | ActionCallMoniker


def parse_moniker(url: str) -> Moniker | None:
    """Parse ``url``; ``None`` when it is an ordinary URL (or a malformed moniker without a name)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower()
    if host == "event":
        params: dict[str, str] = {}
        name = ""
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() == "eventname" and not name:
                name = value
            else:
                params[key] = value
        return EventMoniker(name, params) if name else None
    if host == "uii":
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if len(segments) < 2:
            return None
        data = unquote_plus(parts.query) if parts.query else ""
        return UiiMoniker(segments[0], "/".join(segments[1:]), data.replace("\r\n", "\n"))
    if host == "actioncall":
        name = unquote_plus(parts.path.strip("/"))
        return ActionCallMoniker(name) if name else None
    return None
