"""Replacement parameters: ``[[root.name]flags]`` tokens rendered against the data parameters.

The grammar and every decision are documented for administrators in
``docs/configuration-reference/replacement-parameters.md``; in short:

* ``[[root.name]]`` reads ``data["session"][root][name]``; ``g`` reads the global session, ``a``
  the active one; ``[[name]]`` (no dot) reads ``data["event"][name]``; the desktop-wide roots
  (``$Global``, ``$Settings``, ``$User``, ``$Resources``, ``$SystemParameters``) fall back to the
  global session when the session does not have them; ``[[script.Name]]`` runs a scriptlet.
* A missing value aborts the render with :class:`MissingParameter`, unless the token has ``+``.
* Modifiers apply to a found value in this order: ``v`` expansion, ``^`` flatten, ``$`` JavaScript
  escape, ``x`` XML escape, ``u`` URL encoding.
* ``$Expression( js )`` renders its body, then evaluates it in the sandbox of :mod:`jsengine`;
  ``$Multiline( text )`` renders its body without the wrapper.

Templates are parsed once (:func:`parse` is cached). Rendering evaluates code only for
``$Expression`` and scriptlets, never anything found in a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from usd_desktop.core import jsengine
from usd_desktop.core._tokens import (
    BARE,
    GLOBAL,
    SCRIPT,
    SESSION,
    Expression,
    Parameter,
    Part,
    ReplacementSyntaxError,
    Template,
    Token,
    parse_template,
    parse_value,
)
from usd_desktop.core.errors import (
    MissingParameter,
    ReplacementError,
    ScriptError,
    ScriptTimeout,
)

__all__ = [
    "HARD_MAX_DEPTH",
    "MAX_DEPTH_DEFAULT",
    "MAX_DEPTH_OPTION",
    "MAX_EXPANSIONS",
    "ExpansionLimitError",
    "ExpressionError",
    "ExpressionTimeout",
    "MissingParameter",
    "Parameter",
    "ReplacementDepthError",
    "ReplacementError",
    "ReplacementSyntaxError",
    "SelfReferenceError",
    "Template",
    "Token",
    "parse",
    "render",
    "to_text",
    "try_render",
]

#: Nesting levels of value expansion allowed when the option is not set (as USD).
MAX_DEPTH_DEFAULT = 10
#: The Option (``$Global`` entry) that sets the nesting limit.
MAX_DEPTH_OPTION = "MaxReplacementParameterDepth"
#: The option is capped here, so a huge value cannot exhaust the interpreter's stack.
HARD_MAX_DEPTH = 50
#: Tokens rendered inside values and scriptlets in one render call, at most (guards against
#: exponential fan-out such as a value holding ``[[b.c]v][[b.c]v]`` whose value does the same).
MAX_EXPANSIONS = 10_000

#: Parse a template once (cached, 4096 entries): ``parse(t) is parse(t)``.
parse = parse_template


# --------------------------------------------------------------------------------------- errors
class ReplacementDepthError(ReplacementError):
    """Values expanded inside values deeper than ``MaxReplacementParameterDepth``."""

    def __init__(self, chain: tuple[str, ...], max_depth: int) -> None:
        self.chain = chain
        self.max_depth = max_depth
        super().__init__(
            f"replacement parameters nest deeper than {MAX_DEPTH_OPTION} ({max_depth}): "
            + " -> ".join(chain)
            + f"; raise the {MAX_DEPTH_OPTION} option or simplify the values"
        )


class SelfReferenceError(ReplacementError):
    """A parameter's value refers to the parameter itself, directly or through other values."""

    def __init__(self, cycle: tuple[str, ...]) -> None:
        self.cycle = cycle
        super().__init__("replacement parameter refers to itself: " + " -> ".join(cycle))


class ExpansionLimitError(ReplacementError):
    """Rendering one template expanded too many nested tokens (or nested too deep for Python)."""


