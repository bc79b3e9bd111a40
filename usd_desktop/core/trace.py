"""The trace journal: every event and action call, with its resolved data, outcome and duration.

It is the debugger's source and the base of black-box tests: ``usd-desktop --trace FILE`` writes it
as JSON lines, flushed record by record, so a trace survives the process being killed.

Outcomes (the debugger's colours): ``ran`` (green), ``skipped`` by its condition (yellow),
``aborted`` on a missing replacement parameter (red), ``failed`` with an error (red), ``deferred``
(an ``ExecuteOn*`` waiting), ``abandoned`` (a deferred call that timed out or whose session closed),
``fired`` (an event).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from usd_desktop.core.signals import Signal


class Outcome(StrEnum):
    FIRED = "fired"
    RAN = "ran"
    SKIPPED = "skipped"
    ABORTED = "aborted"
    FAILED = "failed"
    DEFERRED = "deferred"
    ABANDONED = "abandoned"


@dataclass(slots=True)
class TraceRecord:
    """One line of the journal."""

    seq: int
    kind: str  # "event" | "action_call" | "action"
    name: str
    outcome: Outcome
    control: str = ""
    action: str = ""
    session_id: str = ""
    chain: str = ""
    depth: int = 0
    parent: int | None = None
    data: str = ""
    condition: str = ""
    reason: str = ""
    result: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    started: str = ""
    duration_ms: float = 0.0

    def to_json(self) -> str:
        payload = asdict(self)
        payload["outcome"] = str(self.outcome)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class TraceJournal:
    """Keeps the last ``capacity`` records in memory, tells listeners, optionally writes JSONL."""

    def __init__(self, capacity: int = 5000, path: str | Path | None = None) -> None:
        self.records: deque[TraceRecord] = deque(maxlen=capacity)
        self.recorded: Signal[TraceRecord] = Signal("trace.recorded")
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            self.open(path)

    def open(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.close()
        self._file = target.open("a", encoding="utf-8", buffering=1)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def next_seq(self) -> int:
        return next(self._seq)

    def record(self, record: TraceRecord) -> TraceRecord:
        if not record.started:
            record.started = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            self.records.append(record)
            if self._file is not None:
                self._file.write(record.to_json() + "\n")
                self._file.flush()
        self.recorded.emit(record)
        return record

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(tuple(self.records))

    def find(self, **match: Any) -> list[TraceRecord]:
        """Records whose fields equal every given value (a test helper)."""
        return [r for r in self if all(getattr(r, k) == v for k, v in match.items())]


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a trace file back (one dict per record)."""
    rows: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows
