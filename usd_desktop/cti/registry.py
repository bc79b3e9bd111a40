"""The registry of CTI adapter types, discovered through entry points.

Group ``usd_desktop.cti_adapters``: each entry point names an :class:`~usd_desktop.cti.contract.Adapter`
subclass, and its name is the adapter's :attr:`~usd_desktop.cti.contract.Adapter.name`. Built-ins
(``simulator``, ``http_listener``, ``baresip``) register through the same group as third parties::

    [project.entry-points."usd_desktop.cti_adapters"]
    acme = "acme_cti.adapter:AcmeAdapter"

A plugin that fails to load (import error, not an ``Adapter`` subclass, abstract, a name that differs
from its entry point's, unknown capabilities, a duplicate name) is *reported and skipped*: the desktop
still starts, and :attr:`AdapterRegistry.problems` says what went wrong.

:meth:`AdapterRegistry.create` validates an adapter's settings with its ``settings_model`` (every
problem is named: ``CTI adapter baresip, setting port: ...``) and reads its secrets from the OS
keyring, never from the configuration.

**Secrets convention** (only for an adapter that declares a ``keyring_service``):

* a setting ``username`` (a non-empty string): the password kept in the keyring under
  ``(keyring_service, username)`` is passed as ``secrets["password"]``. It is optional: when the
  keyring has none, ``"password"`` is left out and the adapter decides whether it needs it.
* a setting ``<secret>_keyring``: ``true`` reads ``(keyring_service, "<secret>")``, a string reads
  ``(keyring_service, "<that string>")``; the value is passed as ``secrets["<secret>"]``. Asking for a
  secret that the keyring does not hold is an error. Example: the HTTP listener's ``token_keyring:
  true`` reads ``("usd-desktop/cti/http_listener", "token")`` into ``secrets["token"]``; store it
  with ``keyring set usd-desktop/cti/http_listener token``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

import keyring
import keyring.errors
from pydantic import ValidationError

from usd_desktop.core.plugins import load_plugins
from usd_desktop.cti.contract import (
    OPERATIONS,
    Adapter,
    AdapterSettings,
    CtiError,
    settings_error_text,
)

log = logging.getLogger(__name__)
GROUP = "usd_desktop.cti_adapters"
KEYRING_SUFFIX = "_keyring"


@dataclass(frozen=True, slots=True)
class AdapterProblem:
    source: str  # the entry point (``name = module:attr``) or the adapter's name
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class SecretRequest:
    """One secret an adapter's settings ask for: where it is kept and whether it must be there."""

    secret: str  # the key in ``Adapter.secrets``
    service: str
    username: str
    required: bool


