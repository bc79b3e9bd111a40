"""Differences between two configurations, per record and field, generic over the schema.

:func:`diff_configurations` compares two :class:`Configuration` s and :func:`format_diff` prints
the result one line per change, in a stable order (schema order of the entities, then the order
of the records in the older version, then records that only the newer one has)::

    + action_calls "Open Contact"
    - events "Global Manager: SessionNew"
    ~ action_calls "Open Contact" data: "url=a" -> "url=b"
    ~ toolbars "Main" buttons[Search].text: "Find" -> "Search"
    ~ hosted_controls "Web" position: 2 -> 5
    ~ options "maxNumberOfSessions": "3" -> "4"

Records are matched by name (events by control and name; a model without ``name`` by position).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from usd_desktop.config.schema import Configuration
from usd_desktop.config.store.models import Change

#: Fields that together identify a record of these lists (default: ``name``).
KEY_FIELDS: dict[str, tuple[str, ...]] = {"events": ("control", "name")}
#: The pseudo-field that reports a record that moved in its list.
POSITION = "position"
_MAX_VALUE = 120


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _keyed(entity: str, records: Sequence[BaseModel]) -> dict[str, BaseModel]:
    """Records by key; a repeated key gets ``#2``, ``#3``... so nothing is lost."""
    if not records:
        return {}
    fields = KEY_FIELDS.get(entity) or (("name",) if "name" in type(records[0]).model_fields else ())
    out: dict[str, BaseModel] = {}
    for i, record in enumerate(records):
        key = ": ".join(str(getattr(record, f)) for f in fields) if fields else f"#{i + 1}"
        unique, n = key, 1
        while unique in out:
            n += 1
            unique = f"{key} #{n}"
        out[unique] = record
    return out


def _record_changes(entity: str, record: str, prefix: str, a: BaseModel, b: BaseModel) -> Iterable[Change]:
    for name in type(a).model_fields:
        old, new = getattr(a, name), getattr(b, name)
        if old == new:
            continue
        path = f"{prefix}{name}"
        if _is_records(old) and _is_records(new):
            yield from _list_changes(entity, record, old, new, f"{path}[", "]")
        else:
            yield Change("changed", entity, record, path, _plain(old), _plain(new))


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, BaseModel) for v in value)


def _list_changes(
    entity: str,
    record: str | None,
    old: Sequence[BaseModel],
    new: Sequence[BaseModel],
    open_: str = "",
    close: str = "",
) -> Iterable[Change]:
    """Changes of a list of records (``record`` set: a nested list inside that record)."""
    inner = entity if record is None else ""
    a, b = _keyed(inner, old), _keyed(inner, new)
    common_a = [k for k in a if k in b]
    common_b = [k for k in b if k in a]
    moved: set[str] = set(common_a)
    for block in difflib.SequenceMatcher(None, common_a, common_b, autojunk=False).get_matching_blocks():
        moved.difference_update(common_a[block.a : block.a + block.size])
    position_b = {k: i for i, k in enumerate(b)}
    position_a = {k: i for i, k in enumerate(a)}
    for key in [*a, *(k for k in b if k not in a)]:
        label = key if record is None else record
        where = "" if record is None else f"{open_}{key}{close}"
        if key not in b:
            yield Change("removed", entity, label, where or None, _plain(a[key]), None)
        elif key not in a:
            yield Change("added", entity, label, where or None, None, _plain(b[key]))
        else:
            yield from _record_changes(entity, label, f"{where}." if where else "", a[key], b[key])
            if key in moved:
                yield Change(
                    "changed",
                    entity,
                    label,
                    f"{where}.{POSITION}" if where else POSITION,
                    position_a[key],
                    position_b[key],
                )


def _mapping_changes(entity: str, old: dict[str, Any], new: dict[str, Any]) -> Iterable[Change]:
    flat_a, flat_b = _flatten(old), _flatten(new)
    for key in [*flat_a, *(k for k in flat_b if k not in flat_a)]:
        if key not in flat_b:
            yield Change("removed", entity, key, None, flat_a[key], None)
        elif key not in flat_a:
            yield Change("added", entity, key, None, None, flat_b[key])
        elif flat_a[key] != flat_b[key]:
            yield Change("changed", entity, key, "value", flat_a[key], flat_b[key])


def _flatten(mapping: dict[str, Any]) -> dict[str, Any]:
    """``{"en": {"Hello": "Hi"}}`` -> ``{"en/Hello": "Hi"}``; a text mapping stays as it is."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            for inner, text in value.items():
                out[f"{key}/{inner}"] = text
        else:
            out[key] = value
    return out


def diff_configurations(a: Configuration, b: Configuration) -> list[Change]:
    """What changed from ``a`` to ``b``."""
    changes: list[Change] = []
    for name in Configuration.model_fields:
        old, new = getattr(a, name), getattr(b, name)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            changes.extend(_list_changes(name, None, old, new))
        elif isinstance(old, dict) and isinstance(new, dict):
            changes.extend(_mapping_changes(name, old, new))
        else:
            changes.append(Change("changed", "configuration", b.name, name, _plain(old), _plain(new)))
    return changes


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _MAX_VALUE:
        text = f"{text[: _MAX_VALUE - 1]}… ({len(text)} characters)"
    return text


def format_line(change: Change) -> str:
    """One readable line for ``change``."""
    record = json.dumps(change.record, ensure_ascii=False)
    if change.entity == "configuration":
        head = f"{change.entity} {change.field}"
        return f"~ {head}: {_value(change.old)} -> {_value(change.new)}"
    field = f" {change.field}" if change.field else ""
    mapping = not isinstance(change.old if change.kind != "added" else change.new, dict | list) or (
        change.field == "value"
    )
    if change.kind == "added":
        tail = f": {_value(change.new)}" if mapping and not change.field else ""
        return f"+ {change.entity} {record}{field}{tail}"
    if change.kind == "removed":
        tail = f": {_value(change.old)}" if mapping and not change.field else ""
        return f"- {change.entity} {record}{field}{tail}"
    if change.field == "value":
        return f"~ {change.entity} {record}: {_value(change.old)} -> {_value(change.new)}"
    return f"~ {change.entity} {record}{field}: {_value(change.old)} -> {_value(change.new)}"


def format_diff(changes: Iterable[Change]) -> str:
    """The changes, one line each (no trailing newline; empty text when there are none)."""
    return "\n".join(format_line(change) for change in changes)
