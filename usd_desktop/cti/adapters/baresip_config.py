"""Settings of the ``baresip`` CTI adapter, the configuration it generates, the process it spawns
(:func:`start_baresip`, :func:`stop_baresip`), and SIP URI helpers.

In ``spawn`` mode the adapter writes a private configuration directory (``0700``) for baresip:
``config`` (SIP listen address, the modules that run headless, ``ctrl_tcp`` on 127.0.0.1 and a free
port), ``accounts`` (``0600``: the only place the SIP password is ever written) and an empty
``contacts``. What works on baresip 1.0.0 (Debian 12 ``baresip-core``): the ``menu`` module must be
loaded (``ctrl_tcp`` forwards commands to it); ``ausine`` only produces 48 kHz, so the headless
``sine`` audio needs ``opus/48000/2`` (with G.711 only, calls never establish); TLS binds the SIP
port + 1, so two instances on one machine need SIP ports at least 2 apart.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from usd_desktop.cti.contract import AdapterSettings, CtiError

log = logging.getLogger(__name__)
DEFAULT_MODULE_PATH = "/usr/lib/baresip/modules"
_URI = re.compile(r"^(sips?):([^@\s<>\";]+@)?([^\s<>\";:@]+|\[[0-9a-fA-F:.]+\])(:\d{1,5})?(;[^\s<>\"]*)?$")
_DIAL_SEPARATORS = re.compile(r"[\s().\-/]")
_NUMBER = re.compile(r"^\+?[0-9*#]+$")
#: Characters baresip's account line cannot carry inside a parameter value.
_UNSAFE_VALUE = re.compile(r"[\s;\"<>\\]")
_CODECS = re.compile(r"^[A-Za-z0-9/._-]+(,[A-Za-z0-9/._-]+)*$")


class BaresipSettings(AdapterSettings):
    """Settings of the ``baresip`` adapter (credentials come from the keyring, see ``username``)."""

    mode: Literal["spawn", "attach"] = "spawn"
    #: spawn: the baresip program.
    baresip: str = "baresip"
    #: The agent's SIP address of record: ``sip:agent1@127.0.0.1:5062`` (peer to peer) or
    #: ``sip:agent1@pbx.example.com`` with a ``registrar``.
    account: str = "sip:agent@127.0.0.1:5062"
    display_name: str = ""
    #: The registrar the account registers with (``sip:127.0.0.1:5060``); none: no registration.
    #: baresip 1.0.0 sends REGISTER to the account's domain through the outbound proxy, so the
    #: registrar is used as the outbound proxy unless ``outbound`` names another one.
    registrar: str | None = None
    outbound: str | None = None
    register_interval: int = Field(default=600, ge=30, le=86400)
    #: The SIP authentication user; its password is read from the keyring (service
    #: ``usd-desktop/cti/baresip``, this name). Empty: the account's user, no password.
    username: str = ""
    #: spawn: the SIP address baresip listens on (default: the account's host and port when there is
    #: no registrar, else ``0.0.0.0:5060``).
    sip_listen: str | None = None
    #: ``sine``: a test tone, no sound card (headless, tests); ``alsa`` / ``pulse``: a real headset
    #: (on Debian 12 the pulse module comes with ``baresip-x11``, the others with ``baresip-core``).
    audio: Literal["sine", "alsa", "pulse"] = "sine"
    audio_device: str = "default"
    #: The account's codecs (default: ``opus/48000/2`` for ``sine``, opus + G.722 + G.711 otherwise).
    audio_codecs: str | None = None
    module_path: str = DEFAULT_MODULE_PATH
    #: attach: the ctrl_tcp address of a running baresip (``ctrl_tcp_listen``).
    ctrl_host: str = "127.0.0.1"
    ctrl_port: int = Field(default=4444, ge=1, le=65535)
    #: ctrl_tcp has no authentication: a non-loopback ``ctrl_host`` is refused unless this is true.
    allow_remote: bool = False
    command_timeout: float = Field(default=5.0, gt=0, le=120)
    #: spawn: seconds for baresip to start (and, with a registrar, to register).
    start_timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("account", "registrar", "outbound")
    @classmethod
    def _sip_uri(cls, value: str | None) -> str | None:
        if value is not None and not _URI.match(value):
            raise ValueError(f"{value!r} is not a SIP URI (sip:user@host[:port])")
        return value

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        if _UNSAFE_VALUE.search(value.replace(" ", "")):
            raise ValueError("must not contain quotes, ';', '<', '>' or backslashes")
        return value

    @field_validator("username", "audio_device")
    @classmethod
    def _safe_value(cls, value: str) -> str:
        if _UNSAFE_VALUE.search(value):
            raise ValueError("must not contain spaces, quotes, ';', '<', '>' or backslashes")
        return value

    @field_validator("audio_codecs")
    @classmethod
    def _codec_list(cls, value: str | None) -> str | None:
        if value is not None and not _CODECS.match(value):
            raise ValueError("must be a comma-separated list of codecs (opus/48000/2,PCMU)")
        return value

    @model_validator(mode="after")
    def _checks(self) -> BaresipSettings:
        if not sip_user(self.account):
            raise ValueError(f"the account {self.account!r} has no user part (sip:user@host)")
        if self.mode == "attach" and not self.allow_remote and not is_loopback(self.ctrl_host):
            raise ValueError(
                f"ctrl_host {self.ctrl_host!r} is not a loopback address: baresip's ctrl_tcp has no "
                "authentication (set allow_remote: true only on a network you trust)")
        if self.sip_listen is not None:
            split_hostport(self.sip_listen)
        return self

    # -------------------------------------------------------------- derived values
    def listen_address(self) -> str:
        if self.sip_listen:
            return self.sip_listen
        if self.registrar is None:
            host, port = sip_hostport(self.account)
            return f"{host}:{port or 5060}"
        return "0.0.0.0:5060"

    def codecs(self) -> str:
        if self.audio_codecs:
            return self.audio_codecs
        return "opus/48000/2" if self.audio == "sine" else "opus/48000/2,G722,PCMU,PCMA"


# ---------------------------------------------------------------------- URI helpers
def sip_user(uri: str) -> str:
    """The user part of a SIP URI (``""`` when it has none)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    return rest.split("@", 1)[0] if "@" in rest else ""