class AdapterRegistry:
    """Adapter types by name, plus the problems met while finding or loading them."""

    def __init__(self, adapters: Iterable[type[Adapter]] = ()) -> None:
        self.adapters: dict[str, type[Adapter]] = {}
        self.problems: list[AdapterProblem] = []
        for cls in adapters:
            self.register(cls)

    # ------------------------------------------------------------------ discovery
    @classmethod
    def discover(cls, group: str = GROUP) -> AdapterRegistry:
        registry = cls()
        for ep, source, obj in load_plugins(group, registry._problem):
            registry._take_plugin(ep, source, obj)
        return registry

    def _take_plugin(self, ep: EntryPoint, source: str, obj: object) -> None:
        if not (isinstance(obj, type) and issubclass(obj, Adapter)):
            self._problem(source, f"is a {type(obj).__name__}, not an Adapter subclass")
            return
        if obj.name != ep.name:
            self._problem(source, f"declares the name {obj.name!r}, but its entry point is {ep.name!r}")
            return
        self.register(obj, source=source)

    def register(self, cls: type[Adapter], *, source: str = "") -> bool:
        """Add an adapter type; ``False`` (with a problem recorded) when it is refused."""
        source = source or cls.name or cls.__qualname__
        if not cls.name:
            self._problem(source, "declares no name")
            return False
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            self._problem(source, f"is abstract (it does not implement {missing})")
            return False
        if not (isinstance(cls.settings_model, type) and issubclass(cls.settings_model, AdapterSettings)):
            self._problem(source, "its settings_model is not an AdapterSettings subclass")
            return False
        unknown = set(cls.capabilities) - OPERATIONS
        if unknown:
            self._problem(source, f"declares unknown capabilities: {', '.join(sorted(unknown))}")
            return False
        if cls.name in self.adapters:
            self._problem(source, f"an adapter named {cls.name!r} is already registered")
            return False
        self.adapters[cls.name] = cls
        return True

    # ------------------------------------------------------------------ queries
    def names(self) -> list[str]:
        return sorted(self.adapters)

    def get(self, name: str) -> type[Adapter] | None:
        return self.adapters.get(name)

    def settings_schema(self, name: str) -> dict[str, Any]:
        """The JSON Schema of an adapter's settings (for the admin tooling and editors)."""
        return self._adapter(name).settings_model.model_json_schema()

    # ------------------------------------------------------------------ creation
    def create(self, name: str, settings: Mapping[str, Any] | None = None) -> Adapter:
        """A new, not yet started adapter: settings validated, secrets read from the keyring.

        Raises :class:`CtiError` naming the adapter (and each bad setting, or the missing secret).
        """
        cls = self._adapter(name)
        try:
            validated = cls.settings_model.model_validate(dict(settings or {}))
        except ValidationError as exc:
            raise CtiError(settings_error_text(name, exc)) from None
        secrets = read_secrets(cls, validated)
        try:
            return cls(validated, secrets=secrets)
        except CtiError:
            raise
        except Exception as exc:
            raise CtiError(f"CTI adapter {name} could not be created: {type(exc).__name__}: {exc}") from exc

    def _adapter(self, name: str) -> type[Adapter]:
        cls = self.adapters.get(name)
        if cls is None:
            known = ", ".join(self.names()) or "none"
            broken = [p.source for p in self.problems if p.source.split(" = ")[0] == name]
            hint = " (it failed to load: see the plugin problems)" if broken else ""
            raise CtiError(f"unknown CTI adapter {name!r}{hint}; known adapters: {known}")
        return cls

    def _problem(self, source: str, message: str) -> None:
        problem = AdapterProblem(source, message)
        if problem not in self.problems:
            self.problems.append(problem)
            log.error("CTI adapter plugin %s", problem)


# ---------------------------------------------------------------------- secrets
def secret_requests(cls: type[Adapter], settings: AdapterSettings) -> list[SecretRequest]:
    """The secrets ``settings`` ask for, by the convention in the module docstring."""
    service = cls.keyring_service
    if not service:
        return []
    requests: list[SecretRequest] = []
    username = getattr(settings, "username", None)
    if isinstance(username, str) and username:
        requests.append(SecretRequest("password", service, username, required=False))
    for field in type(settings).model_fields:
        if not field.endswith(KEYRING_SUFFIX) or field == KEYRING_SUFFIX:
            continue
        value = getattr(settings, field)
        secret = field.removesuffix(KEYRING_SUFFIX)
        if value is True:
            requests.append(SecretRequest(secret, service, secret, required=True))
        elif isinstance(value, str) and value:
            requests.append(SecretRequest(secret, service, value, required=True))
    return requests


def read_secrets(cls: type[Adapter], settings: AdapterSettings) -> dict[str, str]:
    """Read the secrets ``settings`` ask for from the OS keyring (:class:`CtiError` when it cannot)."""
    secrets: dict[str, str] = {}
    for request in secret_requests(cls, settings):
        where = f"keyring service {request.service!r}, name {request.username!r}"
        try:
            value = keyring.get_password(request.service, request.username)
        except keyring.errors.NoKeyringError:
            raise CtiError(
                f"CTI adapter {cls.name}: no OS keyring is available to read its {request.secret} "
                f"({where}); start a Secret Service (e.g. gnome-keyring) in this session"
            ) from None
        except keyring.errors.KeyringError as exc:
            raise CtiError(
                f"CTI adapter {cls.name}: the OS keyring refused its {request.secret} ({where}): {exc}"
            ) from None
        if value is None:
            if request.required:
                raise CtiError(
                    f"CTI adapter {cls.name}: its {request.secret} is not in the keyring ({where}); "
                    f"store it with: keyring set {request.service} {request.username}"
                )
            log.info("CTI adapter %s: no %s in the keyring (%s)", cls.name, request.secret, where)
            continue
        secrets[request.secret] = value
    return secrets
