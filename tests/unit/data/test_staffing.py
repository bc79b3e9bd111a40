"""Erlang C staffing (usd_desktop.data.staffing): the worked example of peers-cti-kpi.md §3, cases
computed by hand, monotonicity, a log-space cross-check for large queues, edge cases, forecasts, and a
brute-force discrete-event simulation of the M/M/N FIFO queue the formulas describe."""

from __future__ import annotations

import csv
import heapq
import io
import json
import math
import random
import statistics
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usd_desktop.data.staffing import (
    CSV_COLUMNS,
    DEFAULT_TARGET,
    ForecastInterval,
    ServiceLevelTarget,
    StaffingTarget,
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    evaluate,
    occupancy,
    plan_staffing,
    read_forecast,
    scheduled_agents,
    service_level,
    shortfalls,
    traffic_intensity,
)

HALF_HOUR = 1800.0


# --------------------------------------------------------------- the published worked example
# peers-cti-kpi.md §3: 100 calls per 30 min, AHT 240 s → A = 100 * 240 / 1800 = 13.33 Erlangs.
#   N = 16 → P_w 0.39, SL(20 s) 69 %, ASA 35 s
#   N = 17 → P_w 0.26, SL 81 %, ASA 17 s, occupancy 78 %
#   N = 18 → SL 89 %
#   with 30 % shrinkage schedule 17 / 0.7 ≈ 25 agents.
EXAMPLE_TRAFFIC = 100 * 240 / HALF_HOUR


@pytest.mark.parametrize(
    ("agents", "p_wait", "sl_percent", "asa_seconds"),
    [(16, 0.39, 69, 35), (17, 0.26, 81, 17), (18, None, 89, None)],
)
def test_the_published_example_to_its_stated_precision(
    agents: int, p_wait: float | None, sl_percent: int, asa_seconds: int | None
) -> None:
    assert traffic_intensity(100, 240, HALF_HOUR) == pytest.approx(13.33, abs=0.005)
    if p_wait is not None:
        assert round(erlang_c(agents, EXAMPLE_TRAFFIC), 2) == p_wait
    assert round(100 * service_level(agents, EXAMPLE_TRAFFIC, 240, 20)) == sl_percent
    if asa_seconds is not None:
        assert round(average_speed_of_answer(agents, EXAMPLE_TRAFFIC, 240)) == asa_seconds


def test_the_published_example_staffs_17_agents_and_schedules_25() -> None:
    target = StaffingTarget(ServiceLevelTarget.parse("80/20"), max_occupancy=0.85, shrinkage=0.30)
    req = agents_needed(100, 240, HALF_HOUR, target)
    assert (req.agents, req.scheduled, req.limited_by) == (17, 25, "service level")
    assert round(req.figures.occupancy * 100) == 78  # 13.33 / 17 = 0.784
    assert round(req.figures.probability_of_waiting, 2) == 0.26
    assert req.figures.service_level is not None and round(req.figures.service_level * 100) == 81
    assert round(req.figures.asa_seconds) == 17
    assert shortfalls(req.figures, target) == []
    assert shortfalls(evaluate(16, req.traffic, 240, 20), target) == ["service level 69.0% is below 80% in 20 s"]


def test_the_swpp_cross_check_pure_erlang_c_needs_24_not_23() -> None:
    # peers-cti-kpi.md §3: 400 calls/h, AHT 180 s = 20 Erlangs, 80 % in 30 s; SWPP quotes 23 agents,
    # pure Erlang C gives SL ≈ 75 % at 23 and ≈ 85 % at 24.
    traffic = traffic_intensity(400, 180, 3600)
    assert traffic == 20.0
    assert round(100 * service_level(23, traffic, 180, 30)) == 75
    assert round(100 * service_level(24, traffic, 180, 30)) == 85
    target = StaffingTarget(ServiceLevelTarget(0.80, 30), max_occupancy=1.0)
    assert agents_needed(400, 180, 3600, target).agents == 24


