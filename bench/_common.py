"""Shared helpers for the benchmark programs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
