"""SoonOnce: many requests in one loop turn are one run on the next turn; none without a request."""

from __future__ import annotations

import asyncio

from usd_desktop.core.soon import SoonOnce


async def test_requests_in_one_turn_run_once_on_the_next() -> None:
    runs: list[int] = []
    soon = SoonOnce(lambda: runs.append(len(runs)))
    for _ in range(5):
        soon.request()
    assert runs == [] and soon.pending
    await asyncio.sleep(0)
    assert runs == [0] and not soon.pending
    soon.request()
    await asyncio.sleep(0)
    assert runs == [0, 1]


async def test_a_cancelled_request_does_not_run() -> None:
    runs: list[str] = []
    soon = SoonOnce(lambda: runs.append("ran"))
    soon.request()
    soon.cancel()
    await asyncio.sleep(0)
    assert runs == [] and not soon.pending


def test_without_a_loop_it_runs_at_once() -> None:
    runs: list[str] = []
    SoonOnce(lambda: runs.append("ran")).request()
    assert runs == ["ran"]