# ----------------------------------------------------------------------- cases computed by hand
def test_one_agent_is_the_m_m_1_queue() -> None:
    # 10 calls an hour, AHT 180 s: A = 10 * 180 / 3600 = 0.5 Erlang. With one agent Erlang C is rho:
    #   B(1) = 0.5·1 / (1 + 0.5·1) = 1/3;  C = B / (1 - rho(1 - B)) = (1/3) / (1 - 0.5·2/3) = 0.5
    #   ASA = P_w·AHT/(N - A) = 0.5 * 180 / 0.5 = 180 s
    #   SL(20 s) = 1 - 0.5·e^(-(1 - 0.5)·20/180) = 1 - 0.5·e^(-1/18) = 1 - 0.5 * 0.945959 = 0.527021
    traffic = traffic_intensity(10, 180, 3600)
    assert traffic == 0.5
    assert erlang_b(1, traffic) == pytest.approx(1 / 3)
    assert erlang_c(1, traffic) == pytest.approx(0.5)
    assert average_speed_of_answer(1, traffic, 180) == pytest.approx(180.0)
    assert service_level(1, traffic, 180, 20) == pytest.approx(0.527021, abs=1e-6)
    assert occupancy(1, traffic) == 0.5


def test_two_agents_one_erlang() -> None:
    # 6 calls per 30 min, AHT 300 s: A = 6 * 300 / 1800 = 1 Erlang, N = 2.
    #   From the formula: A^N/N! · N/(N - A) = 1/2 * 2/1 = 1; Σ_{k<2} A^k/k! = 1 + 1 = 2;
    #   P_w = 1 / (2 + 1) = 1/3. (Erlang B: 0.5 / (1 + 1 + 0.5) = 0.2, and 0.2 / (1 - 0.5 * 0.8) = 1/3.)
    #   ASA = (1/3) * 300 / (2 - 1) = 100 s
    #   SL(60 s) = 1 - (1/3)·e^(-1 * 60/300) = 1 - 0.818731/3 = 0.727090
    traffic = traffic_intensity(6, 300, HALF_HOUR)
    assert traffic == 1.0
    assert erlang_b(2, traffic) == pytest.approx(0.2)
    assert erlang_c(2, traffic) == pytest.approx(1 / 3)
    assert average_speed_of_answer(2, traffic, 300) == pytest.approx(100.0)
    assert service_level(2, traffic, 300, 60) == pytest.approx(0.727090, abs=1e-6)
    assert occupancy(2, traffic) == 0.5


# 15 calls per 30 min, AHT 240 s: A = 15 * 240 / 1800 = 2 Erlangs.
#   N = 3: A^3/3! · 3/(3 - 2) = 8/6 * 3 = 4; Σ_{k<3} = 1 + 2 + 2 = 5; P_w = 4/9 = 0.444444
#          ASA = (4/9) * 240 / 1 = 106.667 s; SL(20) = 1 - (4/9)·e^(-20/240) = 1 - 0.444444 * 0.920044 = 0.591092
#   N = 4: A^4/4! · 4/(4 - 2) = 16/24 * 2 = 4/3; Σ_{k<4} = 5 + 8/6 = 19/3; P_w = (4/3)/(23/3) = 4/23 = 0.173913
#          ASA = (4/23) * 240 / 2 = 20.870 s; SL(20) = 1 - (4/23)·e^(-2·20/240) = 1 - 0.173913 * 0.846482 = 0.852786
HAND = {3: (4 / 9, 0.591092, 320 / 3), 4: (4 / 23, 0.852786, 480 / 23)}


@pytest.mark.parametrize("agents", [3, 4])
def test_two_erlangs_by_hand(agents: int) -> None:
    p_wait, sl, asa = HAND[agents]
    assert erlang_c(agents, 2.0) == pytest.approx(p_wait)
    assert service_level(agents, 2.0, 240, 20) == pytest.approx(sl, abs=1e-6)
    assert average_speed_of_answer(agents, 2.0, 240) == pytest.approx(asa)