class ExpressionError(ReplacementError, ScriptError):
    """An ``$Expression(...)`` or a scriptlet threw, did not compile, or could not be read.

    ``scriptlet`` names the scriptlet (``None`` for an ``$Expression``); ``code`` is the JavaScript
    that was evaluated, after replacement.
    """

    def __init__(self, message: str, *, code: str, scriptlet: str | None = None) -> None:
        self.code = code
        self.scriptlet = scriptlet
        super().__init__(message)


class ExpressionTimeout(ExpressionError, ScriptTimeout):
    """An ``$Expression(...)`` or a scriptlet ran past its time limit and was stopped."""


# --------------------------------------------------------------------------- values and modifiers
def _js_number(value: float) -> str:
    """``value`` as JavaScript's ``String(number)`` writes it (3.0 -> "3", 1e21 -> "1e+21")."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 2**53:  # exact; larger ones use the shortest digits
        return str(int(value))
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    k = len(digits)
    n = exponent + len(digit_tuple)  # the decimal point sits after the n-th digit
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def to_text(value: Any) -> str:
    """A data value as the text a token shows: ``True`` -> ``"true"``, ``3.0`` -> ``"3"``."""
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _js_number(value)
    return str(value)


_NEWLINES = re.compile(r"\r\n|\r|\n")


def _flatten(value: str) -> str:
    """``^``: each line break (CRLF, CR or LF) becomes one space; quotes are left alone."""
    if "\n" in value or "\r" in value:
        return _NEWLINES.sub(" ", value)
    return value


_JS_ESCAPES = re.compile("[\\\\\"'\r\n\t\u2028\u2029]|</")
_JS_TABLE = {
    "\\": "\\\\",
    '"': '\\"',
    "'": "\\'",
    "\r": "\\r",
    "\n": "\\n",
    "\t": "\\t",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    "</": "<\\/",
}


def _js_escape(value: str) -> str:
    """``$``: safe inside a JavaScript string literal in single or double quotes."""
    return _JS_ESCAPES.sub(lambda m: _JS_TABLE[m.group(0)], value)


def _xml_escape(value: str) -> str:
    """``x``: ``& < > " '`` as ``&amp; &lt; &gt; &quot; &apos;``."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "'" in value:
        value = value.replace("'", "&apos;")
    return value


def _url_encode(value: str) -> str:
    """``u``: percent-encode (UTF-8) everything but ``A-Z a-z 0-9 - . _ ~``; space is ``%20``."""
    return quote(value, safe="", errors="replace")


def _modify(token: Token, value: str) -> str:
    if token.flatten:
        value = _flatten(value)
    if token.js:
        value = _js_escape(value)
    if token.xml:
        value = _xml_escape(value)
    if token.url:
        value = _url_encode(value)
    return value


def _evaluate(code: str, time_limit: float, what: str, scriptlet: str | None) -> str:
    try:
        return jsengine.evaluate_to_string(code, time_limit=time_limit)
    except ScriptTimeout as exc:
        raise ExpressionTimeout(f"{what} {exc}", code=code, scriptlet=scriptlet) from exc
    except ScriptError as exc:
        raise ExpressionError(f"{what} failed: {exc}", code=code, scriptlet=scriptlet) from exc
    except (UnicodeError, ValueError, TypeError) as exc:
        raise ExpressionError(
            f"{what} returned a value that cannot be read: {exc}", code=code, scriptlet=scriptlet
        ) from exc


