"""The KPI tests of tests/unit/data/test_kpi.py, every one, on PostgreSQL: the same hand-built
records and known answers (the date arithmetic and time buckets are PostgreSQL's own there)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from usd_desktop.data.repository import SqlRepository

_CASES = Path(__file__).resolve().parents[2] / "unit" / "data" / "test_kpi.py"
_spec = importlib.util.spec_from_file_location("kpi_cases_for_pg", _CASES)
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

# the unit module's tests, collected here with the ``db`` fixture below
globals().update({name: value for name, value in vars(cases).items() if name.startswith("test_")})


@pytest.fixture
def db(pg_url: str) -> Iterator[object]:
    with SqlRepository(pg_url) as repo:
        yield cases.World(repo.engine)