def test_two_erlangs_staffing_by_hand() -> None:
    # 80/20: N = 3 gives 59.1 %, N = 4 gives 85.3 % → 4 agents; 35 % shrinkage: ⌈4 / 0.65⌉ = ⌈6.15⌉ = 7.
    req = agents_needed(15, 240, HALF_HOUR, StaffingTarget(ServiceLevelTarget(0.8, 20), shrinkage=0.35))
    assert (req.agents, req.scheduled, req.limited_by) == (4, 7, "service level")
    assert req.figures.occupancy == 0.5
    # 50/20 is met by 3 (59.1 %); with occupancy at most 70 %: ⌈2 / 0.7⌉ = ⌈2.86⌉ = 3 too → the service level
    # is named; at most 60 %: ⌈2 / 0.6⌉ = ⌈3.33⌉ = 4 → occupancy sets it.
    half = ServiceLevelTarget(0.5, 20)
    assert agents_needed(15, 240, HALF_HOUR, StaffingTarget(half, max_occupancy=0.7)).agents == 3
    assert agents_needed(15, 240, HALF_HOUR, StaffingTarget(half, max_occupancy=0.7)).limited_by == "service level"
    req = agents_needed(15, 240, HALF_HOUR, StaffingTarget(half, max_occupancy=0.6))
    assert (req.agents, req.limited_by) == (4, "occupancy")
    # ASA at most 30 s (no service level): 106.7 s at 3, 20.9 s at 4 → 4; at most 110 s → 3.
    req = agents_needed(15, 240, HALF_HOUR, StaffingTarget(None, max_asa_seconds=30))
    assert (req.agents, req.limited_by, req.figures.service_level) == (4, "ASA", None)
    assert agents_needed(15, 240, HALF_HOUR, StaffingTarget(None, max_asa_seconds=110)).agents == 3
    # Both: each must hold, so the larger: 50/20 needs 3, ASA ≤ 30 s needs 4.
    assert agents_needed(15, 240, HALF_HOUR, StaffingTarget(half, max_asa_seconds=30)).agents == 4


def test_occupancy_and_stability_alone() -> None:
    # 100 calls * 180 s / 1800 s = 10 Erlangs, no service-level or ASA target:
    # occupancy ≤ 80 % → ⌈10 / 0.8⌉ = ⌈12.5⌉ = 13; ≤ 100 % → only stability, N > 10 → 11.
    req = agents_needed(100, 180, HALF_HOUR, StaffingTarget(None, max_occupancy=0.8))
    assert (req.agents, req.limited_by) == (13, "occupancy")
    req = agents_needed(100, 180, HALF_HOUR, StaffingTarget(None, max_occupancy=1.0))
    assert (req.agents, req.limited_by) == (11, "stability")
    assert req.figures.stable and req.figures.occupancy == pytest.approx(10 / 11)
    # exactly on the cap: 8.5 Erlangs at ≤ 85 % → 10 agents (not 11).
    assert agents_needed(85, 180, HALF_HOUR, StaffingTarget(None, max_occupancy=0.85)).agents == 10


def test_shrinkage_rounds_up_but_not_past_an_exact_quotient() -> None:
    assert scheduled_agents(17, 0.30) == 25  # 17 / 0.7 = 24.29
    assert scheduled_agents(14, 0.30) == 20  # 14 / 0.7 = 20 (20.000000000000004 in floating point)
    assert scheduled_agents(5, 0.0) == 5
    assert scheduled_agents(0, 0.3) == 0