def sip_hostport(uri: str) -> tuple[str, int | None]:
    """The host and port (``None``: not given) of a SIP URI."""
    rest = uri.split(":", 1)[1] if uri.lower().startswith(("sip:", "sips:")) else uri
    rest = rest.split(";", 1)[0].split("@", 1)[-1]
    return split_hostport(rest)


def split_hostport(text: str) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":")
    if not sep or host.endswith(":"):  # no port (or a bare IPv6 address)
        return text, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: bad port {port!r}")
    return host, int(port)


def sip_domain(uri: str) -> str:
    host, port = sip_hostport(uri)
    return f"{host}:{port}" if port else host


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def dial_uri(number: str, account: str) -> str:
    """What to dial for ``number``: a SIP URI as it is, ``user@host`` with ``sip:``, ``tel:`` or a
    bare number (separators removed) as ``sip:<number>@<the account's domain>``."""
    text = number.strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    if text.lower().startswith(("sip:", "sips:")):
        uri = text
    elif "@" in text:
        uri = f"sip:{text}"
    else:
        digits = _DIAL_SEPARATORS.sub("", text)
        if not is_number(digits):
            raise CtiError(f"the baresip adapter cannot dial {number!r}: not a number or a SIP URI")
        uri = f"sip:{digits}@{sip_domain(account)}"
    if not _URI.match(uri):
        raise CtiError(f"the baresip adapter cannot dial {number!r}: {uri!r} is not a SIP URI")
    return uri


