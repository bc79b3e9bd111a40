"""``usd-cti-hook``: what a softphone runs on a call event, to tell the desktop's HTTP listener.

Many softphones can run a program when a call comes in, is answered or ends; this turns that into a
request to the ``http_listener`` CTI adapter (:mod:`.http_listener`), which pops the session::

    usd-cti-hook [--url http://127.0.0.1:5000/] [--token T] [--event ring|answer|hangup|dial]
                 [--type phonecall] [--queue Q] [--timeout 2] [--twinkle] [NUMBER] [key=value ...]

``NUMBER`` is the caller's (or, for ``dial``, the called) number; each ``key=value`` becomes attached
data (``[[cti.key]]``). ``--url`` and ``--token`` default to the environment variables
``USD_CTI_URL`` and ``USD_CTI_TOKEN`` (so a softphone that cannot pass arguments needs none); the
token goes in a header, never in the URL. It prints nothing on success (exit 0); when the desktop
is not listening, refuses the request or does not answer in time, it prints why on standard error
and exits 1. Only the standard library is used, so it starts fast.

``answer`` and ``hangup`` find the call by its number (the most recent live call with that number;
with no number, the most recent live call).

**MicroSIP** (Windows; ``microsip.ini``, section ``[Settings]``, edited while MicroSIP is closed).
MicroSIP runs the program named by a ``cmd...`` key with the caller's number (the SIP user part) as
its only argument, so point the keys at ``usd-cti-hook.exe`` (in the desktop's ``Scripts`` folder)
for the pop, and at two one-line ``.cmd`` files for the call's progress::

    cmdIncomingCall=C:\\Program Files\\usd-desktop\\Scripts\\usd-cti-hook.exe
    cmdCallAnswer=C:\\Program Files\\usd-desktop\\usd-cti-answer.cmd
    cmdCallEnd=C:\\Program Files\\usd-desktop\\usd-cti-hangup.cmd

    rem usd-cti-answer.cmd
    @"C:\\Program Files\\usd-desktop\\Scripts\\usd-cti-hook.exe" --event answer %1
    rem usd-cti-hangup.cmd
    @"C:\\Program Files\\usd-desktop\\Scripts\\usd-cti-hook.exe" --event hangup %1

Set the token once with ``setx USD_CTI_TOKEN <token>`` (and ``setx USD_CTI_URL
http://127.0.0.1:5001/`` for another port). Use ``cmdIncomingCall`` *or* ``cmdCallRing``, not both
(each would pop). The listener's ``dial_command: '"C:\\Program Files\\MicroSIP\\microsip.exe"
{number}'`` lets the desktop dial through MicroSIP.

**Twinkle** (Linux; per user profile: *Edit profile > Scripts*, or the ``script_*`` keys of the
profile file). Twinkle runs the command with its arguments split on spaces (give the full path) and
passes the call in environment variables; ``--twinkle`` reads them: ``TWINKLE_TRIGGER`` gives the
event (``in_call`` -> ring, ``in_call_answered`` / ``out_call_answered`` -> answer,
``in_call_failed`` / ``out_call_failed`` / ``local_release`` / ``remote_release`` -> hangup,
``out_call`` -> dial), ``SIP_FROM_USER`` / ``SIP_TO_USER`` the numbers (the caller on an incoming
call, the called party on an outgoing one, the far end on a release: best effort, Twinkle passes
the SIP message that triggered the script), ``SIP_FROM``'s display name the caller's name::

    script_incoming_call=/usr/local/bin/usd-cti-hook --twinkle
    script_in_call_answered=/usr/local/bin/usd-cti-hook --twinkle
    script_in_call_failed=/usr/local/bin/usd-cti-hook --twinkle
    script_remote_release=/usr/local/bin/usd-cti-hook --twinkle
    script_local_release=/usr/local/bin/usd-cti-hook --twinkle

Twinkle waits for the incoming-call script to finish before it rings, so keep ``--timeout`` short
(2 s by default). The hook writes nothing on standard output, which Twinkle reads as "continue".

Any other phone or middleware that can run a command (or open a URL: see the listener's docs) works
the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

DEFAULT_URL = "http://127.0.0.1:5000/"
EVENTS = ("ring", "answer", "hangup", "dial")
#: Twinkle's TWINKLE_TRIGGER -> (event, the environment variable with the far end's number, cause).
TWINKLE_TRIGGERS: dict[str, tuple[str, str, str]] = {
    "in_call": ("ring", "SIP_FROM_USER", ""),
    "in_call_answered": ("answer", "SIP_FROM_USER", ""),
    "in_call_failed": ("hangup", "SIP_FROM_USER", "failed"),
    "out_call": ("dial", "SIP_TO_USER", ""),
    "out_call_answered": ("answer", "SIP_TO_USER", ""),
    "out_call_failed": ("hangup", "SIP_TO_USER", "failed"),
    "local_release": ("hangup", "SIP_TO_USER", ""),
    "remote_release": ("hangup", "SIP_FROM_USER", ""),
}
_DISPLAY_NAME = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<')


class HookError(Exception):
    """What went wrong, as the one line the hook prints."""


def parse_args(argv: Sequence[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="usd-cti-hook",
        description="Tell the desktop's CTI HTTP listener about a softphone's call event.",
    )
    parser.add_argument("--url", default=environ.get("USD_CTI_URL") or DEFAULT_URL,
                        help="the listener's address (default: $USD_CTI_URL or %(default)s)")
    parser.add_argument("--token", default=environ.get("USD_CTI_TOKEN") or None,
                        help="the listener's shared secret (default: $USD_CTI_TOKEN)")
    parser.add_argument("--event", choices=EVENTS, default=None, help="the call event (default: ring)")
    parser.add_argument("--type", default="", help="phonecall (default), chat, email, sms or web")
    parser.add_argument("--queue", default="", help="the queue or line the call came in on")
    parser.add_argument("--dnis", default="", help="the number that was called")
    parser.add_argument("--caller-name", default="", help="the caller's name, when the phone knows it")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait (default: 2)")
    parser.add_argument("--twinkle", action="store_true",
                        help="read the event and the numbers from Twinkle's script environment")
    parser.add_argument("items", nargs="*", metavar="NUMBER | key=value",
                        help="the far end's number, then attached data as key=value")
    args = parser.parse_args(argv)
    numbers = [item for item in args.items if "=" not in item]
    if len(numbers) > 1:
        parser.error(f"one NUMBER only (got {', '.join(numbers)}); give data as key=value")
    args.number = numbers[0] if numbers else ""
    args.data = [tuple(item.split("=", 1)) for item in args.items if "=" in item]
    if any(not key for key, _ in args.data):
        parser.error("a key=value item has an empty key")
    return args


def display_name(header: str) -> str:
    """The display name of a SIP ``From`` header (``"Alice" <sip:...>`` -> ``Alice``)."""
    match = _DISPLAY_NAME.match(header)
    if not match:
        return ""
    quoted, bare = match.groups()
    name = quoted if quoted is not None else bare or ""
    return re.sub(r"\\(.)", r"\1", name).strip()


def request_params(args: argparse.Namespace, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The query of the listener request, in order."""
    event = args.event or "ring"
    number, caller_name, dnis, cause = args.number, args.caller_name, args.dnis, ""
    if args.twinkle:
        trigger = environ.get("TWINKLE_TRIGGER", "")
        if trigger not in TWINKLE_TRIGGERS:
            raise HookError(f"--twinkle: TWINKLE_TRIGGER is {trigger or 'not set'!s}, not one of "
                            f"{', '.join(TWINKLE_TRIGGERS)} (is this run by Twinkle?)")
        twinkle_event, variable, cause = TWINKLE_TRIGGERS[trigger]
        event = args.event or twinkle_event
        number = number or environ.get(variable, "")
        if trigger == "in_call":
            dnis = dnis or environ.get("SIP_TO_USER", "")
            caller_name = caller_name or display_name(environ.get("SIP_FROM", ""))
    if event in ("ring", "dial") and not number:
        raise HookError(f"a {event} event needs the far end's NUMBER")
    params: list[tuple[str, str]] = [("event", event)]
    if number:
        params.append(("ani", number))
    for key, value in (("dnis", dnis), ("type", args.type), ("queue", args.queue),
                       ("caller_name", caller_name), ("cause", cause)):
        if value:
            params.append((key, value))
    params.extend(args.data)
    return params