# ------------------------------------------------------------------- properties and large queues
@settings(max_examples=150, deadline=None)
@given(st.floats(0.01, 500), st.integers(0, 40), st.floats(1, 1200), st.floats(0, 300))
def test_more_agents_wait_less(traffic: float, extra: int, aht: float, answer: float) -> None:
    agents = math.floor(traffic) + 1 + extra
    more = agents + 1
    assert erlang_b(agents, traffic) <= erlang_c(agents, traffic) <= 1
    # strictly better while P_w is above the floating-point floor; never worse
    if erlang_c(more, traffic) > 1e-250:
        assert erlang_c(more, traffic) < erlang_c(agents, traffic)
        assert average_speed_of_answer(more, traffic, aht) < average_speed_of_answer(agents, traffic, aht)
    assert erlang_c(more, traffic) <= erlang_c(agents, traffic)
    assert average_speed_of_answer(more, traffic, aht) <= average_speed_of_answer(agents, traffic, aht)
    assert service_level(more, traffic, aht, answer) >= service_level(agents, traffic, aht, answer)
    assert occupancy(more, traffic) < occupancy(agents, traffic)
    assert service_level(agents, traffic, aht, answer + 10) >= service_level(agents, traffic, aht, answer)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0, 2000),
    st.floats(1, 900),
    st.sampled_from([0.5, 0.8, 0.9, 0.95]),
    st.sampled_from([0, 10, 20, 60]),
    st.one_of(st.none(), st.floats(1, 120)),
    st.floats(0.5, 1.0),
)
def test_the_requirement_is_the_smallest_that_meets_the_target(
    calls: float, aht: float, fraction: float, seconds: float, max_asa: float | None, max_occ: float
) -> None:
    target = StaffingTarget(ServiceLevelTarget(fraction, seconds), max_asa, max_occ, shrinkage=0.25)
    req = agents_needed(calls, aht, HALF_HOUR, target)
    assert shortfalls(req.figures, target) == []
    assert req.scheduled == scheduled_agents(req.agents, 0.25) >= req.agents
    if calls > 0:
        assert req.figures.stable and req.agents > req.traffic
        fewer = evaluate(req.agents - 1, req.traffic, aht, seconds)
        assert shortfalls(fewer, target) != []
        # more calls never need fewer agents
        assert agents_needed(calls * 1.1 + 1, aht, HALF_HOUR, target).agents >= req.agents
    else:
        assert (req.agents, req.limited_by) == (0, "no calls")


def _erlang_c_in_log_space(agents: int, traffic: float) -> float:
    """The textbook formula of peers-cti-kpi.md §3 with every term as a logarithm (lgamma for N!)."""
    log_terms = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    log_top = agents * math.log(traffic) - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    peak = max([*log_terms, log_top])
    total = sum(math.exp(t - peak) for t in log_terms) + math.exp(log_top - peak)
    return math.exp(log_top - peak) / total


@pytest.mark.parametrize(("agents", "traffic"), [(17, 40 / 3), (2, 1.0), (250, 230.5), (3000, 2950.0)])
def test_large_queues_do_not_overflow_and_match_the_textbook_formula(agents: int, traffic: float) -> None:
    # 3000! overflows a float (and A^N too): the Erlang B recursion never forms either.
    p_wait = erlang_c(agents, traffic)
    assert 0 < p_wait < 1
    assert p_wait == pytest.approx(_erlang_c_in_log_space(agents, traffic), rel=1e-9)


def test_a_large_forecast_interval_is_staffed() -> None:
    # 20,000 calls * 300 s / 1800 s = 3,333 Erlangs. A big queue pools well: 80/20 needs barely more
    # agents than Erlangs, so the 85 % occupancy cap sets the number: ⌈3333.33 / 0.85⌉ = ⌈3921.6⌉ = 3922.
    req = agents_needed(20_000, 300, HALF_HOUR, DEFAULT_TARGET)
    assert req.traffic == pytest.approx(3333.33, abs=0.01)
    assert (req.agents, req.limited_by) == (3922, "occupancy")
    assert shortfalls(req.figures, DEFAULT_TARGET) == []
    uncapped = StaffingTarget(max_occupancy=1.0)
    req = agents_needed(20_000, 300, HALF_HOUR, uncapped)
    assert req.limited_by == "service level"
    assert req.traffic < req.agents < req.traffic * 1.02
    assert shortfalls(req.figures, uncapped) == []
    assert shortfalls(evaluate(req.agents - 1, req.traffic, 300, 20), uncapped) != []


# -------------------------------------------------------------------------------------- edges
def test_no_calls_need_no_agents() -> None:
    req = agents_needed(0, 240, HALF_HOUR, StaffingTarget(shrinkage=0.3))
    assert (req.agents, req.scheduled, req.limited_by) == (0, 0, "no calls")
    f = req.figures
    assert (f.probability_of_waiting, f.service_level, f.asa_seconds, f.occupancy, f.stable) == (0, 1, 0, 0, True)
    assert agents_needed(0, 0, HALF_HOUR).agents == 0  # no calls: the AHT does not matter


