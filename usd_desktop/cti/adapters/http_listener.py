"""The USD-compatible HTTP screen-pop listener (adapter ``http_listener``), on aiohttp.

Microsoft USD's generic listener takes ``http://localhost:5000/?ani=1234&dnis=4355&type=phonecall&
customerid=49383433``; so does this one, and every key becomes ``[[cti.<key>]]``. Anything that can
open a URL can pop a session: a softphone's hook (:mod:`.softphone_hook`, the ``usd-cti-hook``
command), a dialler, middleware, a test with ``curl``. Settings::

    cti:
      adapter: http_listener
      settings:
        host: 127.0.0.1        # a non-loopback host is refused unless allow_remote: true
        port: 5000             # 0: any free port (read it back as adapter.port)
        token_keyring: true    # a shared secret, kept in the keyring (or token: "..." in clear)
        ring_seconds: 30       # a popped call "rings" this long unless answered; null: until acted on
        max_query_bytes: 8192  # a longer query string is refused (414)
        dial_command: null     # e.g. "microsip.exe {number}": makes dial possible
        allowed_origins: []    # web pages allowed to call the listener (none by default)

**Requests.** ``GET /?...`` (also ``POST /`` with a form or a JSON object; its fields add to the
query's) pops a call: ``CallOffered`` with ``ani``, ``dnis``, ``queue`` (from ``queue=``),
``caller_name`` and ``activity`` (from ``type=``: phonecall, chat, email, sms or web, any case; an
unknown type gives phonecall and is kept in ``data["type"]``). Every other key goes to ``data`` *as
given* (USD keeps keys as they are: ``Email=`` is ``[[cti.Email]]``); the reserved keys (``ani``,
``dnis``, ``type``, ``queue``, ``caller_name``, ``token``, ``event``, ``callid``, ``cause``,
``number``) are matched in any case. A repeated key keeps its last value. Values are form-decoded
(``+`` is a space) except that a *leading* ``+`` of ``ani``, ``dnis`` and ``number`` is the
international prefix (softphones and scripts often send ``?ani=+358401234567`` unencoded). The answer
is ``200 {"call": "<id>"}``; errors are ``{"error": "<why>"}``: 400 (bad percent-encoding, not
UTF-8, a bad key or event), 403 (see below), 404 (no such call), 413 (body too big), 414 (query
too long), 415 (a body neither form nor JSON). ``GET /health`` answers ``200 {"status": "ok"}``.

**Call progress from the softphone** (``event=``, default ``ring``): ``event=answer``,
``event=hangup`` (optional ``cause=``) and ``event=dial`` (a call placed on the phone itself)
name the call by ``callid=<id>`` (the pop's answer) or, since a softphone hook only knows the
number, by ``ani=<number>`` (the most recent live call with that number; spaces, dashes and ``+``
are ignored in the comparison), or by nothing (the most recent live call: for a phone whose hook
gives no number). A hang-up of a call still ringing is reported as missed
(``CallMissed(abandoned=True)``); a ringing call nobody reports on is missed after ``ring_seconds``
(``CallMissed(abandoned=False)``).

**Call control happens on the softphone.** The listener is a pop source with no phone: ``answer``,
``reject``, ``hangup``, ``hold``, ``retrieve`` and ``mute`` only change the call's state here and
emit the matching events (so the desktop's view stays consistent); transfers, conferences, DTMF and
recording are not supported. ``dial`` runs ``dial_command`` (split like a shell command line, but
never through a shell; ``{number}`` is replaced in each argument, or the number is appended; on
Windows quote paths with double quotes) and reports ``CallDialing``; without it, ``dial`` is not
supported. Agent states (``login``, ``logout``, ``set_agent_state``) are kept locally. The call
bookkeeping is shared with the simulator (:mod:`usd_desktop.cti.adapters.local_calls`).

**Security** (a local listener is an attack surface; peers §2.10, lesson 9). Refused with 403:
a peer that is not on the loopback interface (even when bound to 127.0.0.1); a ``Host`` header that
is not a loopback name (DNS rebinding: a web page whose domain resolves to 127.0.0.1); an
``Origin`` header (any request a web page makes with ``fetch``, including ``Origin: null`` from a
sandboxed frame) unless listed in ``allowed_origins``; ``Sec-Fetch-Site: cross-site`` or
``same-site`` (a web page's ``<img src=...>`` sends no ``Origin`` but does send this); a missing or
wrong token when one is set (``token=`` in the query, ``Authorization: Bearer <token>`` or
``X-USD-Token``). With ``allow_remote: true`` the listener may bind any address; the peer and
``Host`` checks are off, and a token is required. No access log is written (URLs carry customer
data and the token).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import unquote

from aiohttp import web
from pydantic import Field, ValidationInfo, field_validator

from usd_desktop.cti.adapters.local_calls import LocalCall, LocalCallsAdapter
from usd_desktop.cti.contract import (
    Activity,
    AdapterSettings,
    CallDialing,
    CallId,
    CallOffered,
    ConnectionUp,
    CtiError,
    NotSupported,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = "usd-desktop/cti/http_listener"
ACTIVITIES: dict[str, Activity] = {"phonecall": "phonecall", "chat": "chat", "email": "email", "sms": "sms",
                                   "web": "web"}
RESERVED = frozenset({"ani", "dnis", "type", "queue", "caller_name", "token", "event", "callid", "cause",
                      "number"})
EVENTS = ("ring", "answer", "hangup", "dial")
#: Keys with a leading ``+`` kept as the international prefix rather than read as a space.
NUMBER_KEYS = frozenset({"ani", "dnis", "number"})
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
BAD_KEY = re.compile(r"[\x00-\x1f\x7f\[\]]")
DIALLABLE = re.compile(r"^\+?[0-9A-Za-z*#@.:_][0-9A-Za-z*#@.:_-]*$")
BASE_CAPABILITIES = frozenset({
    "login", "logout", "set_agent_state", "answer", "reject", "hangup", "hold", "retrieve", "mute",
    "complete_wrap_up",
})
#: Seconds ``close`` waits for dial commands still running (then they are left to finish alone).
DIAL_COMMAND_GRACE = 2.0


# ---------------------------------------------------------------------- settings
def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``, ``::ffff:127.0.0.1``)."""
    host = host.strip().strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class HttpListenerSettings(AdapterSettings):
    allow_remote: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=0, le=65535)
    token_keyring: bool = False
    token: str | None = Field(default=None, validate_default=True)
    allowed_origins: tuple[str, ...] = ()
    ring_seconds: float | None = Field(default=30.0, gt=0)
    max_query_bytes: int = Field(default=8192, ge=256, le=1_048_576)
    dial_command: str | None = None

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value:
            raise ValueError("host is empty")
        if not info.data.get("allow_remote", False) and not is_loopback_host(value):
            raise ValueError(
                f"{value} is not a loopback address: anyone who can reach it could pop sessions; "
                "use 127.0.0.1, or set allow_remote: true (and a token)"
            )
        return value

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value:
            raise ValueError("token is empty (leave it out for no token)")
        if value is not None and info.data.get("token_keyring"):
            raise ValueError("give the token either in the keyring (token_keyring: true) or here, not both")
        if info.data.get("allow_remote") and value is None and not info.data.get("token_keyring"):
            raise ValueError("allow_remote needs a token (token_keyring: true, or token)")
        return value

    @field_validator("dial_command")
    @classmethod
    def _dial_command(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                argv = split_command(value)
            except ValueError as exc:
                raise ValueError(f"dial_command cannot be split into arguments: {exc}") from None
            if not argv:
                raise ValueError("dial_command is empty")
        return value


def split_command(template: str) -> list[str]:
    """A command template as arguments (POSIX rules; on Windows, double quotes only)."""
    if os.name != "nt":
        return shlex.split(template)
    args = shlex.split(template, posix=False)
    return [a[1:-1] if len(a) >= 2 and a[0] == a[-1] == '"' else a for a in args]


def dial_argv(template: str, number: str) -> list[str]:
    """The dial command's arguments: ``{number}`` replaced in each (the number appended if none has it).
    The number stays one argument whatever it holds, and no shell ever sees it."""
    args = split_command(template)
    if any("{number}" in a for a in args):
        return [a.replace("{number}", number) for a in args]
    return [*args, number]


# ---------------------------------------------------------------------- request checks
class BadRequest(ValueError):
    """A request the listener cannot read: its message is the 400 answer."""


def peer_refusal(
    *,
    remote: str | None,
    host_header: str | None,
    origin: str | None,
    fetch_site: str | None,
    allow_remote: bool = False,
    allowed_origins: tuple[str, ...] = (),
) -> str | None:
    """Why a request must be refused (403), or ``None``. See the module docstring."""
    if not allow_remote:
        if remote is None or not is_loopback_host(remote):
            return f"requests from {remote or 'an unknown peer'} are refused: only this computer may call"
        if host_header:
            name = host_header.strip()
            name = name[1:].partition("]")[0] if name.startswith("[") else name.rpartition(":")[0] or name
            if not is_loopback_host(name):
                return f"Host {host_header} is refused: call the listener as 127.0.0.1 or localhost"
    if origin is not None and origin.strip() not in allowed_origins:
        return f"requests from web pages are refused (Origin: {origin})"
    if origin is None and fetch_site in ("cross-site", "same-site"):
        return f"requests from web pages are refused (Sec-Fetch-Site: {fetch_site})"
    return None


def _decode(text: str, *, plus_is_space: bool, keep_leading_plus: bool = False) -> str:
    bad = BAD_PERCENT.search(text)
    if bad is not None:
        raise BadRequest(f"bad percent-encoding {text[bad.start():bad.start() + 3]!r}: "
                         "% must be followed by two hexadecimal digits")
    lead = ""
    if keep_leading_plus and text.startswith("+"):
        lead, text = "+", text[1:]
    if plus_is_space:
        text = text.replace("+", " ")
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        raise BadRequest("the query is not valid: non-ASCII bytes must be percent-encoded as UTF-8") from None
    try:
        return lead + unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the query is not valid UTF-8 once percent-decoded") from None


def parse_query(raw: str) -> list[tuple[str, str]]:
    """``a=1&b=x+y`` -> ``[("a", "1"), ("b", "x y")]``, strictly (:class:`BadRequest` says why)."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = _decode(raw_key, plus_is_space=True)
        if not key:
            continue
        if BAD_KEY.search(key):
            raise BadRequest(f"the key {key!r} is not allowed: no control characters or brackets")
        keep_plus = key.lower() in NUMBER_KEYS
        pairs.append((key, _decode(raw_value, plus_is_space=True, keep_leading_plus=keep_plus)))
    return pairs


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise BadRequest(f"the JSON field {key!r} must be a string, a number or a boolean")


def _number_key(number: str) -> str:
    return "".join(ch for ch in number if ch.isalnum()).lower()


# ---------------------------------------------------------------------- the adapter
class HttpListenerAdapter(LocalCallsAdapter):
    """A loopback HTTP server that turns USD-style URLs into ``CallOffered`` events."""

    name: ClassVar[str] = "http_listener"
    settings_model: ClassVar[type[AdapterSettings]] = HttpListenerSettings
    keyring_service: ClassVar[str | None] = KEYRING_SERVICE
    capabilities: ClassVar[frozenset[str]] = BASE_CAPABILITIES
    label: ClassVar[str] = "the HTTP listener"
    id_prefix: ClassVar[str] = "http"
    answerable = ("ringing", "dialing")  # the softphone's user answers, or the far end of a dial

    settings: HttpListenerSettings

    def __init__(self, settings: AdapterSettings, *, secrets: Mapping[str, str] | None = None) -> None:
        if not isinstance(settings, HttpListenerSettings):
            settings = HttpListenerSettings.model_validate(settings.model_dump())
        super().__init__(settings, secrets=secrets)
        self._token: str | None = self.secrets.get("token") if settings.token_keyring else settings.token
        if settings.token_keyring and not self._token:
            raise CtiError(f"CTI adapter {self.name}: token_keyring is set, but no token was read from "
                           f"the keyring (service {KEYRING_SERVICE!r}, name 'token')")
        if settings.dial_command:
            # Capabilities depend on the settings here: the instance's set shadows the class's.
            self.__dict__["capabilities"] = BASE_CAPABILITIES | {"dial"}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._dial_commands: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        """The port it listens on (the bound one once started, so also with ``port: 0``)."""
        return self._port if self._port is not None else self.settings.port

    @property
    def url(self) -> str:
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    async def connect(self) -> None:
        if self._runner is not None:
            return
        limit = self.settings.max_query_bytes
        app = web.Application(
            client_max_size=limit,
            # room for our own 414 answer; past this aiohttp answers 400 by itself
            handler_args={"max_line_size": max(65536, 8 * limit)},
        )
        app.router.add_get("/", self._handle, allow_head=False)
        app.router.add_post("/", self._handle)
        app.router.add_get("/health", self._health, allow_head=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise CtiError(f"the HTTP listener cannot listen on {self.settings.host}:{self.settings.port}: "
                           f"{exc.strerror or exc}") from None
        self._runner = runner
        addresses = runner.addresses
        self._port = int(addresses[0][1]) if addresses else self.settings.port
        self.emit(ConnectionUp(detail=f"listening on {self.url}"))

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if self._dial_commands:  # a dial command still running is waited for a moment, not killed
            await asyncio.wait(set(self._dial_commands), timeout=DIAL_COMMAND_GRACE)
        await self._close_calls()
        if runner is not None:
            await runner.cleanup()  # no ConnectionLost: closing is asked for, not a loss

    # ------------------------------------------------------------------ HTTP
    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    def _refusal(self, request: web.BaseRequest) -> str | None:
        return peer_refusal(
            remote=request.remote,
            host_header=request.headers.get("Host"),
            origin=request.headers.get("Origin"),
            fetch_site=request.headers.get("Sec-Fetch-Site"),
            allow_remote=self.settings.allow_remote,
            allowed_origins=self.settings.allowed_origins,
        )

    async def _health(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return self._error(403, refusal)
        return web.json_response({"status": "ok", "adapter": self.name})

    async def _handle(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            log.warning("HTTP listener: refused a request: %s", refusal)
            return self._error(403, refusal)
        raw_query = request.raw_path.partition("?")[2]
        size = len(raw_query.encode("utf-8", "surrogateescape"))
        if size > self.settings.max_query_bytes:
            return self._error(414, f"the query is {size} bytes long; at most "
                                    f"{self.settings.max_query_bytes} are accepted")
        try:
            pairs = parse_query(raw_query)
            if request.method == "POST":
                pairs += await self._body(request)
        except BadRequest as exc:
            return self._error(400, str(exc))
        except web.HTTPException as exc:
            return self._error(exc.status, exc.reason)
        fields: dict[str, str] = {}
        data: dict[str, str] = {}
        for key, value in pairs:
            if key.lower() in RESERVED:
                fields[key.lower()] = value
            else:
                data[key] = value
        supplied = fields.pop("token", None) or self._header_token(request)
        if self._token is not None and not (
            supplied is not None and hmac.compare_digest(supplied.encode(), self._token.encode())
        ):
            log.warning("HTTP listener: refused a request with a %s token",
                        "wrong" if supplied else "missing")
            return self._error(403, "a missing or wrong token")
        event = fields.pop("event", "ring").strip().lower() or "ring"
        try:
            if event == "ring":
                return web.json_response({"call": self._pop(fields, data)})
            if event == "dial":
                return web.json_response({"call": self._dialled_on_phone(fields, data), "event": event})
            if event in ("answer", "hangup"):
                found = self._find(fields)
                if found is None:
                    which = fields.get("callid") or fields.get("ani") or fields.get("number") or "?"
                    return self._error(404, f"no live call {which} to {event}")
                self._progress(found, event, fields.get("cause", ""))
                return web.json_response({"call": found.id, "event": event})
        except BadRequest as exc:
            return self._error(400, str(exc))
        return self._error(400, f"unknown event {event!r} (one of {', '.join(EVENTS)})")

    @staticmethod
    def _header_token(request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return request.headers.get("X-USD-Token")

    async def _body(self, request: web.Request) -> list[tuple[str, str]]:
        body = await request.read()  # HTTPRequestEntityTooLarge (413) past client_max_size
        if not body:
            return []
        kind = request.content_type
        if kind == "application/x-www-form-urlencoded":
            try:
                text = body.decode("ascii")
            except UnicodeDecodeError:
                raise BadRequest("the form is not valid: non-ASCII bytes must be percent-encoded") from None
            return parse_query(text)
        if kind == "application/json":
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadRequest(f"the JSON body is not valid: {exc}") from None
            if not isinstance(parsed, dict):
                raise BadRequest("the JSON body must be an object of key: value")
            return [(str(k), _scalar(str(k), v)) for k, v in parsed.items()]
        raise web.HTTPUnsupportedMediaType(
            reason=f"a body must be a form (application/x-www-form-urlencoded) or JSON, not {kind}"
        )

    # ------------------------------------------------------------------ calls from requests
    def _pop(self, fields: dict[str, str], data: dict[str, str]) -> CallId:
        kind = fields.get("type", "").strip()
        activity = ACTIVITIES.get(kind.lower())
        if activity is None:
            activity = "phonecall"
            if kind:
                data.setdefault("type", kind)
        call_id = self._new_id()
        offered = CallOffered(
            call=call_id, ani=fields.get("ani", ""), dnis=fields.get("dnis", ""),
            queue=fields.get("queue", ""), direction="inbound", activity=activity,
            caller_name=fields.get("caller_name", ""), data=data,
        )
        call = self._register(LocalCall(call_id, "inbound", offered.ani, "ringing", offered))
        if self.settings.ring_seconds is not None:
            self._after(call, self.settings.ring_seconds, lambda: self._ring_timeout(call))
        return call_id

    def _dialled_on_phone(self, fields: dict[str, str], data: dict[str, str]) -> CallId:
        number = fields.get("number") or fields.get("ani") or ""
        if not number:
            raise BadRequest("event=dial needs the number dialled (number= or ani=)")
        return self._outbound(number, data).id

    def _outbound(self, number: str, data: Mapping[str, str]) -> LocalCall:
        call_id = self._new_id()
        dialing = CallDialing(call=call_id, number=number, data=dict(data))
        return self._register(LocalCall(call_id, "outbound", number, "dialing", dialing))

    def _find(self, fields: dict[str, str]) -> LocalCall | None:
        call_id = fields.get("callid")
        if call_id:
            return self._calls.get(call_id)
        key = _number_key(fields.get("ani") or fields.get("number") or "")
        for call in reversed(list(self._calls.values())):
            if not key or _number_key(call.number) == key:
                return call
        return None

    def _progress(self, call: LocalCall, event: str, cause: str) -> None:
        if event == "answer":
            if call.state in ("ringing", "dialing"):
                self._connect(call)
        else:
            self.far_end_hangs_up(call.id, cause)

    def _ring_timeout(self, call: LocalCall) -> None:
        if call.state == "ringing":
            self._miss(call, abandoned=False)

    # ------------------------------------------------------------------ operations
    # answer, reject, hangup, hold, retrieve, mute and the agent states only change the call's
    # state here and report it (LocalCallsAdapter): the phone is the softphone's.
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        template = self.settings.dial_command
        if not template:
            raise NotSupported(f"the {self.name} adapter cannot dial: it has no dial_command "
                               "(e.g. \"microsip.exe {number}\"); dial on the softphone")
        number = number.strip()
        if not DIALLABLE.match(number):
            raise CtiError(f"the HTTP listener cannot dial {number!r}: a number may hold digits, letters, "
                           "+ (first), *, #, @, ., :, _ and - (not first)")
        argv = dial_argv(template, number)
        await self._run_dial_command(argv)
        return self._outbound(number, data or {}).id

    async def _run_dial_command(self, argv: list[str]) -> None:
        quiet: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
                                 "stderr": subprocess.DEVNULL}
        try:
            try:
                process = await asyncio.create_subprocess_exec(*argv, **quiet)
            except NotImplementedError:
                # an event loop without subprocess support (e.g. a selector loop on Windows)
                subprocess.Popen(argv, **quiet)
                return
        except OSError as exc:
            raise CtiError(f"the dial command {argv[0]} could not be started: "
                           f"{exc.strerror or exc}") from None

        async def reap() -> None:
            code = await process.wait()
            if code:
                log.warning("HTTP listener: the dial command %s exited with %s", argv[0], code)

        task = self._spawn(reap())
        self._dial_commands.add(task)
        task.add_done_callback(self._dial_commands.discard)