def build_url(base: str, params: Sequence[tuple[str, str]]) -> str:
    """``base`` with ``params`` percent-encoded (``+`` as ``%2B`` and a space as ``%20``)."""
    query = urlencode(list(params), quote_via=quote, safe="")
    return f"{base}{'&' if '?' in base else '?'}{query}"


def send(url: str, token: str | None, timeout: float) -> None:
    """One GET to the listener; :class:`HookError` says why it failed."""
    headers = {"User-Agent": "usd-cti-hook"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers, method="GET")
    # never through a proxy: the listener is on this computer
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    where = url.split("?", 1)[0]
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = str(json.loads(exc.read().decode("utf-8")).get("error", ""))
        except (ValueError, AttributeError, OSError):
            pass
        raise HookError(f"the desktop at {where} refused the call event ({exc.code}): "
                        f"{detail or exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise HookError(f"the desktop is not listening at {where} (connection refused): is usd-desktop "
                            "running with the http_listener CTI adapter on that port?") from None
        if isinstance(reason, TimeoutError):
            raise HookError(f"the desktop at {where} did not answer within {timeout:g} s") from None
        raise HookError(f"cannot reach the desktop at {where}: {reason}") from None
    except TimeoutError:
        raise HookError(f"the desktop at {where} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise HookError(f"cannot reach the desktop at {where}: {exc}") from None


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    args = parse_args(argv, env)
    try:
        if not args.url.lower().startswith(("http://", "https://")):
            raise HookError(f"--url must be an http:// address, not {args.url!r}")
        send(build_url(args.url, request_params(args, env)), args.token, args.timeout)
    except HookError as exc:
        print(f"usd-cti-hook: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