def test_traffic_at_or_above_the_agents_is_unstable_and_never_meets_a_target() -> None:
    lenient = StaffingTarget(ServiceLevelTarget(0.01, 3600), max_asa_seconds=1e9, max_occupancy=1.0)
    for agents in (0, 5, 10):
        f = evaluate(agents, 10.0, 180, 20)
        assert not f.stable
        assert (f.probability_of_waiting, f.service_level, f.asa_seconds, f.occupancy) == (1, 0, math.inf, 1)
        assert shortfalls(f, lenient) == [f"unstable: 10.00 Erlangs need more than {agents} agents"]
    # 10 Erlangs exactly: never 10 agents, even with no target but stability
    assert agents_needed(100, 180, HALF_HOUR, StaffingTarget(None, max_occupancy=1.0)).agents == 11


def test_a_trickle_of_calls_needs_one_agent() -> None:
    # 1 call * 180 s / 1800 s = 0.1 Erlang: P_w = 0.1, SL(20) = 1 - 0.1·e^(-0.9 * 20/180) = 0.9095
    req = agents_needed(1, 180, HALF_HOUR)
    assert (req.agents, req.limited_by) == (1, "service level")
    assert req.figures.service_level == pytest.approx(1 - 0.1 * math.exp(-0.1), abs=1e-9)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: agents_needed(-1, 180, HALF_HOUR), "calls"),
        (lambda: agents_needed(math.nan, 180, HALF_HOUR), "calls"),
        (lambda: agents_needed("100", 180, HALF_HOUR), "calls"),  # type: ignore[arg-type]
        (lambda: agents_needed(10**9, 180, HALF_HOUR), "calls"),  # 10⁸ Erlangs: beyond MAX_AGENTS
        (lambda: agents_needed(100, 0, HALF_HOUR), "aht_seconds"),
        (lambda: agents_needed(100, -5, HALF_HOUR), "aht_seconds"),
        (lambda: agents_needed(100, math.inf, HALF_HOUR), "aht_seconds"),
        (lambda: agents_needed(100, 180, 0), "interval_seconds"),
        (lambda: agents_needed(100, 180, HALF_HOUR, "80/20"), "target"),  # type: ignore[arg-type]
        (lambda: StaffingTarget(shrinkage=1.0), "shrinkage"),
        (lambda: StaffingTarget(shrinkage=-0.1), "shrinkage"),
        (lambda: StaffingTarget(max_occupancy=0), "max_occupancy"),
        (lambda: StaffingTarget(max_occupancy=1.2), "max_occupancy"),
        (lambda: StaffingTarget(max_asa_seconds=0), "max_asa_seconds"),
        (lambda: ServiceLevelTarget(1.0, 20), "service level"),
        (lambda: ServiceLevelTarget(0.8, -1), "service level seconds"),
        (lambda: erlang_c(-1, 2.0), "agents"),
        (lambda: erlang_c(2.5, 2.0), "agents"),  # type: ignore[arg-type]
        (lambda: erlang_c(True, 2.0), "agents"),
        (lambda: erlang_c(3, -2.0), "traffic"),
        (lambda: service_level(3, 2.0, 240, -1), "answer_seconds"),
        (lambda: scheduled_agents(3, 1.0), "shrinkage"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(ValueError) as raised:
        call()  # type: ignore[operator]
    assert str(raised.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("text", "fraction", "seconds"),
    [("80/20", 0.8, 20.0), ("80%/20s", 0.8, 20.0), (" 90 / 15 ", 0.9, 15.0), ("99.5/0", 0.995, 0.0)],
)
def test_service_level_targets_parse(text: str, fraction: float, seconds: float) -> None:
    target = ServiceLevelTarget.parse(text)
    assert target.fraction == pytest.approx(fraction)
    assert target.seconds == seconds


@pytest.mark.parametrize("text", ["80", "80-20", "abc", "100/20", "0/20", "8.0.1/20", ""])
def test_bad_service_level_targets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"^service level: "):
        ServiceLevelTarget.parse(text)


# ------------------------------------------------------------------------------------ forecasts
FORECAST = """\ufeffAHT,Interval,calls,note
240,08:00,20,
250,08:30,60,

240,09:00,100,peak
,09:30,0,closed
200,10:00,130,
"""


