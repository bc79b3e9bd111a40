"""The simulator's demo scenario pops real customers of the first-run demo data: each named caller is
found by their number (in the form the scenario gives it), the unknown caller is nobody, and one
number belongs to two customers, so the README's demo shows the three CTI decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from usd_desktop.app_data import FIRST_RUN_CUSTOMERS
from usd_desktop.core.paths import resources_dir
from usd_desktop.cti.adapters.simulator import DEFAULT_SCENARIO, load_scenario
from usd_desktop.data.demo import generate
from usd_desktop.data.repository import SqlRepository


@pytest.fixture(scope="module")
def first_run_data(tmp_path_factory: pytest.TempPathFactory) -> SqlRepository:
    path: Path = tmp_path_factory.mktemp("demo") / "data.db"
    repo = SqlRepository(f"sqlite:///{path}", default_region="FI")
    generate(repo, FIRST_RUN_CUSTOMERS)  # what the first start of usd-desktop makes
    return repo


def test_every_named_caller_is_the_customer_with_that_number(first_run_data: SqlRepository) -> None:
    scenario = load_scenario(resources_dir() / DEFAULT_SCENARIO)
    outcomes = []
    for index, call in enumerate(scenario.calls):
        names = sorted(m.name for m in first_run_data.find_customers_by_phone(call.ani))
        outcomes.append(len(names))
        if call.caller_name:
            assert names == [call.caller_name], f"calls[{index}] from {call.ani}: found {names}"
    assert {0, 1, 2} <= set(outcomes), f"matches per call: {outcomes}"