# ---------------------------------------------------------------------- generated configuration
def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the usual small race: it is given back before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def render_config(settings: BaresipSettings, ctrl_port: int) -> str:
    """baresip's ``config`` file for ``settings`` with ctrl_tcp on 127.0.0.1:``ctrl_port``."""
    listen = settings.listen_address()
    host, _ = split_hostport(listen)
    lines = [
        "# generated by usd_desktop (baresip CTI adapter); rewritten at every start",
        "poll_method epoll",
        f"sip_listen {listen}",
    ]
    if host not in ("0.0.0.0", "", "[::]", "::"):
        lines.append(f"net_interface {host.strip('[]')}")
    lines += [f"module_path {settings.module_path}", "module opus.so"]
    if settings.audio == "sine":
        lines += ["module ausine.so", "module aubridge.so"]
    else:
        lines += ["module g722.so", "module g711.so", f"module {settings.audio}.so"]
    lines += [
        "module_tmp account.so",
        "module_app menu.so",
        "module_app ctrl_tcp.so",
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
    ]
    if settings.audio == "sine":
        lines += ["audio_player aubridge,a", "audio_source ausine,440", "audio_alert aubridge,a"]
    else:
        device = f"{settings.audio},{settings.audio_device}"
        lines += [f"audio_player {device}", f"audio_source {device}", f"audio_alert {device}"]
    return "\n".join(lines) + "\n"


def render_account(settings: BaresipSettings, password: str | None) -> str:
    """The ``accounts`` line (it holds the password: write it only to a ``0600`` file)."""
    address = f"<{settings.account}>"
    if settings.display_name:
        address = f"\"{settings.display_name}\" {address}"
    params = []
    if password:
        if _UNSAFE_VALUE.search(password):
            raise CtiError("the baresip adapter cannot use this SIP password: baresip's accounts file "
                           "cannot hold spaces, quotes, ';', '<', '>' or backslashes in it")
        params += [f"auth_user={settings.username or sip_user(settings.account)}", f"auth_pass={password}"]
    proxy = settings.outbound or settings.registrar
    if proxy:
        params.append(f"outbound=\"{proxy}\"")
    params.append(f"regint={settings.register_interval if settings.registrar else 0}")
    params += ["answermode=manual", f"audio_codecs={settings.codecs()}"]
    return address + "".join(f";{p}" for p in params) + "\n"


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to a new ``0600`` file (replacing an older one)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def write_config_dir(directory: Path, settings: BaresipSettings, ctrl_port: int,
                     password: str | None) -> None:
    """Fill ``directory`` (made ``0700``) with ``config``, ``accounts`` and ``contacts``."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    write_private_file(directory / "config", render_config(settings, ctrl_port))
    write_private_file(directory / "accounts", render_account(settings, password))
    write_private_file(directory / "contacts", "")


# ---------------------------------------------------------------------- the spawned process
def start_baresip(settings: BaresipSettings, directory: Path,
                  password: str | None) -> tuple[subprocess.Popen[bytes], int]:
    """Write the configuration to ``directory`` and start baresip there (its output goes to
    ``baresip.log``); returns the process and its ctrl_tcp port."""
    program = shutil.which(settings.baresip)
    if program is None:
        raise CtiError(f"the baresip adapter cannot find the program {settings.baresip!r} "
                       "(on Debian: apt-get install baresip-core)")
    audio = "ausine" if settings.audio == "sine" else settings.audio
    if not (Path(settings.module_path) / f"{audio}.so").is_file():
        package = "baresip-x11" if audio == "pulse" else "baresip-core"
        raise CtiError(f"the baresip adapter cannot find baresip's {audio} module in "
                       f"{settings.module_path} (on Debian: apt-get install {package})")
    ctrl_port = free_tcp_port()
    write_config_dir(directory, settings, ctrl_port, password)
    log_fd = os.open(directory / "baresip.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as out:
        process = subprocess.Popen([program, "-f", str(directory)], stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, close_fds=True)
    return process, ctrl_port


async def stop_baresip(process: subprocess.Popen[bytes], timeout: float = 3.0) -> None:
    """Wait for a baresip that was told to quit; kill it after ``timeout`` (SIGTERM can hang it)."""
    try:
        await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        log.warning("baresip (pid %s) did not quit; killing it", process.pid)
        process.kill()
        await asyncio.to_thread(process.wait)


def log_tail(directory: Path | None, lines: int = 4) -> str:
    """The last lines baresip wrote (for an error message)."""
    try:
        text = (directory / "baresip.log").read_text(errors="replace") if directory else ""
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