def test_a_forecast_reads_and_plans() -> None:
    intervals = read_forecast(FORECAST)
    assert [i.label for i in intervals] == ["08:00", "08:30", "09:00", "09:30", "10:00"]
    assert intervals[3] == ForecastInterval("09:30", 0.0, 0.0)
    plan = plan_staffing(intervals, HALF_HOUR, StaffingTarget(shrinkage=0.3))
    assert [r.agents for r in plan.rows] == [5, 12, 17, 0, 18]
    assert [r.scheduled for r in plan.rows] == [8, 18, 25, 0, 26]
    assert plan.rows[2] == agents_needed(100, 240, HALF_HOUR, StaffingTarget(shrinkage=0.3), label="09:00")
    assert (plan.peak.label, plan.peak.agents, plan.peak.scheduled) == ("10:00", 18, 26)
    assert plan.total_calls == 310
    assert plan.agent_hours == (5 + 12 + 17 + 18) / 2
    assert plan.scheduled_hours == (8 + 18 + 25 + 26) / 2
    expected_sl = sum(r.calls * (r.figures.service_level or 0) for r in plan.rows) / 310
    assert plan.service_level == pytest.approx(expected_sl)
    assert plan.service_level is not None and plan.service_level >= 0.8


def test_a_plan_exports_csv_and_json() -> None:
    plan = plan_staffing(read_forecast(FORECAST), HALF_HOUR)
    rows = list(csv.DictReader(io.StringIO(plan.to_csv())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[2]["interval"] == "09:00" and rows[2]["agents"] == "17" and rows[2]["traffic_erlangs"] == "13.3333"
    assert rows[3]["limited_by"] == "no calls"
    data = json.loads(json.dumps(plan.as_dict(), allow_nan=False))
    assert data["totals"]["peak_interval"] == "10:00"
    assert [row["agents"] for row in data["intervals"]] == [5, 12, 17, 0, 18]
    assert data["target"] == {"service_level": 0.8, "answer_seconds": 20.0, "max_asa_seconds": None,
                              "max_occupancy": 0.85, "shrinkage": 0.0}


def test_a_default_aht_fills_empty_cells_and_a_missing_column() -> None:
    intervals = read_forecast("interval,calls\n08:00,10\n08:30,12\n", default_aht=200)
    assert [(i.calls, i.aht_seconds) for i in intervals] == [(10, 200), (12, 200)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval,calls\n08:00,10\n", "forecast: the header must name the columns interval, calls and aht; missing: aht"),
        ("when,calls,aht\n08:00,10,180\n", "missing: interval"),
        ("interval,calls,aht\n", "forecast: has no intervals"),
        ("", "missing: interval, calls, aht"),
        ("interval,calls,aht\n08:00,10,180\n08:30,ten,180\n", "line 3: calls: not a number: 'ten'"),
        ("interval,calls,aht\n08:00,-1,180\n", "line 2: calls: must be a finite number, zero or more, not '-1'"),
        ("interval,calls,aht\n08:00,10,inf\n", "line 2: aht: must be a finite number"),
        ("interval,calls,aht\n08:00,10,\n", "line 2: aht: empty (and no default AHT given)"),
    ],
)
def test_a_bad_forecast_names_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        read_forecast(text)
    assert message in str(raised.value)


def test_a_bad_interval_is_named_in_the_plan() -> None:
    with pytest.raises(ValueError, match=r"^interval 08:30: aht_seconds: must be more than zero"):
        plan_staffing([ForecastInterval("08:00", 10, 180), ForecastInterval("08:30", 10, 0)], HALF_HOUR)
    with pytest.raises(ValueError, match=r"^interval_seconds: "):
        plan_staffing([ForecastInterval("08:00", 10, 180)], 0)
    with pytest.raises(ValueError, match=r"^forecast: has no intervals"):
        plan_staffing([], HALF_HOUR)


# -------------------------------------------------------------------- brute-force simulation
# An M/M/N FIFO queue, simulated call by call: Poisson arrivals (exponential gaps, rate A per AHT),
# exponential handle times (mean 1 AHT), one queue served first come first served by N agents, no
# abandonment. A call starts when it arrives or when the earliest agent frees up, whichever is later,
# so a heap of the agents' next free times is the whole simulation.
#
# Tolerance: the calls of one run are correlated (a busy spell makes neighbours wait), so the standard
# error comes from batch means: the measured calls are cut into 20 batches of 10,000 to 20,000 calls, far
# longer than the queue's memory (a busy spell of the worked example lasts tens of calls), so the batch
# means are close to independent and (mean - truth) / SE follows Student's t with 19 degrees of freedom.
# The test asks for |z| ≤ 4.5: a correct formula fails one of the 12 comparisons with probability
# about 12 * P(|t₁₉| > 4.5) ≈ 12 * 2.4e-4 ≈ 0.3 % for an arbitrary seed. (The SE is honest: over 40 seeds
# of the worked example and of M/M/1, z had a standard deviation of 0.93 to 1.00 and |z| never exceeded
# 2.6; with the seeds below the largest |z| is 2.3.) The seeds are fixed, so the test is deterministic.
# It also has power: each SE must be small (≤ 0.01 for a probability, ≤ 0.02 AHT for the ASA; measured
# 0.0015 to 0.0062, and 0.002 to 0.010 AHT), so a wrong formula cannot hide in the noise; the N - 1
# staffing and Erlang B (the loss formula a careless port would use) are each refused by more than 8 SE
# (measured 18 to 104).
@dataclass(frozen=True)
class Measured:
    mean: float
    se: float

    def z(self, expected: float) -> float:
        return (self.mean - expected) / self.se


def _simulate(agents: int, traffic: float, answer: float, calls: int, seed: int) -> dict[str, Measured]:
    """P(wait), SL(answer) and ASA (in AHTs) measured on ``calls`` calls after a warm-up of 2,000."""
    rng = random.Random(seed)
    free = [0.0] * agents
    now = 0.0
    warm_up = 2_000
    waits: list[float] = []
    for i in range(warm_up + calls):
        now += rng.expovariate(traffic)  # arrivals per AHT = A
        start = max(now, free[0])
        heapq.heapreplace(free, start + rng.expovariate(1.0))
        if i >= warm_up:
            waits.append(start - now)
    batches = 20
    size = calls // batches
    chunks = [waits[b * size:(b + 1) * size] for b in range(batches)]

    def measure(value: object) -> Measured:
        means = [statistics.fmean(map(value, chunk)) for chunk in chunks]  # type: ignore[call-overload]
        return Measured(statistics.fmean(means), statistics.stdev(means) / math.sqrt(batches))

    return {
        "p_wait": measure(lambda w: w > 0),
        "service_level": measure(lambda w: w <= answer),
        "asa": measure(lambda w: w),
    }


SIMULATED = [
    # agents, traffic (Erlangs), answer time (AHTs), calls, seed
    pytest.param(17, EXAMPLE_TRAFFIC, 20 / 240, 400_000, 11, id="the worked example: 17 agents, 13.33 E, 20 s of 240"),
    pytest.param(24, 20.0, 30 / 180, 300_000, 12, id="the SWPP case: 24 agents, 20 E, 30 s of 180"),
    pytest.param(2, 1.0, 60 / 300, 200_000, 13, id="two agents, 1 E, 60 s of 300"),
    pytest.param(1, 0.5, 20 / 180, 200_000, 14, id="M/M/1, 0.5 E, 20 s of 180"),
]


@pytest.mark.parametrize(("agents", "traffic", "answer", "calls", "seed"), SIMULATED)
def test_the_formulas_match_a_simulated_queue(
    agents: int, traffic: float, answer: float, calls: int, seed: int
) -> None:
    measured = _simulate(agents, traffic, answer, calls, seed)
    expected = {
        "p_wait": erlang_c(agents, traffic),
        "service_level": service_level(agents, traffic, 1.0, answer),
        "asa": average_speed_of_answer(agents, traffic, 1.0),
    }
    for name, value in expected.items():
        m = measured[name]
        assert m.se <= (0.02 if name == "asa" else 0.01), (name, m)
        assert abs(m.z(value)) <= 4.5, (name, m, value)
    # power: neither one agent fewer nor the Erlang B loss probability passes for the measured queue
    p_wait = measured["p_wait"]
    assert abs(p_wait.z(erlang_b(agents, traffic))) > 8
    if agents - 1 > traffic:
        assert abs(p_wait.z(erlang_c(agents - 1, traffic))) > 8
