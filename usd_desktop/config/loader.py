"""Read and write configurations as YAML, keeping the file and line of every value.

* :func:`load_configuration` reads one ``.yaml``/``.yml`` file, or a directory whose YAML files
  (sorted by path, recursive) merge into one configuration: lists are concatenated, mappings
  merged; the same key with different values in two files is an error, as are two files that
  give different ``name``\\ s.
* :func:`loads_configuration` reads YAML text.
* :func:`dump_configuration` writes the canonical YAML: keys in schema order, defaults left out,
  multi-line text as ``|`` blocks.

Any problem (YAML syntax, a duplicate key, a field of the wrong shape) raises
:class:`ConfigLoadError`, whose ``errors`` are :class:`ConfigIssue` naming the file, line,
record and field. Lint findings (:mod:`usd_desktop.config.lint`) are ``ConfigIssue`` too.

Option, user-setting and resource values keep the text as written: ``maxNumberOfSessions: 3``
gives ``"3"``, ``HideSessionCloseButton: yes`` gives ``"yes"`` and a language code ``no`` stays
``"no"`` (YAML 1.1 would read a boolean).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor

from usd_desktop.config.schema import Configuration, DataPath, Location, Provenance, field_model
from usd_desktop.core.errors import ConfigError

__all__ = [
    "ConfigIssue", "ConfigLoadError", "dump_configuration", "issue_at", "load_configuration",
    "loads_configuration",
]  # fmt: skip

YAML_SUFFIXES = (".yaml", ".yml")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TYPED_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float")}


# ---------------------------------------------------------------------- issues
@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One finding about a configuration: a load error or a lint result.

    ``code`` is stable (``USD003``, ``USD111``; see the reference docs), ``severity`` is
    ``"error"`` or ``"warning"``, ``file``/``line`` say where (empty/0 when unknown), ``record``
    names the record (``action_calls[3] "Open Contact"``) and ``field`` the field in it.
    """

    code: str
    severity: str
    file: str
    line: int
    record: str
    field: str
    message: str

    @property
    def location(self) -> str:
        """``file:line``, ``file`` or ``""``."""
        return f"{self.file}:{self.line}" if self.file and self.line else self.file

    @property
    def where(self) -> str:
        """The record and the field: ``action_calls[3] "Open Contact" field condition``."""
        return " ".join(p for p in (self.record, f"field {self.field}" if self.field else "") if p)

    def __str__(self) -> str:
        return ": ".join(p for p in (self.location, self.where, self.message) if p)


class ConfigLoadError(ConfigError):
    """A configuration could not be loaded; ``errors`` lists every problem found, and ``str()``
    gives one line per problem."""

    def __init__(self, errors: list[ConfigIssue]) -> None:
        self.errors = errors
        super().__init__("\n".join(map(str, errors)) or "configuration could not be loaded")
        self.location = ": ".join(p for p in (errors[0].location, errors[0].where) if p) if errors else ""


_RECORD_LISTS = frozenset(
    {
        "hosted_controls", "action_calls", "events", "toolbars", "scriptlets", "buttons",
        "entity_searches", "window_navigation_rules", "session_lines", "agent_scripts",
        "answers", "triggers", "searches", "custom_fields", "option_values",
    }
)  # fmt: skip
#: Single nested records whose lists of records still name them: ``cti.searches[0] "By phone"``.
_RECORD_FIELDS = frozenset({"cti"})


def _child(node: Any, part: str | int) -> Any:
    try:
        if isinstance(part, int):
            return node[part]
        if isinstance(node, dict):
            return node[part]
        return getattr(node, part)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _label(node: Any, kind: str, index: int) -> str:
    name = _child(node, "name")
    label = f"{kind}[{index}]"
    if isinstance(name, str) and name:
        label += f' "{name}"'
    control = _child(node, "control") if kind == "events" else None
    if isinstance(control, str) and control:
        label += f' on "{control}"'
    return label


