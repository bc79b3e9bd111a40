"""The scanner and parser behind :mod:`replacement`: templates become tuples of parts, once.

A template is literal text with three kinds of construct in it:

* replacement tokens ``[[root.name]flags]`` or ``[[root.name]]`` (``[[name]]``: event parameter);
* ``$Expression( javascript )``, whose body is itself a template, rendered and then evaluated;
* ``$Multiline( text )``, whose body is a template inserted without the wrapper.

:func:`parse_template` handles all three (configuration text); :func:`parse_value` only tokens
(data values, scriptlet source), so a value can never smuggle in an ``$Expression``. Both are
cached.

A construct ends at the ``)`` that balances its ``(``. Replacement tokens count as units there.
In an ``$Expression`` body (JavaScript) parentheses inside string literals ('...', "...", `...`,
with backslash escapes) and comments (``//`` to the end of the line, ``/* */``) do not count;
tokens inside them are still tokens. In a ``$Multiline`` body (text) quotes are ordinary
characters. :attr:`Template.constructs` gives the spans :mod:`datafield` must not split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from usd_desktop.core.errors import ReplacementError

#: Modifier letters a token may carry after its path.
FLAG_LETTERS = "+$^uxgav"
#: Roots that belong to the desktop, not to a session: a session without them reads the global one.
DESKTOP_WIDE_ROOTS = frozenset({"$Global", "$Settings", "$User", "$Resources", "$SystemParameters"})
#: The root that runs a scriptlet: ``[[script.Name]]``.
SCRIPT_ROOT = "script"
#: How deeply ``$Expression``/``$Multiline`` constructs may nest inside one another.
MAX_NESTING = 32

TOKEN_RE = re.compile(r"\[\[([^\[\]\r\n]+)\]([+$^uxgav]*)\]")
MARKER_RE = re.compile(r"\$(Expression|Multiline)\(")

SESSION, GLOBAL, ACTIVE, EVENT = "session", "global", "active", "event"
#: Kinds of token.
ENTITY, BARE, SCRIPT = 0, 1, 2


class ReplacementSyntaxError(ReplacementError):
    """An ``$Expression(`` or ``$Multiline(`` is not closed, or constructs nest too deeply."""

    def __init__(self, message: str, position: int) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One replacement token as written: ``[[root.name]flags]``.

    ``name`` is ``None`` for a bare token (``[[url]]``), which reads a parameter of the running
    event; then ``root`` holds that parameter's name.
    """

    root: str
    name: str | None
    flags: frozenset[str]
    token: str

    @property
    def path(self) -> str:
        """The text between the brackets: ``root.name`` (or the bare name)."""
        return self.root if self.name is None else f"{self.root}.{self.name}"

    @property
    def scope(self) -> str:
        """``"event"``, ``"global"``, ``"active"`` or ``"session"``: where the value is read."""
        if self.name is None:
            return EVENT
        if "g" in self.flags:
            return GLOBAL
        return ACTIVE if "a" in self.flags else SESSION

    @property
    def optional(self) -> bool:
        """True when the token carries ``+`` (a missing value renders as the empty string)."""
        return "+" in self.flags


class Token:
    """A parsed token with its lookup and its modifiers decided once."""

    __slots__ = (
        "desktop_wide",
        "flatten",
        "js",
        "key",
        "kind",
        "modifiers",
        "name",
        "parameter",
        "plus",
        "rescan_all",
        "root",
        "scope",
        "text",
        "url",
        "v",
        "xml",
    )

    def __init__(self, parameter: Parameter) -> None:
        flags = parameter.flags
        self.parameter = parameter
        self.text = parameter.token
        self.root = parameter.root
        self.name = parameter.name if parameter.name is not None else parameter.root
        self.scope = parameter.scope
        if parameter.name is None:
            self.kind = BARE
        elif parameter.root == SCRIPT_ROOT:
            self.kind = SCRIPT
        else:
            self.kind = ENTITY
        self.plus = "+" in flags
        self.v = "v" in flags
        self.flatten = "^" in flags
        self.js = "$" in flags
        self.xml = "x" in flags
        self.url = "u" in flags
        self.modifiers = self.flatten or self.js or self.xml or self.url
        self.desktop_wide = self.kind == ENTITY and parameter.root in DESKTOP_WIDE_ROOTS
        self.rescan_all = self.v or (self.kind == ENTITY and parameter.root == "$Resources")
        scope = SCRIPT_ROOT if self.kind == SCRIPT else self.scope
        self.key = (scope, parameter.root, parameter.name)

    def __repr__(self) -> str:
        return f"Token({self.text!r})"


class Expression:
    """``$Expression( body )``: the body is rendered, then evaluated as JavaScript."""

    __slots__ = ("end", "parts", "position", "source")

    def __init__(self, parts: tuple[Part, ...], position: int, end: int, source: str) -> None:
        self.parts = parts
        #: Index of the ``$`` of ``$Expression(`` and just past its ``)`` in the template.
        self.position = position
        self.end = end
        #: The body as written (for messages).
        self.source = source

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class Multiline:
    """``$Multiline( body )``: the body (trimmed) is rendered and inserted without the wrapper."""

    __slots__ = ("end", "parts", "position")

    def __init__(self, parts: tuple[Part, ...], position: int, end: int) -> None:
        self.parts = parts
        self.position = position
        self.end = end

    def __repr__(self) -> str:
        return f"Multiline({self.parts!r})"


Part = str | Token | Expression | Multiline


class Template:
    """A parsed template. Build it with :func:`replacement.parse`, which caches it."""

    __slots__ = ("constant", "has_v", "parameters", "parts", "text")

    def __init__(self, text: str, parts: tuple[Part, ...]) -> None:
        self.text = text
        self.parts = parts
        params: list[Parameter] = []
        dynamic = _collect(parts, params)
        #: Every token in order of appearance (repeats removed), including those in constructs.
        self.parameters: tuple[Parameter, ...] = tuple(dict.fromkeys(params))
        #: Whether a top-level token carries ``v`` (what a value without ``v`` still expands).
        self.has_v = any(type(p) is Token and p.v for p in parts)
        #: The rendered text when nothing in the template depends on data, else ``None``.
        self.constant: str | None = None if dynamic else _literal(parts)

    @property
    def is_constant(self) -> bool:
        """True when the template has no token and no ``$Expression``: it renders to itself."""
        return self.constant is not None

    @property
    def constructs(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` of each top-level ``$Expression(...)``/``$Multiline(...)``."""
        return tuple((p.position, p.end) for p in self.parts if isinstance(p, Expression | Multiline))

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


def _collect(parts: tuple[Part, ...], params: list[Parameter]) -> bool:
    dynamic = False
    for part in parts:
        if type(part) is Token:
            params.append(part.parameter)
            dynamic = True
        elif type(part) is Expression:
            _collect(part.parts, params)
            dynamic = True
        elif type(part) is Multiline:
            dynamic = _collect(part.parts, params) or dynamic
    return dynamic


def _literal(parts: tuple[Part, ...]) -> str:
    out: list[str] = []
    for part in parts:
        if type(part) is str:
            out.append(part)
        elif type(part) is Multiline:
            out.append(_literal(part.parts))
    return "".join(out)


def make_token(text: str, path: str, flags: str) -> Token | None:
    """The token for ``text`` (``[[path]flags]``), or ``None`` when it is not a valid token.

    Invalid: an empty root (``[[.x]]``), an empty name after the dot (``[[x.]]``), or both ``g``
    and ``a`` (two scopes at once).
    """
    root, dot, name = path.partition(".")
    if not root or (dot and not name):
        return None
    flag_set = frozenset(flags)
    if "g" in flag_set and "a" in flag_set:
        return None
    return Token(Parameter(root, name if dot else None, flag_set, text))


# ------------------------------------------------------------------------------------ scanning
_TOP, _TEXT, _JS = 0, 1, 2
_STOPS = {
    _TOP: re.compile(r"[\[$]"),
    _TEXT: re.compile(r"[()\[$]"),
    _JS: re.compile(r"[()\[\"'`/$]"),
}
_STRING_STOP = {
    '"': re.compile(r'["\\\[\r\n]'),
    "'": re.compile(r"['\\\[\r\n]"),
    "`": re.compile(r"[`\\\[]"),
}
_LINE_COMMENT_STOP = re.compile(r"[\[\n]")
_BLOCK_COMMENT_STOP = re.compile(r"\[|\*/")


class _Scan:
    """One pass over a template; ``parse`` returns the parts of one level and where it ends."""

    __slots__ = ("n", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)

    def parse(self, i: int, mode: int, opened: int, level: int) -> tuple[list[Part], int]:
        """Parse from ``i`` in ``mode``. Returns the parts and the index of the closing ``)``
        (``len(text)`` at top level). ``opened`` is where the construct's ``$`` is."""
        text = self.text
        parts: list[Part] = []
        lit = i
        stop = _STOPS[mode]
        depth = 1
        while True:
            m = stop.search(text, i)
            if m is None:
                if mode == _TOP:
                    if lit < self.n:
                        parts.append(text[lit:])
                    return parts, self.n
                what = "$Expression" if mode == _JS else "$Multiline"
                raise ReplacementSyntaxError(
                    f"{what}( at position {opened} is never closed: its parentheses do not balance",
                    opened,
                )
            i = m.start()
            c = text[i]
            if c == "[":
                i, lit = self.token(i, lit, parts)
            elif c == "$":
                mm = MARKER_RE.match(text, i)
                if mm is None:
                    i += 1
                    continue
                if level >= MAX_NESTING:
                    raise ReplacementSyntaxError(
                        f"$Expression/$Multiline constructs nest more than {MAX_NESTING} deep "
                        f"(at position {i})",
                        i,
                    )
                js = mm.group(1) == "Expression"
                body, close = self.parse(mm.end(), _JS if js else _TEXT, i, level + 1)
                node: Part
                if js:
                    node = Expression(tuple(body), i, close + 1, text[mm.end() : close])
                else:
                    node = Multiline(_trim(body), i, close + 1)
                if i > lit:
                    parts.append(text[lit:i])
                parts.append(node)
                i = lit = close + 1
            elif c == "(":
                depth += 1
                i += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    if i > lit:
                        parts.append(text[lit:i])
                    return parts, i
                i += 1
            elif c == "/":
                nxt = text[i + 1 : i + 2]
                if nxt == "/":
                    i, lit = self.skip(i + 2, _LINE_COMMENT_STOP, i, lit, parts)
                elif nxt == "*":
                    i, lit = self.skip(i + 2, _BLOCK_COMMENT_STOP, i, lit, parts)
                else:
                    i += 1
            else:
                i, lit = self.skip(i + 1, _STRING_STOP[c], i, lit, parts)

    def token(self, i: int, lit: int, parts: list[Part]) -> tuple[int, int]:
        """A ``[`` at ``i``: add the token starting there, if any. Returns ``(next i, lit)``."""
        tm = TOKEN_RE.match(self.text, i)
        if tm is None:
            return i + 1, lit
        token = make_token(tm.group(0), tm.group(1), tm.group(2))
        if token is None:  # not a valid token: literal text, skipped as a unit
            return tm.end(), lit
        if i > lit:
            parts.append(self.text[lit:i])
        parts.append(token)
        return tm.end(), tm.end()

    def skip(
        self, i: int, stop: re.Pattern[str], opened: int, lit: int, parts: list[Part]
    ) -> tuple[int, int]:
        """Skip the string literal or comment opened at ``opened``; tokens inside still count."""
        text = self.text
        kind = text[opened]
        while True:
            m = stop.search(text, i)
            if m is None:
                if stop is _LINE_COMMENT_STOP:
                    return self.n, lit
                what = "comment /*" if kind == "/" else f"string literal {kind}"
                raise ReplacementSyntaxError(
                    f"{what} at position {opened} inside $Expression( is never closed", opened
                )
            i = m.start()
            c = text[i]
            if c == "[":
                i, lit = self.token(i, lit, parts)
            elif c == "\\":
                i += 2
            elif c in "\r\n":  # a line ends a // comment, and a '...' or "..." literal
                return i, lit
            else:
                return m.end(), lit


def _trim(parts: list[Part]) -> tuple[Part, ...]:
    """Strip the whitespace right after ``$Multiline(`` and right before its ``)``."""
    if parts and type(parts[0]) is str:
        parts[0] = parts[0].lstrip()
    if parts and type(parts[-1]) is str:
        parts[-1] = parts[-1].rstrip()
    return tuple(p for p in parts if p != "")


@lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Parse configuration text: tokens, ``$Expression(...)`` and ``$Multiline(...)``."""
    if "[[" not in text and "$" not in text:
        return Template(text, (text,) if text else ())
    parts, _ = _Scan(text).parse(0, _TOP, 0, 0)
    return Template(text, tuple(parts))


@lru_cache(maxsize=4096)
def parse_value(text: str) -> Template:
    """Parse a data value or scriptlet source: tokens only; everything else is literal."""
    parts: list[Part] = []
    lit = pos = 0
    search = TOKEN_RE.search
    while True:
        m = search(text, pos)
        if m is None:
            break
        token = make_token(m.group(0), m.group(1), m.group(2))
        if token is not None:
            if m.start() > lit:
                parts.append(text[lit : m.start()])
            parts.append(token)
            lit = m.end()
        pos = m.end()
    if lit < len(text):
        parts.append(text[lit:])
    return Template(text, tuple(parts))
