"""Window navigation rule decisions per second (``NavigationRules.decide``), against a plain loop.

For 10, 100 and 1,000 rules: the matching rule last, and no rule matching; then 1,000 rules of which
10% have a JavaScript condition whose cheap criteria (from, URL) do not match, so no condition runs.
The rules mix the criteria a real configuration uses: a ``from_control`` of another control, a
wildcard URL (``*siteN.test*``), a URL substring, an entity. The baseline is a plain Python loop doing
one string comparison per rule (the least any engine does), measured in the same run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rate

from usd_desktop.config.schema_navigation import WindowNavigationRule
from usd_desktop.core.navigation import Navigation, NavigationRules

NAV = Navigation.of_url("Web", "https://portal.test/customers/view?ref=12345&lang=fi", session_id="bench")


def miss(i: int, *, condition: bool = False) -> WindowNavigationRule:
    """A rule that does not match NAV, on one of four criteria."""
    kind = i % 4
    fields: dict[str, object]
    if kind == 0:
        fields = {"from_control": f"Other {i}"}
    elif kind == 1:
        fields = {"url": f"*site{i}.test*"}
    elif kind == 2:
        fields = {"url": f"site{i}.test/page"}
    else:
        fields = {"entity": "account"}
    if condition:
        fields["condition"] = f'"[[url]]".indexOf("site{i}") >= 0 && "[[$Context.vip]+]" == "yes"'
    return WindowNavigationRule(name=f"miss {i}", order=i, target_tab="Web", **fields)  # type: ignore[arg-type]


HIT = WindowNavigationRule(name="hit", order=100_000, url="*portal.test*", target_tab="Web")


def scenario(count: int, *, match: bool, conditions: float = 0.0) -> NavigationRules[WindowNavigationRule]:
    every = round(1 / conditions) if conditions else 0
    rules = [miss(i, condition=bool(every) and i % every == 0) for i in range(count - (1 if match else 0))]
    if match:
        rules.append(HIT)
    return NavigationRules(rules)


def baseline(count: int) -> float:
    """Decisions per second of a loop doing ``count`` string comparisons."""
    names = [f"Other {i}" for i in range(count)]
    target = NAV.from_control

    def loop() -> object:
        for name in names:
            if name == target:
                return name
        return None

    return rate(loop, batch=max(1, 20_000 // count))


def main() -> None:
    data = {"session": {"$Context": {"vip": "no"}}, "global": {}, "active": {}, "event": {}}
    print(f"{'scenario':<46} {'µs/decision':>12} {'baseline µs':>12} {'ratio':>8}")
    cases = []
    for count in (10, 100, 1000):
        cases.append((f"{count} rules, the match last", count, True, 0.0))
        cases.append((f"{count} rules, no match", count, False, 0.0))
    cases.append(("1000 rules, 10% conditions (not run), match last", 1000, True, 0.1))
    cases.append(("1000 rules, 10% conditions (not run), no match", 1000, False, 0.1))
    for label, count, match, conditions in cases:
        engine = scenario(count, match=match, conditions=conditions)
        decision = engine.decide(NAV, data)
        assert (decision.rule is not None) is match and len(decision.checks) == count
        per_second = rate(lambda engine=engine: engine.decide(NAV, data), batch=max(1, 20_000 // count))
        base = baseline(count)
        print(f"{label:<46} {1e6 / per_second:12.2f} {1e6 / base:12.2f} {base / per_second:7.1f}x")
    # For scale: one decision whose only rule runs its JavaScript condition.
    with_js = NavigationRules([WindowNavigationRule(name="js", condition='"[[url]]".indexOf("portal") >= 0')])
    per_second = rate(lambda: with_js.decide(NAV, data), batch=50)
    print(f"{'1 rule whose JavaScript condition runs':<46} {1e6 / per_second:12.2f}")


if __name__ == "__main__":
    main()
