"""Shared helpers for the benchmark programs."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def rate(func: Callable[[], object], *, seconds: float = 1.0, batch: int = 200) -> float:
    """Calls per second of ``func``, over about ``seconds`` (best of three windows)."""
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        while True:
            for _ in range(batch):
                func()
            count += batch
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 3:
                break
        best = max(best, count / elapsed)
    return best


def summary(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.3f} s (min {min(samples):.3f}, max {max(samples):.3f})"


@contextmanager
def database(args: argparse.Namespace, name: str) -> Iterator[str]:
    """The benchmark's data URL: ``--data URL``, else the SQLite file ``--reuse PATH`` (kept for
    the next run), else a temporary SQLite file ``<name>.db``."""
    if args.data:
        yield args.data
    elif args.reuse:
        Path(args.reuse).parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{Path(args.reuse).resolve()}"
    else:
        with tempfile.TemporaryDirectory(prefix=f"usd-{name}-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / f'{name}.db'}"