# ------------------------------------------------------------------------------------- rendering
def _scope(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    scope = data.get(name)
    return scope if scope is not None else {}


def _int_option(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


class _Renderer:
    """The state of one :func:`render` call."""

    __slots__ = (
        "_max_depth",
        "active",
        "event",
        "expansions",
        "global_",
        "max_depth_arg",
        "scriptlets",
        "session",
        "time_limit",
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        scriptlets: Mapping[str, str] | None,
        max_depth: int | None,
        time_limit: float,
    ) -> None:
        self.session = _scope(data, "session")
        self.global_ = _scope(data, "global")
        active = data.get("active")
        self.active = active if active is not None else self.session
        self.event = _scope(data, "event")
        self.scriptlets = scriptlets
        self.max_depth_arg = max_depth
        self._max_depth: int | None = None
        self.time_limit = time_limit
        self.expansions = 0

    @property
    def max_depth(self) -> int:
        """The nesting limit: the argument, else the option, else the default (computed once)."""
        if self._max_depth is None:
            depth = self.max_depth_arg
            if depth is None:
                for scope in (self.global_, self.session):
                    try:
                        depth = _int_option(scope.get("$Global", {}).get(MAX_DEPTH_OPTION))
                    except AttributeError:  # not a mapping: the option is not set there
                        depth = None
                    if depth is not None and depth >= 0:
                        break
                    depth = None
            if depth is None:
                depth = MAX_DEPTH_DEFAULT
            self._max_depth = min(max(depth, 0), HARD_MAX_DEPTH)
        return self._max_depth

    def parts(self, parts: tuple[Part, ...], depth: int, chain: tuple[Token, ...]) -> str:
        out: list[str] = []
        append = out.append
        for part in parts:
            kind = type(part)
            if kind is str:
                append(part)  # type: ignore[arg-type]
            elif kind is Token:
                append(self.token(part, depth, chain))  # type: ignore[arg-type]
            elif kind is Expression:
                code = self.parts(part.parts, depth, chain)  # type: ignore[union-attr]
                position = part.position  # type: ignore[union-attr]
                what = f"$Expression at position {position}"
                append(_evaluate(code, self.time_limit, what, None))
            else:
                append(self.parts(part.parts, depth, chain))  # type: ignore[union-attr]
        return "".join(out)

    def token(self, token: Token, depth: int, chain: tuple[Token, ...]) -> str:
        kind = token.kind
        if kind == SCRIPT:
            value = self.scriptlet(token, depth, chain)
        else:
            try:
                if kind == BARE:
                    value = self.event.get(token.name)
                else:
                    scope = token.scope
                    source = (
                        self.session if scope == SESSION else self.global_ if scope == GLOBAL else self.active
                    )
                    names = source.get(token.root)
                    if names is None and token.desktop_wide and scope != GLOBAL:
                        names = self.global_.get(token.root)
                    value = None if names is None else names.get(token.name)
            except AttributeError:
                raise ReplacementError(
                    f"the data read by {token.text} is not a name -> value mapping"
                ) from None
            if value is not None and type(value) is not str:
                value = to_text(value)
        if value is None:
            if token.plus:
                return ""
            raise MissingParameter(token.parameter.path, token.text, token.scope)
        if token.rescan_all or "[[" in value:
            value = self.expand(value, token, depth, chain)
        if token.modifiers:
            value = _modify(token, value)
        return value

    def expand(self, value: str, token: Token, depth: int, chain: tuple[Token, ...]) -> str:
        """Render the tokens inside ``value``: all of them with ``v``, else those with ``v``."""
        inner = parse_value(value)
        if not (token.rescan_all and len(inner.parameters)) and not inner.has_v:
            return value
        return self.inside(inner, token.rescan_all, token, depth, chain)

    def inside(
        self, inner: Template, everything: bool, token: Token, depth: int, chain: tuple[Token, ...]
    ) -> str:
        """Render ``inner`` (a value or scriptlet source of ``token``) one level deeper."""
        chain = (*chain, token)
        out: list[str] = []
        for part in inner.parts:
            if type(part) is str:
                out.append(part)
            elif everything or part.v:  # type: ignore[union-attr]
                self.check(part, depth + 1, chain)  # type: ignore[arg-type]
                out.append(self.token(part, depth + 1, chain))  # type: ignore[arg-type]
            else:
                out.append(part.text)  # type: ignore[union-attr]
        return "".join(out)

    def check(self, token: Token, depth: int, chain: tuple[Token, ...]) -> None:
        """Refuse a self-reference, a nesting past the limit, or too many nested renders."""
        key = token.key
        for i, outer in enumerate(chain):
            if outer.key == key:
                cycle = (*(t.parameter.path for t in chain[i:]), token.parameter.path)
                raise SelfReferenceError(cycle)
        if depth > self.max_depth:
            raise ReplacementDepthError((*(t.text for t in chain), token.text), self.max_depth)
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS:
            raise ExpansionLimitError(
                f"rendering expanded more than {MAX_EXPANSIONS} nested replacement parameters "
                f"(last: {' -> '.join(t.text for t in (*chain, token))}); the values refer to "
                "each other too many times"
            )

    def scriptlet(self, token: Token, depth: int, chain: tuple[Token, ...]) -> str | None:
        source = self.scriptlets.get(token.name) if self.scriptlets else None
        if source is None:
            return None
        code = self.inside(parse_value(source), True, token, depth, chain)
        return _evaluate(code, self.time_limit, f"scriptlet {token.name!r}", token.name)


def render(
    template: str,
    data: Mapping[str, Any],
    *,
    scriptlets: Mapping[str, str] | None = None,
    max_depth: int | None = None,
    time_limit: float = jsengine.DEFAULT_TIME_LIMIT,
) -> str:
    """Render ``template`` against ``data`` (``{"session", "global", "active", "event"}``).

    Raises :class:`MissingParameter` when a token without ``+`` has no value, and another
    :class:`ReplacementError` subclass for anything else that goes wrong (syntax, depth,
    self-reference, a failing ``$Expression`` or scriptlet). ``max_depth`` overrides the
    ``MaxReplacementParameterDepth`` option; ``time_limit`` is per JavaScript evaluation.
    """
    parsed = parse_template(template)
    constant = parsed.constant
    if constant is not None:
        return constant
    try:
        return _Renderer(data, scriptlets, max_depth, time_limit).parts(parsed.parts, 0, ())
    except RecursionError:
        raise ExpansionLimitError(
            f"rendering {template[:80]!r} nested too deeply for the interpreter"
        ) from None


def without_blanks(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the data view (``{"session", "global", "active", "event"}``) without its empty
    values: a record's empty field then counts as missing (session lines, agent-script text)."""
    out = dict(data)
    for key in ("session", "global", "active"):
        scope = data.get(key)
        if isinstance(scope, Mapping):
            out[key] = {
                root: {n: v for n, v in names.items() if v != ""} if isinstance(names, Mapping) else names
                for root, names in scope.items()
            }
    event = data.get("event")
    if isinstance(event, Mapping):
        out["event"] = {n: v for n, v in event.items() if v != ""}
    return out


def dependencies(*templates: str) -> frozenset[tuple[str, str | None]] | None:
    """The ``(root, name)`` pairs the templates read (``(name, None)`` for a bare event parameter);
    ``None`` when they may read anything (scriptlets, ``$Expression``, ``v`` rescans, ``$Resources``)."""
    deps: set[tuple[str, str | None]] = set()
    for template in templates:
        if not template:
            continue
        parsed = parse(template)
        for parameter in parsed.parameters:
            if parameter.root == "script" or "v" in parameter.flags:
                return None
            deps.add((parameter.root, parameter.name))
        if "$Expression" in template or "$Resources" in template:
            return None
    return frozenset(deps)


def try_render(
    template: str,
    data: Mapping[str, Any],
    *,
    scriptlets: Mapping[str, str] | None = None,
    max_depth: int | None = None,
    time_limit: float = jsengine.DEFAULT_TIME_LIMIT,
) -> str | None:
    """:func:`render`, or ``None`` when a parameter is missing (the "first rule that resolves")."""
    try:
        return render(template, data, scriptlets=scriptlets, max_depth=max_depth, time_limit=time_limit)
    except MissingParameter:
        return None