def split_path(root: Any, path: DataPath) -> tuple[str, str]:
    """Split ``path`` into the record label and the field, reading names from ``root``."""
    record: list[str] = []
    node = root
    i = 0
    while True:
        prefix = ""
        if record and i + 2 < len(path) and path[i] in _RECORD_FIELDS:
            prefix, node, i = f"{path[i]}.", _child(node, path[i]), i + 1
        if not (i + 1 < len(path) and path[i] in _RECORD_LISTS and isinstance(path[i + 1], int)):
            i -= 1 if prefix else 0
            break
        items = _child(node, path[i])
        node = _child(items, path[i + 1]) if items is not None else None
        record.append(prefix + _label(node, str(path[i]), int(path[i + 1])))
        i += 2
    rest = path[i:]
    if not record and rest and rest[0] in ("options", "user_settings", "resources"):
        record, rest = [str(rest[0])], rest[1:]
    return " ".join(record), _path_text(rest)


def issue_at(
    config: Configuration,
    path: DataPath,
    *,
    code: str,
    severity: str,
    message: str,
    offset: int | None = None,
) -> ConfigIssue:
    """A :class:`ConfigIssue` about the value at ``path`` of ``config``, with its file and line
    when the configuration came from the loader (``offset``: a position in that string)."""
    return _issue(config, path, config.locate(path, offset), code, message, severity)


def _issue(
    root: Any, path: DataPath, where: Location | None, code: str, message: str, severity: str = "error"
) -> ConfigIssue:
    record, field_ = split_path(root, path)
    file, line = (where.file, where.line) if where else ("", 0)
    return ConfigIssue(code, severity, file, line, record, field_, message)


def _load_issue(code: str, file: str, line: int, message: str, path: DataPath = ()) -> ConfigIssue:
    return _issue(None, path, Location(file, line), code, message)


def _is_text_map(path: DataPath) -> bool:
    """Mappings whose keys and values are text as written (options, settings, resources)."""
    return path in (("options",), ("user_settings",), ("resources",)) or (
        len(path) == 2 and path[0] == "resources"
    )


class _Reader:
    """Builds plain data from one YAML file's node tree, recording positions and problems."""

    def __init__(self, file: str, provenance: Provenance, issues: list[ConfigIssue]) -> None:
        self.file = file
        self.provenance = provenance
        self.issues = issues
        self.constructor = SafeConstructor()
        self.offsets: dict[str, int] = {}

    def fail(self, code: str, message: str, line: int, path: DataPath = ()) -> None:
        self.issues.append(_load_issue(code, self.file, line, message, path))

    def read(self, node: yaml.Node, path: DataPath) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            offset = self.offsets.get(str(path[0]), 0) if len(path) == 1 else 0
            items = []
            for i, item in enumerate(node.value):
                item_path = (*path, i + offset)
                self.provenance.lines[item_path] = Location(self.file, item.start_mark.line + 1)
                items.append(self.read(item, item_path))
            return items
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        raise AssertionError(f"unexpected YAML node {node!r}")  # pragma: no cover

    def scalar(self, node: yaml.ScalarNode, path: DataPath, text: bool = False) -> Any:
        if node.style == "|":
            self.provenance.blocks[path] = node.start_mark.line + 2
        if text and node.style is None and node.tag in _TYPED_SCALAR_TAGS:
            return node.value
        return self.constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[Any, Any]:
        text = _is_text_map(path)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.scalar(key_node, (), text)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.fail(
                    "USD002",
                    f"duplicate key {key!r} (first written on line {seen[key]})",
                    line,
                    (*path, key),
                )
            else:
                seen[key] = line
        if any(k.tag == _MERGE_TAG for k, _ in node.value):
            self.constructor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail("USD001", "a key must be a plain value", key_node.start_mark.line + 1)
                continue
            key = self.scalar(key_node, (), text)
            key_path = (*path, key)
            self.provenance.lines[key_path] = Location(self.file, key_node.start_mark.line + 1)
            if text and path != ("resources",) and isinstance(value_node, yaml.ScalarNode):
                result[key] = self.scalar(value_node, key_path, text=True)
            else:
                result[key] = self.read(value_node, key_path)
        return result


