"""The Data field of an action call, as USD reads it.

The Data field is multi-line text. It is split into lines first, then each line is rendered with
the replacement parameters (:func:`render_data`), so a value that contains line breaks stays one
item. A line break inside ``$Expression(...)`` or ``$Multiline(...)`` does not split. A missing
parameter anywhere aborts the whole call (:class:`MissingParameter`), as in USD.

The action reads the rendered lines through :class:`ActionData`: ``key=value`` lines (split at the
first ``=``) by name, keyless lines by position, and whatever it has not taken as the remainder
(USD's ``GetAndRemoveParameter`` and ``RemainderParameter``). ``CreateEntity``/``UpdateEntity``
values may be typed: ``EntityReference(...)``, ``OptionSetValue(n)``, ``Boolean(v)``,
``PartyList(...)`` (:func:`parse_typed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from usd_desktop.core import jsengine
from usd_desktop.core._tokens import parse_template
from usd_desktop.core.errors import UsdError
from usd_desktop.core.replacement import render, to_text

__all__ = [
    "ActionData",
    "DataFieldError",
    "EntityReference",
    "OptionSetValue",
    "PartyList",
    "parse_typed",
    "render_data",
    "split_data",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class DataFieldError(UsdError):
    """A typed value in the Data field is malformed. ``key`` and ``value`` say which."""

    def __init__(self, key: str | None, value: str, expected: str) -> None:
        self.key = key
        self.value = value
        where = f"{key}=" if key else ""
        super().__init__(f"malformed typed value {where}{value.strip()}: expected {expected}")


# ------------------------------------------------------------------------------- splitting lines
def split_data(template: str) -> list[str]:
    """Split a Data template into lines (CRLF, CR or LF), dropping blank ones.

    A line break inside ``$Expression(...)`` or ``$Multiline(...)`` does not split. An unclosed
    construct raises :class:`~usd_desktop.core.replacement.ReplacementSyntaxError`.
    """
    spans = parse_template(template).constructs if "$" in template else ()
    lines: list[str] = []
    start = 0
    span_index = 0
    for m in _LINE_BREAK.finditer(template):
        at = m.start()
        while span_index < len(spans) and spans[span_index][1] <= at:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] <= at:
            continue  # inside a construct
        lines.append(template[start:at])
        start = m.end()
    lines.append(template[start:])
    return [line for line in lines if line.strip()]


def render_data(
    template: str,
    data: Mapping[str, Any],
    *,
    scriptlets: Mapping[str, str] | None = None,
    max_depth: int | None = None,
    time_limit: float = jsengine.DEFAULT_TIME_LIMIT,
) -> ActionData:
    """Split ``template`` into lines, render each, and wrap the result.

    A line that renders blank (``[[x]+]`` with no value) is dropped. Any missing parameter raises
    :class:`MissingParameter` for the whole call.
    """
    rendered = (
        render(line, data, scriptlets=scriptlets, max_depth=max_depth, time_limit=time_limit)
        for line in split_data(template)
    )
    return ActionData(line for line in rendered if line.strip())


# ------------------------------------------------------------------------------------ ActionData
class _Entry:
    __slots__ = ("fold", "key", "line", "taken", "value")

    def __init__(self, line: str) -> None:
        self.line = line
        self.taken = False
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key:
            self.key: str | None = key
            self.fold: str | None = key.casefold()
            self.value = value.removesuffix("\r")
        else:
            self.key = self.fold = None
            self.value = line.removesuffix("\r")


class ActionData:
    """The rendered lines of a Data field, read by name, by position, or as a remainder.

    * ``key=value`` lines are split at the first ``=``; the key is stripped and matched without
      regard to case; the value is kept as written (a trailing CR removed). A line without ``=``
      (or with nothing before it) is positional.
    * :meth:`take` returns a value and removes its line (USD's ``GetAndRemoveParameter``); the
      removed line no longer shows in :meth:`get`, ``in``, :meth:`items`, :meth:`as_dict` or
      :meth:`remainder`. :attr:`lines` and :attr:`raw` always hold everything.
    * When a key is repeated, the first line wins (:meth:`get`, :meth:`as_dict`); taking it
      uncovers the next one.
    """

    __slots__ = ("_entries", "lines")

    def __init__(self, lines: Iterable[str] = ()) -> None:
        #: Every rendered line, in order.
        self.lines: tuple[str, ...] = tuple(lines)
        self._entries = [_Entry(line) for line in self.lines]

    # -- construction
    @classmethod
    def parse(cls, text: str) -> ActionData:
        """From already-rendered text: split at every line break, blank lines dropped."""
        return cls(line for line in _LINE_BREAK.split(text) if line.strip())

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ActionData:
        """One ``key=value`` line per item (``None`` gives an empty value)."""
        return cls(f"{k}={'' if v is None else to_text(v)}" for k, v in values.items())

    def copy(self) -> ActionData:
        """A fresh copy with nothing taken."""
        return ActionData(self.lines)

    # -- reading
    def _find(self, name: str) -> _Entry | None:
        fold = name.strip().casefold()
        for entry in self._entries:
            if entry.fold == fold and not entry.taken:
                return entry
        return None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first remaining line with key ``name`` (any case), else ``default``."""
        entry = self._find(name)
        return default if entry is None else entry.value

    def take(self, name: str, default: str | None = None) -> str | None:
        """Like :meth:`get`, and remove that line (USD's ``GetAndRemoveParameter``)."""
        entry = self._find(name)
        if entry is None:
            return default
        entry.taken = True
        return entry.value

    def typed(self, name: str, default: Any = None) -> Any:
        """:func:`parse_typed` of :meth:`get` (``default`` when the key is absent)."""
        value = self.get(name)
        return default if value is None else parse_typed(value, key=name)

    def remainder(self) -> str:
        """The lines not yet taken, as written, joined by ``\\n`` (``RemainderParameter``)."""
        return "\n".join(e.line for e in self._entries if not e.taken)

    def positional(self, index: int, default: str | None = None) -> str | None:
        """The ``index``-th (from 0) line without a key, else ``default``."""
        found = self.positionals()
        return found[index] if -len(found) <= index < len(found) else default

    def positionals(self) -> tuple[str, ...]:
        """Every line without a key, in order."""
        return tuple(e.value for e in self._entries if e.key is None)

    def items(self) -> list[tuple[str, str]]:
        """``(key, value)`` of each remaining keyed line, in order (repeats included)."""
        return [(e.key, e.value) for e in self._entries if e.key is not None and not e.taken]

    def as_dict(self) -> dict[str, str]:
        """The remaining keyed lines as a dict; when a key repeats (any case) the first wins."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        for e in self._entries:
            if e.key is not None and e.fold is not None and not e.taken and e.fold not in seen:
                seen.add(e.fold)
                out[e.key] = e.value
        return out

    @property
    def raw(self) -> str:
        """All rendered lines joined by ``\\n``."""
        return "\n".join(self.lines)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActionData):
            return NotImplemented
        return self.lines == other.lines

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ActionData({list(self.lines)!r})"


# ---------------------------------------------------------------------------------- typed values
@dataclass(frozen=True, slots=True)
class EntityReference:
    """``EntityReference("account", "{guid}")``: a lookup to one record."""

    logical_name: str
    id: str


@dataclass(frozen=True, slots=True)
class OptionSetValue:
    """``OptionSetValue(3)``: a choice value."""

    value: int


Party = tuple[str, str] | EntityReference


@dataclass(frozen=True, slots=True)
class PartyList:
    """``PartyList(email["a@b"], er["contact", guid])``: activity parties.

    Each party is ``("email", address)`` or an :class:`EntityReference`. ``parties`` is a tuple
    (a list given to the constructor is turned into one).
    """

    parties: tuple[Party, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parties, tuple):
            object.__setattr__(self, "parties", tuple(self.parties))


_TYPED = re.compile(r"\s*(EntityReference|OptionSetValue|Boolean|PartyList)\s*\(", re.IGNORECASE)
_PARTY = re.compile(r"\s*(email|er)\s*\[(.*)\]\s*", re.IGNORECASE | re.DOTALL)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _split_args(text: str) -> list[str] | None:
    """Split at top-level commas (quotes and brackets respected); ``None`` if unbalanced."""
    args: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
            if depth < 0:
                return None
        elif c == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
        i += 1
    if quote or depth:
        return None
    args.append(text[start:])
    if len(args) == 1 and not args[0].strip():
        return []
    return args


def _unquote(arg: str) -> str:
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", arg[1:-1], flags=re.DOTALL)
    return arg


def _entity_reference(args: list[str] | None) -> EntityReference | None:
    if args is None or len(args) != 2:
        return None
    name, ident = _unquote(args[0]), _unquote(args[1])
    return EntityReference(name, ident) if name and ident else None


def parse_typed(
    value: str, key: str | None = None
) -> EntityReference | OptionSetValue | bool | PartyList | str:
    """The typed value written in ``value``, or ``value`` unchanged when it is plain text.

    ``EntityReference(account,{guid})`` (names may be quoted), ``OptionSetValue(3)``,
    ``Boolean(true)``/``Boolean(1)``/``Boolean(False)``, ``PartyList(email["a@b"], er["contact",
    guid])``. The type names are matched without regard to case. A malformed one raises
    :class:`DataFieldError` naming ``key`` and the value.
    """
    m = _TYPED.match(value)
    if m is None:
        return value
    kind = m.group(1).casefold()
    body = value.rstrip()
    args = _split_args(body[m.end() : -1]) if body.endswith(")") else None
    if kind == "entityreference":
        ref = _entity_reference(args)
        if ref is None:
            raise DataFieldError(key, value, 'EntityReference("logicalname", "id")')
        return ref
    if kind == "optionsetvalue":
        text = _unquote(args[0]) if args is not None and len(args) == 1 else ""
        if not _INTEGER.fullmatch(text):
            raise DataFieldError(key, value, "OptionSetValue(<integer>)")
        return OptionSetValue(int(text))
    if kind == "boolean":
        text = _unquote(args[0]).casefold() if args is not None and len(args) == 1 else ""
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise DataFieldError(key, value, "Boolean(true|false|1|0)")
    parties: list[Party] = []
    for arg in args if args is not None else [""]:
        pm = _PARTY.fullmatch(arg)
        inner = _split_args(pm.group(2)) if pm else None
        if pm is not None and pm.group(1).casefold() == "email":
            address = _unquote(inner[0]) if inner is not None and len(inner) == 1 else ""
            if address:
                parties.append(("email", address))
                continue
        elif pm is not None:
            ref = _entity_reference(inner)
            if ref is not None:
                parties.append(ref)
                continue
        raise DataFieldError(key, value, 'PartyList(email["a@b"], er["contact", "id"], ...)')
    return PartyList(tuple(parties))