def _path_text(path: DataPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _yaml_error(file: str, exc: yaml.YAMLError) -> ConfigIssue:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        parts = [exc.context, exc.problem]
        message = ", ".join(str(p) for p in parts if p) or str(exc)
        return _load_issue("USD001", file, line, f"YAML syntax: {message}")
    return _load_issue("USD001", file, 0, f"YAML syntax: {exc}")


#: A configuration file larger than this is refused before it is parsed (the store refuses more
#: than 16 MB of configuration too).
MAX_FILE_BYTES = 16 * 1024 * 1024


def _read_text(
    text: str,
    file: str,
    provenance: Provenance,
    issues: list[ConfigIssue],
    offsets: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Parse one file's text into plain data; problems go to ``issues``."""
    reader = _Reader(file, provenance, issues)
    reader.offsets = offsets or {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            reader.fail("USD001", "the top level must be a mapping of fields", 1)
            return {}
        provenance.lines.setdefault((), Location(file, root.start_mark.line + 1))
        data = reader.mapping(root, ())
    except yaml.YAMLError as exc:
        issues.append(_yaml_error(file, exc))
        return {}
    return {str(k): v for k, v in data.items()}


def _merge(
    into: dict[str, Any],
    data: dict[str, Any],
    path: DataPath,
    where: Provenance,
    issues: list[ConfigIssue],
) -> None:
    """Merge ``data`` (written ``where``) into ``into``: lists add up, mappings merge, others
    must agree."""
    for key, value in data.items():
        key_path = (*path, key)
        if key not in into:
            into[key] = value
        elif isinstance(into[key], list) and isinstance(value, list):
            into[key] = into[key] + value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value, key_path, where, issues)
        elif into[key] != value:
            message = f"{_short(value)} here but {_short(into[key])} in an earlier file"
            issues.append(_issue(None, key_path, where.locate(key_path), "USD004", message))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _yaml_files(directory: Path) -> list[Path]:
    files = [
        p
        for p in directory.rglob("*")
        if p.suffix in YAML_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def load_configuration(path: str | Path) -> Configuration:
    """Load a YAML file, or merge a directory of YAML files, into a validated configuration."""
    path = Path(path)
    issues: list[ConfigIssue] = []
    provenance = Provenance()
    if path.is_dir():
        files = _yaml_files(path)
        if not files:
            message = "no .yaml or .yml files in this directory"
            raise ConfigLoadError([_load_issue("USD005", str(path), 0, message)])
    elif path.is_file():
        files = [path]
    else:
        raise ConfigLoadError([_load_issue("USD005", str(path), 0, "no such file or directory")])
    merged: dict[str, Any] = {}
    for file in files:
        try:
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                issues.append(_load_issue(
                    "USD005", str(file), 0,
                    f"the file is {size / 1048576:.1f} MB; configuration files are limited to "
                    f"{MAX_FILE_BYTES // 1048576} MB",
                ))
                continue
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(_load_issue("USD005", str(file), 0, f"cannot read: {exc}"))
            continue
        offsets = {k: len(v) for k, v in merged.items() if isinstance(v, list)}
        file_prov = Provenance()
        data = _read_text(text, str(file), file_prov, issues, offsets)
        for key in file_prov.lines:  # the first file to write a path names it
            provenance.lines.setdefault(key, file_prov.lines[key])
        for key in file_prov.blocks:
            provenance.blocks.setdefault(key, file_prov.blocks[key])
        _merge(merged, data, (), file_prov, issues)
    if path.is_dir():
        provenance.lines[()] = Location(str(files[0]), 1)
    return _validate(merged, provenance, issues)


def loads_configuration(text: str, source_name: str = "<string>") -> Configuration:
    """Load a configuration from YAML text; ``source_name`` names it in messages."""
    issues: list[ConfigIssue] = []
    provenance = Provenance()
    data = _read_text(text, source_name, provenance, issues)
    provenance.lines.setdefault((), Location(source_name, 1))
    return _validate(data, provenance, issues)


def _validate(data: dict[str, Any], provenance: Provenance, issues: list[ConfigIssue]) -> Configuration:
    if not issues:
        try:
            config = Configuration.model_validate(data)
        except ValidationError as exc:
            issues.extend(_validation_issues(exc, data, provenance))
        else:
            return config.with_provenance(provenance)
    raise ConfigLoadError(sorted(issues, key=lambda issue: (issue.file, issue.line)))


# ---------------------------------------------------------------------- validation messages
def _clean_loc(data: Any, loc: Iterable[int | str]) -> tuple[DataPath, bool]:
    """Keep the part of pydantic's ``loc`` that is a real data path; flag a key error."""
    path: list[int | str] = []
    node = data
    is_key = False
    for part in loc:
        if part == "[key]":
            is_key = True
            break
        child = _child(node, part) if isinstance(node, dict | list) else None
        if child is not None or (isinstance(node, dict) and part in node):
            node = child
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing or unknown field
            break
        else:
            continue  # a pydantic tag such as "function-after[...]"
        path.append(part)
    return tuple(path), is_key


def _message(error: Any, path: DataPath) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else ""
        model = field_model(path[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(name, list(model.model_fields), n=1)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else f"; known fields: {', '.join(model.model_fields)}"
            )
        return f"unknown field {name!r}{hint}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields, got {type(error.get('input')).__name__}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _validation_issues(
    exc: ValidationError, data: dict[str, Any], provenance: Provenance
) -> list[ConfigIssue]:
    out = []
    for error in exc.errors():
        path, is_key = _clean_loc(data, error["loc"])
        message = _message(error, path)
        if is_key and path:
            message = f"key {path[-1]!r}: {message}"
        where = provenance.locate(path)
        out.append(_issue(data, path, where, "USD003", message))
    return out


# ---------------------------------------------------------------------- dump
class _Dumper(yaml.SafeDumper):
    """Block style, indented sequences, no anchors, ``|`` for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    # PyYAML mangles these line breaks in other styles, and a "|+" block (text ending in blank
    # lines) would swallow the blank line between sections: write those double-quoted.
    if any(ch in value for ch in "\r\x85\u2028\u2029") or value == "\n" or value.endswith("\n\n"):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Text(str):
    """Option, setting or resource text: written bare when it looks like a number or boolean
    (the loader keeps such text as written), so ``maxNumberOfSessions: 3`` stays readable."""

    __slots__ = ()


def _represent_text(dumper: yaml.SafeDumper, value: _Text) -> yaml.ScalarNode:
    tag = dumper.resolve(yaml.ScalarNode, str(value), (True, False))  # type: ignore[no-untyped-call]
    if tag in _TYPED_SCALAR_TAGS:
        return dumper.represent_scalar(tag, str(value))
    return _represent_str(dumper, str(value))


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    """Short lists of one-line scalars in flow style: ``action_calls: [Open, Focus]``."""
    flow = (
        bool(value)
        and all(
            isinstance(v, int | float) or (isinstance(v, str) and v.isprintable() and v.strip())
            for v in value
        )
        and sum(len(str(v)) + 2 for v in value) <= 72
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Text, _represent_text)


def _texts(value: Any) -> Any:
    if isinstance(value, dict):
        return {_texts(k): _texts(v) for k, v in value.items()}
    return _Text(value) if isinstance(value, str) else value


def dump_configuration(config: Configuration | BaseModel) -> str:
    """The canonical YAML of ``config``: schema order, defaults omitted, one blank line between
    top-level sections. Loading it gives an equal configuration."""
    data = config.model_dump(mode="python", exclude_defaults=True)
    if isinstance(config, Configuration):
        data = {"name": config.name, **data}
        for key in ("options", "user_settings", "resources"):
            if key in data:
                data[key] = _texts(data[key])
    chunks = [
        yaml.dump(
            {key: value},
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=1 << 16,
        )
        for key, value in data.items()
    ]
    return "\n".join(chunks)
